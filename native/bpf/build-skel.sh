#!/bin/sh
# Builds the BPF object and its libbpf skeleton header into $1 (node-gyp's intermediate dir).
# $2: the target architecture as libbpf names it (x86, arm64; default: this machine's), passed as
# -D__TARGET_ARCH_$2 (lib/syscall.h picks the syscall numbers and registers by it, as Tetragon does).
# vmlinux.h comes from this kernel's BTF unless one is committed beside this script; the
# programs use CO-RE, so the object also loads on other kernels (the qemu guest's 6.1). Built for
# another architecture than this machine's, the object gets -DVT_FOREIGN_VMLINUX: this
# vmlinux.h lacks that architecture's register structs, which lib/syscall.h then declares.
set -eu
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
case "$(uname -m)" in
  x86_64) host=x86 ;;
  aarch64) host=arm64 ;;
  *) host="$(uname -m)" ;;
esac
arch="${2:-$host}"
foreign=""
[ "$arch" = "$host" ] || foreign="-DVT_FOREIGN_VMLINUX"
mkdir -p "$out"
if [ -f "$here/vmlinux.h" ]; then
  cp "$here/vmlinux.h" "$out/vmlinux.h"
elif [ ! -s "$out/vmlinux.h" ]; then
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$out/vmlinux.h.tmp"
  mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi
clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" $foreign -I"$out" -I"$here/.." \
  -Wall -Wno-unused-function -Wno-incompatible-pointer-types-discards-qualifiers \
  -c "$here/varmor.bpf.c" -o "$out/varmor.bpf.o"
llvm-strip -g "$out/varmor.bpf.o"   # keep BTF, drop DWARF (2 MB otherwise)
bpftool gen skeleton "$out/varmor.bpf.o" name varmor > "$out/varmor.skel.h"
