import { describe, it, expect } from '@jest/globals';
import { decodeArmorProfile } from './decode.js';
import { armorProfile, bpfTables, DENY_MKDIR, VT_MODE_ENFORCE } from '../../testing/agent/profiles.js';
import { bpfPolicyId } from '../../profiler/names.js';

describe('decodeArmorProfile', () => {
  const full = armorProfile({
    profileName: 'varmor-demo-web',
    namespace: 'demo',
    enforcers: ['AppArmor', 'BPF', 'Seccomp'],
    seccomp: DENY_MKDIR,
    bpf: bpfTables('varmor-demo-web', VT_MODE_ENFORCE),
    appArmor: 'profile varmor-demo-web flags=(attach_disconnected) {}\n',
  });
  it('decodes every enforcer part', () => {
    const p = decodeArmorProfile(full);
    expect(p).toMatchObject({ namespace: 'demo', objectName: 'varmor-demo-web', profileName: 'varmor-demo-web', enforcers: ['AppArmor', 'BPF', 'Seccomp'], mode: 'EnhanceProtect', version: '1' });
    expect(p.bpfPolicyId).toBe(bpfPolicyId('varmor-demo-web'));
    expect(p.appArmor).toEqual({ profile: 'profile varmor-demo-web flags=(attach_disconnected) {}\n', complain: false });
    expect(p.seccomp).toBe(DENY_MKDIR);
    expect(Buffer.from(p.bpfTables!).toString('base64')).toBe(full.spec.profile.bpfContent);
  });
  it('loads AppArmor in complain mode for BehaviorModeling', () => {
    const ap = armorProfile({ profileName: 'varmor-a-b', enforcers: ['AppArmor'], mode: 'BehaviorModeling', appArmor: 'profile x {}' , behaviorModeling: { enable: true, duration: 5 } });
    const p = decodeArmorProfile(ap);
    expect(p.appArmor?.complain).toBe(true);
    expect(p.behaviorModeling).toMatchObject({ enable: true, durationMinutes: 5 });
  });
  it('names the field that is wrong', () => {
    const bad = (edit: (ap: typeof full) => void): (() => unknown) => () => {
      const ap = structuredClone(full);
      edit(ap);
      return decodeArmorProfile(ap);
    };
    expect(bad((ap) => (ap.spec.profile.enforcer = 'NetworkProxy'))).toThrow(/spec.profile.enforcer: unknown enforcer "NetworkProxy"/);
    expect(bad((ap) => (ap.spec.profile.seccompContent = '{"syscalls":[]}'))).toThrow(/spec.profile.seccompContent: not a seccomp profile/);
    expect(bad((ap) => (ap.spec.profile.seccompContent = '{"syscalls": '))).toThrow(/spec.profile.seccompContent: is not JSON/);
    expect(bad((ap) => (ap.spec.profile.mode = 'Strict'))).toThrow(/spec.profile.mode: unknown mode "Strict"/);
    expect(bad((ap) => (ap.spec.profile.bpfContent = '!!!'))).toThrow(/spec.profile.bpfContent: is not base64/);
    expect(bad((ap) => (ap.spec.profile.bpfPolicyId = 7))).toThrow(/spec.profile.bpfPolicyId: 7 does not match/);
    expect(bad((ap) => delete ap.spec.profile.content)).toThrow(/spec.profile.content: missing for AppArmor/);
    expect(bad((ap) => (ap.spec.profile.name = 'Bad/Name'))).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_AGENT_PROFILE_INVALID', field: 'spec.profile.name' }));
  });
});
