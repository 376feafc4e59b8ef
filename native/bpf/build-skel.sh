#!/bin/sh
# Builds the BPF object and its libbpf skeleton header into $1 (node-gyp's intermediate dir).
# vmlinux.h comes from this kernel's BTF unless one is committed beside this script; the
# programs use CO-RE, so the object also loads on other kernels (the qemu guest's 6.1).
set -eu
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
if [ -f "$here/vmlinux.h" ]; then
  cp "$here/vmlinux.h" "$out/vmlinux.h"
elif [ ! -s "$out/vmlinux.h" ]; then
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$out/vmlinux.h.tmp"
  mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$out" -I"$here/.." \
  -Wall -Wno-unused-function -Wno-incompatible-pointer-types-discards-qualifiers \
  -c "$here/varmor.bpf.c" -o "$out/varmor.bpf.o"
llvm-strip -g "$out/varmor.bpf.o"   # keep BTF, drop DWARF (2 MB otherwise)
bpftool gen skeleton "$out/varmor.bpf.o" name varmor > "$out/varmor.skel.h"
