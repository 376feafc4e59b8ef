#!/usr/bin/env bash
# Installs everything varmor-ts needs on a fresh Debian 12 machine, then builds it.
# Idempotent: packages already present are not fetched again. Used by the README's two
# commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev  # BPF programs + N-API addon
  make gcc g++ python3                                                # node-gyp (addon build), layout test
  containerd runc busybox-static libseccomp-dev seccomp               # real containers, seccomp
  apparmor                                                            # apparmor_parser -Q -K; also carried into the qemu guest
  gcc libc6-dev                                                       # static seccomp probe for runc tests
  qemu-system-x86 gcc libc6-dev xz-utils                              # BPF LSM enforcement guest (+ its static vprobe helper, compressed modules)
  etcd-server iproute2 iptables conntrack kmod containernetworking-plugins                      # local Kubernetes for e2e
)
# The qemu guest boots Debian's own 6.1 kernel (BPF LSM on); pinned ABI for reproducible runs.
GUEST_KERNEL_PKG="${GUEST_KERNEL_PKG:-linux-image-6.1.0-56-amd64}"

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The kernel image and the one module the guest loads (overlayfs, for the containers' root file
# systems); testing/guest/kernel.ts does the same when they are missing.
mkdir -p .cache/kernel
if ! ls .cache/kernel/vmlinuz-* >/dev/null 2>&1 || [ ! -f .cache/kernel/overlay.ko ]; then
  echo "setup: fetching guest kernel $GUEST_KERNEL_PKG"
  (cd .cache/kernel && apt-get download "$GUEST_KERNEL_PKG" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "$GUEST_KERNEL_PKG" >/dev/null; })
  deb=$(ls .cache/kernel/*.deb | head -1)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C .cache/kernel --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/overlay.ko'
  mv .cache/kernel/boot/vmlinuz-* .cache/kernel/ && mv .cache/kernel/lib/modules/*/kernel/fs/overlayfs/overlay.ko .cache/kernel/
  rm -rf .cache/kernel/boot .cache/kernel/lib "$deb"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
if [ -f native/binding.gyp ]; then npm run --silent build:native >/dev/null; fi
npm run --silent build:hook   # the OCI createRuntime hook runc calls (static C)
echo "setup: done"
