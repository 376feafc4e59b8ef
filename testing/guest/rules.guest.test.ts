// Every built-in rule, attacked in a real kernel (scenarios/rules.ts, attacks in rule-attacks.ts):
// for each enforcer that implements a rule, its attack is denied under a policy holding only that
// rule and is not denied under the same policy without it; what the rule must leave alone behaves
// the same with and without it. AppArmor also in its logged modes: auditViolations denies and logs
// DENIED, allowViolations + auditViolations lets the attack through and logs AUDIT. One boot per
// kernel. A rule with no attack says why in rule-attacks.ts, and rules:coverage lists it.

import { beforeAll, describe, expect, it } from '@jest/globals';
import { BUILTIN_RULES } from '../../profiler/rules/catalogue.js';
import type { EnforcerName } from '../../profiler/rules/coverage.js';
import { isUnsupported } from '../../profiler/rules/types.js';
import { runGuest, type GuestRun } from './harness.js';
import { GUEST_KERNEL_PKGS } from './kernel.js';
import { attacksFor } from './rule-attacks.js';
import type { LoggedOutcome, RuleOutcome } from './scenarios/rules.js';

const DENIED = ['EPERM', 'EACCES', 'EPERM dropped'];

function attacked(e: EnforcerName): string[] {
  return BUILTIN_RULES.filter((r) => !isUnsupported(e === 'AppArmor' ? r.appArmor : r.bpf))
    .filter((r) => !('noAttack' in attacksFor(r.name, e)))
    .map((r) => r.name);
}

describe.each(GUEST_KERNEL_PKGS)('%s', (kernelPkg) => {
  let run: GuestRun;

  beforeAll(async () => {
    run = await runGuest('rules', { kernelPkg, timeoutMs: 1_200_000 });
  }, 1_300_000);

  it('boots with AppArmor and the BPF LSM both active', () => {
    const r = run.result<{ lsm: string[] }>('smoke: kernel and lsm');
    expect(r.lsm).toEqual(expect.arrayContaining(['apparmor', 'bpf']));
  });

  describe('AppArmor in runc containers', () => {
    type Run = { code: number; report: Record<string, string>; stderr: string; log?: Record<string, string[]> };
    const modes = (): Record<string, Run> => run.result('apparmor modes: each profile mode in a runc container');
    const actions = (r: Run) => ({ secret: r.report.secret, allowed: r.report.allowed, mount: r.report.mount, sysrq: r.report.sysrq });

    it('AlwaysAllow: the container runs under the profile and nothing is denied', () => {
      const r = modes().AlwaysAllow;
      expect(r.report.label).toBe('varmor-aa-always_(enforce)');
      expect(actions(r)).toEqual({ secret: 'OK', allowed: 'OK', mount: 'OK', sysrq: 'OK' });
    });

    it("RuntimeDefault: containerd's baseline denies mount and /proc/sysrq-trigger, files stay readable", () => {
      const r = modes().RuntimeDefault;
      expect(r.report.label).toBe('varmor-aa-runtime_(enforce)');
      expect(actions(r)).toEqual({ secret: 'OK', allowed: 'OK', mount: 'DENIED', sysrq: 'DENIED' });
    });

    it('EnhanceProtect: the baseline plus the raw rule', () => {
      const r = modes().EnhanceProtect;
      expect(r.report.label).toBe('varmor-aa-enhance_(enforce)');
      expect(actions(r)).toEqual({ secret: 'DENIED', allowed: 'OK', mount: 'DENIED', sysrq: 'DENIED' });
    });

    it('BehaviorModeling: complain mode, nothing denied, every access logged ALLOWED', () => {
      const r = modes().BehaviorModeling;
      // a program the empty profile has no exec rule for runs in AppArmor's learning child (null-<path>), still complaining
      expect(r.report.label).toMatch(/^varmor-aa-modelling(\/\/null-\/bin\/busybox)?_\(complain\)$/);
      expect(actions(r)).toEqual({ secret: 'OK', allowed: 'OK', mount: 'OK', sysrq: 'OK' });
      expect(r.log).toEqual({ secret: ['ALLOWED'], allowed: ['ALLOWED'] });
    });

    it('DefenseInDepth: only what the model holds is allowed; the rest is denied and logged DENIED', () => {
      const r = modes().DefenseInDepth;
      expect(actions(r)).toEqual({ secret: 'DENIED', allowed: 'OK', mount: 'DENIED', sysrq: 'DENIED' });
      expect(r.log).toEqual({ secret: ['DENIED'], allowed: [] });
    });

    it('DefenseInDepth with allowViolations (shadow): the model is checked, not enforced: what it would deny is logged ALLOWED', () => {
      const r = modes().DefenseInDepthShadow;
      expect(actions(r)).toEqual({ secret: 'OK', allowed: 'OK', mount: 'OK', sysrq: 'OK' });
      expect(r.log).toEqual({ secret: ['ALLOWED'], allowed: [] });
    });

    it("child profiles: a target runs in its child, the child's rules stay with it, global rules apply to both", () => {
      const r = run.result<Run>('apparmor child profiles: a targeted executable runs in its child profile');
      expect(r.report).toEqual({
        parent: 'varmor-aa-child_(enforce)',
        child: 'varmor-aa-child//child_0_(enforce)',
        childAllowed: 'OK',
        parentPasswd: 'OK',
        childPasswd: 'DENIED',
        parentGlobal: 'DENIED',
        childGlobal: 'DENIED',
        grandchild: 'varmor-aa-child//child_0_(enforce)',
        grandchildPasswd: 'DENIED',
      });
    });

    it("modelling: a workload recorded through the agent's reader and parser, then confined by its own model with no false denial", () => {
      const r = run.result<{
        recorded: Record<string, string>;
        records: number;
        modelEntries: number;
        model: { executions?: string[]; files?: { path: string }[] };
        modelToEnforceMs: number;
        confined: Record<string, string>;
        falseDenials: string[];
        outside: Record<string, string>;
        deniedOutside: number;
      }>('apparmor modelling: a workload recorded in complain mode, then confined by its own model');
      expect(r.recorded.work).toBe('OK');
      expect(r.model.executions).toEqual(expect.arrayContaining(['/bin/busybox', '/bin/helper.sh']));
      expect(r.model.files?.map((f) => f.path)).toEqual(expect.arrayContaining(['/etc/app.conf', '/tmp/app.log']));
      expect(r.confined.work).toBe('OK');
      expect(r.falseDenials).toEqual([]);
      expect(r.outside).toEqual({ mkdir: 'DENIED', secret: 'DENIED' });
      expect(r.deniedOutside).toBeGreaterThanOrEqual(2);
      process.stdout.write(`AppArmor modelling journey (${run.kernelRelease}): ${r.records} records, model of ${r.modelEntries} entries, model to enforcing profile ${r.modelToEnforceMs} ms, false denials ${r.falseDenials.length}\n`);
    });

    it('the loader replaces a profile under a running container with no unconfined instant; a bad profile keeps the old; removal is idempotent', () => {
      const r = run.result<Record<string, unknown>>('apparmor loader: replace under a running container, a bad profile keeps the old one, remove');
      expect(r.before).toEqual(['OK']);
      expect(r.after).toEqual(['DENIED']);
      expect(r.labels).toEqual(['varmor-aa-live (enforce)']);
      expect(r.badLoad).toMatch(/VARMOR_ERR_APPARMOR_LOAD/);
      expect(r.afterBad).toEqual(['DENIED']);
      expect(r.labelAfterBad).toBe('varmor-aa-live (enforce)');
      expect(r.listedBeforeRemove).toBe(true);
      expect(r.listedAfterRemove).toBe(false);
      expect(r.secondRemove).toBe('OK');
    });
  });

  describe.each(['AppArmor', 'BPF'] as const)('%s', (enforcer) => {
    type Outcomes = Record<string, RuleOutcome & { error?: string; logged?: Record<'audit' | 'allow', LoggedOutcome[]> }>;
    const outcomes = (): Outcomes =>
      Object.assign({}, ...['hardening', 'attackProtection', 'vulMitigation'].map((c) => run.result<Outcomes>(`rules: ${enforcer} ${c} rules, attacked`))) as Outcomes;

    it.each(attacked(enforcer))('%s: the attack is denied with the rule and not without it', (rule) => {
      const o = outcomes()[rule];
      expect(o?.error).toBeUndefined();
      expect(o.attacks.length).toBeGreaterThan(0);
      for (const a of o.attacks) {
        expect({ action: a.action, inside: DENIED.includes(a.inside) }).toEqual({ action: a.action, inside: true });
        expect({ action: a.action, outside: a.expectOutside.split('|').includes(a.outside) }).toEqual({ action: a.action, outside: true });
      }
      for (const a of o.allowed) {
        expect({ action: a.action, inside: a.inside }).toEqual({ action: a.action, inside: a.outside });
      }
    });

    if (enforcer === 'AppArmor') {
      it.each(attacked(enforcer))('%s: auditViolations denies and logs DENIED; allowViolations allows and logs AUDIT', (rule) => {
        const o = outcomes()[rule];
        expect(o?.error).toBeUndefined();
        for (const a of o.logged?.audit ?? []) {
          expect({ action: a.action, inside: DENIED.includes(a.inside), logged: a.logged }).toEqual({ action: a.action, inside: true, logged: true });
        }
        for (const a of o.logged?.allow ?? []) {
          expect({ action: a.action, inside: DENIED.includes(a.inside), logged: a.logged }).toEqual({ action: a.action, inside: false, logged: true });
        }
        expect(o.logged?.audit.length).toBe(o.attacks.length);
      });
    }
  });
});
