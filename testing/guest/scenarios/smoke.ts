// The harness's own check: the guest booted the intended kernel with the BPF LSM active, node
// runs, cgroup v2 ids are inode numbers, and vprobe reports both outcomes.

import { readFileSync } from 'node:fs';
import { attempt, makeCgroup } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';

export const cases: GuestCase[] = [
  {
    name: 'smoke: kernel and lsm',
    async run() {
      return {
        kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
        lsm: readFileSync('/sys/kernel/security/lsm', 'utf8').trim().split(','),
        node: process.version,
      };
    },
  },
  {
    name: 'smoke: vprobe in a cgroup',
    async run() {
      const cg = makeCgroup('smoke');
      const procs = await attempt(['open', `${cg.path}/cgroup.procs`, 'r'], cg.path);
      return {
        cgroupId: cg.id,
        openPasswd: await attempt(['open', '/etc/passwd', 'r'], cg.path),
        openMissing: await attempt(['open', '/nonexistent', 'r'], cg.path),
        procs,
      };
    },
  },
];
