// The programs' lifecycle across agents (issue 17): an agent of another build finds the pins of
// an older one and swaps every pinned link to its own programs, with a loop inside a protected
// cgroup checking that the denied open is refused at every instant of the swap; then uninstall
// removes every pin and nothing stays attached or enforced.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as native from '../../../native/index.js';
import { BpfEnforcer } from '../../../native/index.js';
import { tablesFor } from '../guest/bpf.js';
import { attempt, makeCgroup, probe, sleep } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';

const PIN = '/sys/fs/bpf/varmor-upgrade';
const SECRET = '/tmp/upgrade-secret';
// BPF_PROG_TYPE_TRACING = 26 (tp_btf, fentry/fexit), BPF_PROG_TYPE_LSM = 29
const OUR_PROG_TYPES = new Set([26, 29]);

async function ourPrograms(): Promise<number[]> {
  const { detail } = await probe(['progs']);
  return detail
    .split(' ')
    .filter((p) => p && OUR_PROG_TYPES.has(Number(p.split(':')[1])))
    .map((p) => Number(p.split(':')[0]));
}

/** Polls until no more than `n` of our programs are loaded (the kernel frees them asynchronously). */
async function settle(n: number): Promise<number[]> {
  let left = await ourPrograms();
  for (let i = 0; i < 50 && left.length > n; i++) {
    await sleep(100);
    left = await ourPrograms();
  }
  return left;
}

const cg = () => makeCgroup('p-upgrade');

export const cases: GuestCase[] = [
  {
    name: 'upgrade: a new build swaps the pinned links to its programs, the denied open refused throughout',
    // two full loads and verifications of the enforce set under TCG
    timeoutMs: 900_000,
    async run() {
      writeFileSync(SECRET, 'x');
      native.uninstall?.(PIN); // a clean start (no-op when absent)
      const programsBefore = (await settle(0)).length;
      const { policyId, tables } = tablesFor('varmor-guest-upgrade', {
        privileged: true,
        bpfRawRules: { files: [{ pattern: SECRET, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      const c = cg();
      // The "old build": attached and pinned under another version tag, a cgroup bound, then
      // the agent goes away (its pins keep enforcing).
      const old = new BpfEnforcer({ mode: 'enforce', pinPath: PIN, versionTag: 'old-build' });
      old.attach();
      old.loadPolicy(policyId, tables);
      old.bindCgroup(c.id, policyId);
      const oldIds = old.programIds();
      const oldVersion = (old as Partial<BpfEnforcer>).versionInfo?.call(old).version;
      old.detach();
      const beforeSwap = await attempt(['open', SECRET, 'r'], c.path);
      // A loop in the protected cgroup keeps opening the denied file while the new build swaps.
      const stop = '/tmp/upgrade-stop';
      // (the new build loads and verifies every program first: over a minute under TCG on 6.12)
      const loop = probe(['loop-open', SECRET, '0', stop], { cgroup: c.path, timeoutMs: 600_000 });
      await sleep(300);
      const t0 = Date.now();
      const e = new BpfEnforcer({ mode: 'enforce', pinPath: PIN });
      e.attach();
      const swapMs = Date.now() - t0;
      await sleep(300);
      writeFileSync(stop, '');
      const counts = Object.fromEntries(
        (await loop).detail
          .split(' ')
          .map((kv) => kv.split('='))
          .map(([k, v]) => [k, Number(v)]),
      );
      const newIds = e.programIds();
      const info = (e as Partial<BpfEnforcer>).versionInfo?.call(e);
      const binding = e.bindings().get(c.id);
      const policies = [...e.policies().keys()];
      const afterSwap = await attempt(['open', SECRET, 'r'], c.path);
      const outside = await attempt(['open', SECRET, 'r']);
      e.detach(); // pins stay: the next case uninstalls
      const loaded = await settle(newIds.length);
      return {
        programsBefore,
        oldIds,
        oldVersion,
        newIds,
        info,
        swapMs,
        beforeSwap,
        loop: counts,
        binding,
        policyId,
        policies,
        afterSwap,
        outside,
        oldStillLoaded: oldIds.filter((id) => loaded.includes(id)),
        pins: existsSync(PIN) ? readdirSync(PIN).sort() : [],
      };
    },
  },
  {
    name: 'uninstall: every pin removed, nothing attached, the denied open allowed',
    timeoutMs: 120_000,
    async run() {
      const c = cg();
      const before = await attempt(['open', SECRET, 'r'], c.path);
      const pinsBefore = existsSync(PIN) ? readdirSync(PIN).length : 0;
      let error: string | undefined;
      try {
        // what `varmor bpf uninstall --pin-path` calls
        native.uninstall(PIN);
      } catch (err) {
        error = (err as Error).message;
      }
      // a pin's link is released by a deferred work item on 6.12: wait for the programs to go
      const left = await settle(0);
      const after = await attempt(['open', SECRET, 'r'], c.path);
      return {
        before,
        pinsBefore,
        error,
        after,
        programsLeft: left,
        pinDir: existsSync(PIN),
        bpffs: readdirSync('/sys/fs/bpf'),
      };
    },
  },
];
