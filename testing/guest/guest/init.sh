#!/bin/busybox sh
# PID 1 of the test guest: mount what the BPF LSM tests need, run the suite named on the
# kernel command line (varmor.suite=NAME) with node, then power off. Output goes to ttyS0.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t securityfs securityfs /sys/kernel/security
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
ip link set lo up
# overlayfs, as containers' root file systems use it (a module in Debian's kernel; see kernel.ts)
[ -f /lib/modules/overlay.ko ] && insmod /lib/modules/overlay.ko
suite=$(sed -n 's/.*varmor\.suite=\([^ ]*\).*/\1/p' /proc/cmdline)
cd /app && node /app/testing/guest/guest/runner.js "$suite"
echo "VARMOR-GUEST {\"type\":\"info\",\"key\":\"runner-exit\",\"value\":$?}"
poweroff -f
