// Every Seccomp built-in rule, attacked in a real runc container on this host (whose kernel
// enforces Seccomp): the attack of testing/guest/rule-attacks.ts, run by vprobe in a container
// with every capability, is refused under the compiled profile of a privileged policy holding
// only that rule, and not under the same policy without it. What the rule must leave alone
// behaves the same under both. rules:coverage counts these as the Seccomp proofs.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SeccompProfile } from '../../profiler/compiled.js';
import { compileSeccomp } from '../../profiler/seccomp/compile.js';
import { BUILTIN_RULES } from '../../profiler/rules/catalogue.js';
import { isUnsupported, type BuiltinRule } from '../../profiler/rules/types.js';
import { RuncHarness, runcUnavailable } from '../../profiler/seccomp/testdata/runc-harness.js';
import { attacksFor, policyHolding, type Attack, type Need } from '../guest/rule-attacks.js';
import { readFileSync } from 'node:fs';
import { CAPABILITIES } from '../../profiler/api/well-known.js';

const DENIED = ['EPERM', 'EACCES'];
const HERE = dirname(fileURLToPath(import.meta.url));

function profileFor(rule: BuiltinRule | undefined): SeccompProfile {
  return compileSeccomp({
    profileName: 'varmor-sc-rules',
    bpfPolicyId: 1,
    mode: 'EnhanceProtect',
    enforcers: ['Seccomp'],
    policy: { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: policyHolding(rule) },
  });
}

/** What an attack needs, made inside the container first (its root is read-only; /tmp is a tmpfs). */
function needShell(n: Need): string {
  if ('file' in n) return `mkdir -p ${dirname(n.file)} && echo data > ${n.file} && chmod ${(n.mode ?? 0o644).toString(8)} ${n.file}`;
  if ('dir' in n) return `mkdir -p ${n.dir}`;
  if ('mount' in n) return `mkdir -p ${n.mount} && mount -t tmpfs tmpfs ${n.mount}`;
  throw new Error(`the Seccomp rules suite cannot make ${JSON.stringify(n)}`);
}

const SECCOMP_RULES = BUILTIN_RULES.filter((r) => !isUnsupported(r.seccomp) && !('noAttack' in attacksFor(r.name, 'Seccomp')));
const why = runcUnavailable();

/** Every capability this process may hand on (its bounding set: a CI container can lack some), as runc names them. */
function ownCapabilities(): string[] {
  const hex = /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const bnd = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, i) => (bnd >> BigInt(i)) & 1n).map((c) => `CAP_${c.toUpperCase()}`);
}

describe('every Seccomp built-in rule, attacked in a runc container', () => {
  if (why) {
    it('cannot run here', () => {
      throw new Error(`real containers are required for this suite: ${why}`);
    });
    return;
  }
  let h: RuncHarness;
  beforeAll(() => {
    const vprobe = join(HERE, '..', '..', '.cache', `vprobe-host-${process.pid}`);
    execFileSync('gcc', ['-O2', '-static', '-o', vprobe, join(HERE, '..', 'guest', 'guest', 'probe.c')]);
    h = new RuncHarness({ vprobe });
    execFileSync('rm', ['-f', vprobe]);
  }, 120_000);
  afterAll(() => h?.close());

  function attempt(profile: SeccompProfile, a: Attack, prepare: Attack[]): string {
    const script = [...prepare.flatMap((p) => p.needs ?? []).map(needShell), `exec /bin/vprobe ${a.action.join(' ')}`].join(' && ');
    const r = h.run(profile, ['/bin/sh', '-c', script], { capabilities: ownCapabilities() });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || line === '') throw new Error(`${script}: exit ${r.code}: ${r.stderr}${r.stdout}`);
    return line.split(' ')[0];
  }

  it.each(SECCOMP_RULES.map((r) => r.name))('%s: the attack is refused with the rule and not without it', (name) => {
    const rule = BUILTIN_RULES.find((r) => r.name === name)!;
    const evidence = attacksFor(name, 'Seccomp');
    if ('noAttack' in evidence) throw new Error(evidence.noAttack);
    const withRule = profileFor(rule);
    const without = profileFor(undefined);
    const all = [...evidence.attacks, ...evidence.allowed];
    for (const a of evidence.attacks) {
      const inside = attempt(withRule, a, all);
      const outside = attempt(without, a, all);
      expect({ action: a.action, inside: DENIED.includes(inside), outside: (a.outside ?? 'OK').split('|').includes(outside) }).toEqual({ action: a.action, inside: true, outside: true });
    }
    for (const a of evidence.allowed) {
      expect({ action: a.action, inside: attempt(withRule, a, all) }).toEqual({ action: a.action, inside: attempt(without, a, all) });
    }
  });
});
