// The attack table covers the catalogue: every rule AppArmor or BPF implements has an attack or
// says why not, every entry names a real rule, and every attack uses an action vprobe knows.

import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BUILTIN_RULES } from '../../profiler/rules/catalogue.js';
import { isUnsupported } from '../../profiler/rules/types.js';
import { RULE_EVIDENCE } from './rule-attacks.js';

describe('rule attacks', () => {
  it('has an entry for every rule an enforcer implements, and none for a rule that does not exist', () => {
    const enforced = BUILTIN_RULES.filter((r) => !isUnsupported(r.appArmor) || !isUnsupported(r.bpf) || !isUnsupported(r.seccomp)).map((r) => r.name);
    expect(enforced.filter((n) => !RULE_EVIDENCE[n])).toEqual([]);
    const known = new Set(BUILTIN_RULES.map((r) => r.name));
    expect(Object.keys(RULE_EVIDENCE).filter((n) => !known.has(n))).toEqual([]);
  });

  it('attacks only with actions vprobe has', () => {
    const probe = readFileSync(new URL('./guest/probe.c', import.meta.url), 'utf8');
    const actions = new Set(
      Object.values(RULE_EVIDENCE).flatMap((e) => ('noAttack' in e ? [] : [...e.attacks, ...(e.allowed ?? [])].map((a) => a.action[0]))),
    );
    for (const a of actions) expect(probe).toContain(`"${a}"`);
  });
});
