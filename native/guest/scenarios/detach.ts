// Lifecycle in the kernel: the probe reports the BPF LSM usable, the tp_btf audit mode records
// "would deny" without denying, and detach leaves no program attached and nothing enforced.

import { readdirSync, writeFileSync } from 'node:fs';
import { probe as probeKernel } from '../../index.js';
import { Fixture } from '../guest/bpf.js';
import { attempt, probe, sleep } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';

// BPF_PROG_TYPE_TRACING = 26 (tp_btf), BPF_PROG_TYPE_LSM = 29
const OUR_PROG_TYPES = new Set([26, 29]);

async function ourPrograms(): Promise<string[]> {
  const { detail } = await probe(['progs']);
  return detail.split(' ').filter((p) => p && OUR_PROG_TYPES.has(Number(p.split(':')[1])));
}

export const cases: GuestCase[] = [
  {
    name: 'probe: the guest kernel can enforce',
    async run() {
      return probeKernel();
    },
  },
  {
    name: 'audit mode (tp_btf): reports would-deny, denies nothing',
    async run() {
      const f = '/tmp/audit-mode-secret';
      writeFileSync(f, 'x');
      const fx = new Fixture('audit');
      try {
        const p = fx.protect('audit-mode', { bpfRawRules: { processes: [{ pattern: '/bin/busybox', permissions: ['exec'], qualifiers: ['deny'] }] } });
        const inside = await attempt(['exec', '/bin/true'], p.cg.path);
        const events = fx.events().filter((e) => e.policyId === p.policyId);
        return { inside, cgroupId: p.cg.id, events };
      } finally {
        fx.detach();
      }
    },
  },
  {
    name: 'detach: nothing left attached or enforced',
    async run() {
      const f = '/tmp/detach-secret';
      writeFileSync(f, 'x');
      const fx = new Fixture('enforce');
      const p = fx.protect('detach', { bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] } });
      const before = await attempt(['open', f, 'r'], p.cg.path);
      const programsAttached = (await ourPrograms()).length;
      fx.detach();
      const after = await attempt(['open', f, 'r'], p.cg.path);
      // The kernel frees programs asynchronously after the last reference goes: poll.
      let left = await ourPrograms();
      for (let i = 0; i < 50 && left.length; i++) {
        await sleep(100);
        left = await ourPrograms();
      }
      return { before, after, programsAttached, programsLeft: left, bpffs: readdirSync('/sys/fs/bpf') };
    },
  },
];
