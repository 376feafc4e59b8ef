// AppArmor profiles as the controller builds them, for the guest's scenarios: the real compiler
// over a policy with the AppArmor enforcer only (and, for DefenseInDepth, a behaviour model).

import type { ArmorProfileModel, BehaviorData, Mode, Policy } from '../../../profiler/api/types.js';
import { compileAppArmor } from '../../../profiler/apparmor/compile.js';

/** The profile text of `name` in `mode`, and whether it loads in complain mode (BehaviorModeling). */
export function appArmorProfileFor(name: string, mode: Mode, policy: Partial<Policy> = {}, behaviour?: BehaviorData): { profile: string; complain: boolean } {
  const model: ArmorProfileModel | undefined = behaviour
    ? { apiVersion: 'crd.varmor.org/v1beta1', kind: 'ArmorProfileModel', metadata: { name: 'm', namespace: 'default' }, data: { dynamicResult: { appArmor: behaviour } } }
    : undefined;
  const { profile, complain } = compileAppArmor({
    profileName: name,
    bpfPolicyId: 0,
    mode,
    enforcers: ['AppArmor'],
    policy: { enforcer: 'AppArmor', mode, ...policy },
    model,
  });
  return { profile, complain };
}
