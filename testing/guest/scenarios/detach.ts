// Lifecycle in the kernel: the probe reports the BPF LSM usable, the tp_btf audit mode records
// "would deny" without denying, and detach leaves no program attached and nothing enforced.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { BpfEnforcer, probe as probeKernel } from '../../../native/index.js';
import { Fixture, tablesFor } from '../guest/bpf.js';
import { attempt, makeCgroup, probe, sh, sleep } from '../guest/lib.js';
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
    name: 'pinning: enforcement outlives the agent process, a new one adopts the pins',
    // a second node process loads and verifies every program, then this one adopts the pins: under
    // TCG on 6.12 (whose verifier is slower here) that first load ran past sh()'s default 60 s
    timeoutMs: 300_000,
    async run() {
      const pin = '/sys/fs/bpf/varmor-test';
      const f = '/tmp/pin-secret';
      writeFileSync(f, 'x');
      // Programs of the earlier audit-mode case may still be on their way out: wait for none.
      let before = await ourPrograms();
      for (let i = 0; i < 50 && before.length; i++) {
        await sleep(100);
        before = await ourPrograms();
      }
      const programsBefore = before.length;
      const { policyId, tables } = tablesFor('varmor-guest-pin', {
        privileged: true,
        bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      writeFileSync('/tmp/pin-tables.bin', tables);
      const cg = makeCgroup('p-pin');
      // A first "agent": attach pinned, load, bind, and exit without detaching.
      writeFileSync(
        '/tmp/pin-agent.mjs',
        `import { readFileSync } from 'node:fs';
import { BpfEnforcer } from '/app/native/index.js';
const e = new BpfEnforcer({ mode: 'enforce', pinPath: '${pin}' });
e.attach();
e.loadPolicy(${policyId}, readFileSync('/tmp/pin-tables.bin'));
e.bindCgroup(${cg.id}n, ${policyId});
`,
      );
      const firstAgent = await sh('node /tmp/pin-agent.mjs', 200_000);
      const programsAfterExit = (await ourPrograms()).length;
      const afterExit = await attempt(['open', f, 'r'], cg.path);
      // The next "agent" adopts what is pinned instead of loading a second set.
      const e = new BpfEnforcer({ mode: 'enforce', pinPath: pin });
      e.attach();
      const programsAdopted = (await ourPrograms()).length;
      const adoptedBinding = e.bindings().get(cg.id);
      const afterAdopt = await attempt(['open', f, 'r'], cg.path);
      e.detach({ unpin: true });
      const afterUnpin = await attempt(['open', f, 'r'], cg.path);
      let left = await ourPrograms();
      for (let i = 0; i < 50 && left.length > programsBefore; i++) {
        await sleep(100);
        left = await ourPrograms();
      }
      return {
        firstAgent: { code: firstAgent.code, stderr: firstAgent.stderr },
        programsBefore,
        programsAfterExit,
        afterExit,
        programsAdopted,
        adoptedBinding,
        policyId,
        afterAdopt,
        afterUnpin,
        programsLeft: left.length,
        pinDir: existsSync(pin) ? readdirSync(pin) : [],
      };
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
