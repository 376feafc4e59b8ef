// Seccomp compiler, pure checks: vArmor's merge rules for raw rules (varmor-internals 3.9),
// the audit/allow table, modes, errors, determinism. runc.test.ts runs the profiles for real.

import { describe, expect, it } from '@jest/globals';
import type { EnhanceProtect, Policy } from '../api/types.js';
import type { CompileInput, SeccompProfile } from '../compiled.js';
import { ProfileCompileError } from '../rules/errors.js';
import { compileSeccomp } from './compile.js';

const compile = (policy: Policy): SeccompProfile =>
  compileSeccomp({ profileName: 'varmor-a-b', bpfPolicyId: 1, mode: policy.mode as CompileInput['mode'], enforcers: ['Seccomp'], policy });
const ep = (e: EnhanceProtect): SeccompProfile => compile({ enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { privileged: true, ...e } });
const entries = (p: SeccompProfile, name: string) => p.syscalls.filter((s) => s.names.includes(name)).map(({ names: _n, ...rest }) => rest);

describe('compileSeccomp', () => {
  it('a raw rule without args widens a built-in rule with args (same action and errno)', () => {
    const p = ep({ hardeningRules: ['disallow-load-all-bpf-prog'], syscallRawRules: [{ names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
    expect(entries(p, 'bpf')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
  });

  it('a raw rule with args adds nothing when the built-in rule matches the syscall unconditionally', () => {
    const p = ep({ vulMitigationRules: ['dirty-pipe-mitigation'], syscallRawRules: [{ names: ['splice'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }] }] });
    expect(entries(p, 'splice')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
  });

  it('a raw rule with another action stands beside the built-in one', () => {
    const p = ep({ vulMitigationRules: ['dirty-pipe-mitigation'], syscallRawRules: [{ names: ['splice'], action: 'SCMP_ACT_ERRNO', errnoRet: 22 }] });
    expect(entries(p, 'splice')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }, { action: 'SCMP_ACT_ERRNO', errnoRet: 22 }]);
  });

  it('audit/allow: ERRNO unless allowViolations; LOG with audit+allow; nothing with allow alone', () => {
    const rule = { vulMitigationRules: ['dirty-pipe-mitigation'] };
    expect(entries(ep({ ...rule }), 'splice')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    expect(entries(ep({ ...rule, auditViolations: true }), 'splice')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    expect(entries(ep({ ...rule, auditViolations: true, allowViolations: true }), 'splice')).toEqual([{ action: 'SCMP_ACT_LOG' }]);
    expect(entries(ep({ ...rule, allowViolations: true }), 'splice')).toEqual([]);
  });

  it('clone3 keeps its ENOSYS answer; CLONE_NEWUSER rules use MASKED_EQ on arg 0', () => {
    const p = ep({ hardeningRules: ['disallow-create-user-ns'] });
    expect(entries(p, 'clone3')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
    expect(entries(p, 'unshare')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }] }]);
  });

  it('on the RuntimeDefault base an unconditionally denied syscall leaves the allow-list', () => {
    const p = compile({ enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { vulMitigationRules: ['dirty-pipe-mitigation'] } });
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(1);
    expect(entries(p, 'splice')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    expect(p.syscalls[0].names).toContain('read');
  });

  it('modes: AlwaysAllow, RuntimeDefault, BehaviorModeling', () => {
    expect(compile({ enforcer: 'Seccomp', mode: 'AlwaysAllow' })).toMatchObject({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });
    const rd = compile({ enforcer: 'Seccomp', mode: 'RuntimeDefault' });
    expect(rd.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(rd.syscalls[0].names).not.toContain('unshare');
    expect(rd.syscalls[0].names).not.toContain('mount');
    expect(compile({ enforcer: 'Seccomp', mode: 'BehaviorModeling' })).toMatchObject({ defaultAction: 'SCMP_ACT_LOG' });
  });

  it('DefenseInDepth: custom JSON parsed, default set by allowViolations, raw rules on top; bad JSON names the field', () => {
    const custom = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read', 'write', 'keyctl'], action: 'SCMP_ACT_ALLOW' }] });
    const p = compile({
      enforcer: 'Seccomp',
      mode: 'DefenseInDepth',
      defenseInDepth: { seccomp: { profileType: 'Custom', customProfile: custom, syscallRawRules: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] } },
    });
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(entries(p, 'keyctl')).toEqual([{ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]);
    expect(entries(p, 'read')).toEqual([{ action: 'SCMP_ACT_ALLOW' }]);
    const bad = (): SeccompProfile => compile({ enforcer: 'Seccomp', mode: 'DefenseInDepth', defenseInDepth: { seccomp: { profileType: 'Custom', customProfile: '{nope' } } });
    expect(bad).toThrow(ProfileCompileError);
    expect(bad).toThrow(/spec\.policy\.defenseInDepth\.seccomp\.customProfile: not JSON/);
    const noModel = (): SeccompProfile => compile({ enforcer: 'Seccomp', mode: 'DefenseInDepth', defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } } });
    expect(noModel).toThrow(/needs the recorded ArmorProfileModel/);
  });

  it('is deterministic: rule order in the policy does not change the bytes', () => {
    const a = ep({ hardeningRules: ['disallow-mount', 'disallow-create-user-ns'], vulMitigationRules: ['dirty-pipe-mitigation'] });
    const b = ep({ vulMitigationRules: ['dirty-pipe-mitigation'], hardeningRules: ['disallow-create-user-ns', 'disallow-mount'] });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
