import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, ArmorProfile } from './api/types.js';
import { AP_FINALIZER } from './api/well-known.js';
import { ArmorProfileDecodeError, fromArmorProfile, toArmorProfile } from './armorprofile.js';
import { compilePolicy } from './compile.js';

const policy = (over: Partial<AnyPolicy['spec']['policy']> = {}, kind: AnyPolicy['kind'] = 'VarmorPolicy'): AnyPolicy => ({
  apiVersion: 'crd.varmor.org/v1beta1',
  kind,
  metadata: kind === 'VarmorPolicy' ? { name: 'web', namespace: 'shop', uid: 'u-1' } : { name: 'web', uid: 'u-2' },
  spec: {
    target: { kind: 'Deployment', name: 'web' },
    policy: { enforcer: 'AppArmorBPFSeccomp', mode: 'EnhanceProtect', enhanceProtect: { hardeningRules: ['disallow-mount'] }, ...over },
  },
});

describe('toArmorProfile / fromArmorProfile', () => {
  it('round-trips all three profiles through the encoding', () => {
    const p = policy();
    const c = compilePolicy(p);
    const ap = toArmorProfile(p, c);
    expect(ap.metadata).toMatchObject({ name: 'varmor-shop-web', namespace: 'shop', finalizers: [AP_FINALIZER] });
    expect(ap.metadata.ownerReferences).toEqual([
      { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', name: 'web', uid: 'u-1', controller: true, blockOwnerDeletion: true },
    ]);
    expect(ap.spec.profile).toMatchObject({ name: 'varmor-shop-web', enforcer: 'AppArmorBPFSeccomp', mode: 'EnhanceProtect', bpfPolicyId: c.bpfPolicyId });
    expect(Buffer.from(ap.spec.profile.content!, 'base64').toString()).toBe(c.appArmor!.profile);
    const back = fromArmorProfile(JSON.parse(JSON.stringify(ap)) as ArmorProfile);
    expect(back).toEqual({
      profileName: 'varmor-shop-web',
      bpfPolicyId: c.bpfPolicyId,
      enforcers: ['AppArmor', 'BPF', 'Seccomp'],
      mode: 'EnhanceProtect',
      appArmor: { profile: c.appArmor!.profile, complain: false },
      seccomp: c.seccomp,
      bpfTables: c.bpf!.tables,
    });
  });

  it('cluster policies: profile in the product namespace, no owner reference', () => {
    const p = policy({}, 'VarmorClusterPolicy');
    const ap = toArmorProfile(p, compilePolicy(p, { productNamespace: 'sec' }), 'sec');
    expect(ap.metadata.namespace).toBe('sec');
    expect(ap.metadata.name).toBe('varmor-cluster-sec-web');
    expect(ap.metadata.ownerReferences).toBeUndefined();
  });

  it('BehaviorModeling: behaviorModeling enabled with the duration, AppArmor decoded as complain', () => {
    const p = policy({ mode: 'BehaviorModeling', enforcer: 'AppArmor', enhanceProtect: undefined, modelingOptions: { duration: 15 } });
    const ap = toArmorProfile(p, compilePolicy(p));
    expect(ap.spec.behaviorModeling).toEqual({ enable: true, duration: 15 });
    expect(fromArmorProfile(ap).appArmor?.complain).toBe(true);
  });

  it('refuses what it cannot decode, naming the field', () => {
    const p = policy();
    const ap = toArmorProfile(p, compilePolicy(p));
    const broken = (edit: (a: ArmorProfile) => void): string => {
      const a = structuredClone(ap);
      edit(a);
      try {
        fromArmorProfile(a);
      } catch (e) {
        if (e instanceof ArmorProfileDecodeError) return e.path;
        throw e;
      }
      return 'no error';
    };
    expect(broken((a) => (a.spec.profile.content = 'not base64!'))).toBe('spec.profile.content');
    expect(broken((a) => (a.spec.profile.seccompContent = '{'))).toBe('spec.profile.seccompContent');
    expect(broken((a) => (a.spec.profile.enforcer = 'NetworkProxy'))).toBe('spec.profile.enforcer');
    expect(broken((a) => (a.spec.profile.mode = 'Strict'))).toBe('spec.profile.mode');
  });
});
