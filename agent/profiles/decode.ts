// Decodes an ArmorProfile object (crd.varmor.org/v1beta1, as the controller writes it) into what
// the node's loaders need: the profiler's fromArmorProfile does the decoding (names, enforcers,
// mode, base64 of the AppArmor text and BPF tables); this module adds what the node needs on top
// (the object's coordinates for status, its version, modelling) and is stricter where a node must
// be: an enforcer listed without its content is an error, not a silently skipped loader. It also
// carries what tenancy needs: the object's creation time (the older of two claimants holds a
// profile name or policy id), the policy kind, and BPF tables over the per-policy quota. Pure;
// every error names the field.

import { type ArmorProfile, ArmorProfileDecodeError, bpfPolicyId, decodeTables, type Enforcer, fromArmorProfile, LABEL_POLICY_KIND, quotaExcess, type QuotaExcess } from '../../profiler/node.js';
import { AgentError } from '../errors.js';

export class ProfileDecodeError extends AgentError {
  constructor(
    readonly profile: string,
    readonly field: string,
    message: string,
  ) {
    super('VARMOR_ERR_AGENT_PROFILE_INVALID', `ArmorProfile ${profile}: ${field}: ${message}`);
  }
}

export interface NodeProfile {
  /** The ArmorProfile object's coordinates (status is written there). */
  namespace: string;
  objectName: string;
  uid: string;
  /** metadata.creationTimestamp: the older of two ArmorProfiles claiming one name or id holds it. */
  createdAt?: string;
  /** The kind of policy it was compiled from (label LABEL_POLICY_KIND, set by the controller). */
  policyKind?: string;
  /** metadata.generation, or resourceVersion when the server sets no generation. */
  version: string;
  profileName: string;
  bpfPolicyId: number;
  enforcers: Enforcer[];
  mode: string;
  appArmor?: { profile: string; complain: boolean };
  seccomp?: string;
  bpfTables?: Uint8Array;
  /** The BPF table kinds over the per-policy quota (BPF_TABLE_QUOTA): such tables are never loaded. */
  bpfQuotaExcess?: QuotaExcess[];
  behaviorModeling?: { enable: boolean; durationMinutes: number; startedAt?: string };
  target: { kind: string; name?: string; containers?: string[] };
}

export function decodeArmorProfile(ap: ArmorProfile): NodeProfile {
  const objectName = ap.metadata?.name ?? '';
  if (!objectName) throw new ProfileDecodeError('?', 'metadata.name', 'missing');
  const p = ap.spec?.profile;
  if (!p || typeof p !== 'object') throw new ProfileDecodeError(objectName, 'spec.profile', 'missing');
  const profileName = p.name || objectName;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(profileName) || profileName.length > 253) {
    throw new ProfileDecodeError(objectName, 'spec.profile.name', `invalid profile name ${JSON.stringify(profileName)}`);
  }
  let dec: ReturnType<typeof fromArmorProfile>;
  try {
    dec = fromArmorProfile({ ...ap, spec: { ...ap.spec, profile: { ...p, name: profileName } } });
  } catch (e) {
    if (e instanceof ArmorProfileDecodeError) throw new ProfileDecodeError(objectName, e.path, e.message.replace(`${e.path}: `, ''));
    throw e;
  }
  const { enforcers, mode } = dec;
  const out: NodeProfile = {
    namespace: ap.metadata.namespace ?? '',
    objectName,
    uid: ap.metadata.uid ?? '',
    createdAt: ap.metadata.creationTimestamp ?? '',
    policyKind: ap.metadata.labels?.[LABEL_POLICY_KIND] ?? '',
    version: String(ap.metadata.generation ?? ap.metadata.resourceVersion ?? ''),
    profileName,
    bpfPolicyId: bpfPolicyId(profileName),
    enforcers,
    mode,
    target: { kind: ap.spec.target?.kind ?? '', name: ap.spec.target?.name, containers: ap.spec.target?.containers },
  };
  if (dec.bpfPolicyId !== out.bpfPolicyId) {
    throw new ProfileDecodeError(
      objectName,
      'spec.profile.bpfPolicyId',
      `${dec.bpfPolicyId} does not match bpfPolicyId(${profileName}) = ${out.bpfPolicyId}`,
    );
  }
  if (enforcers.includes('AppArmor')) {
    if (!dec.appArmor) throw new ProfileDecodeError(objectName, 'spec.profile.content', 'missing for AppArmor');
    out.appArmor = { profile: dec.appArmor.profile, complain: dec.appArmor.complain || mode === 'BehaviorModeling' };
  }
  if (enforcers.includes('Seccomp')) {
    if (typeof p.seccompContent !== 'string' || !dec.seccomp) throw new ProfileDecodeError(objectName, 'spec.profile.seccompContent', 'missing for Seccomp');
    if (typeof dec.seccomp.defaultAction !== 'string') {
      throw new ProfileDecodeError(objectName, 'spec.profile.seccompContent', 'not a seccomp profile: no defaultAction');
    }
    // The text as the controller stored it: the kubelet reads exactly these bytes.
    out.seccomp = p.seccompContent;
  }
  if (enforcers.includes('BPF')) {
    if (!dec.bpfTables) throw new ProfileDecodeError(objectName, 'spec.profile.bpfContent', 'missing for BPF');
    out.bpfTables = dec.bpfTables;
    // Checked again here, not only by the validator: the kernel maps are shared by every policy.
    let excess: QuotaExcess[];
    try {
      excess = quotaExcess(decodeTables(dec.bpfTables));
    } catch (e) {
      throw new ProfileDecodeError(objectName, 'spec.profile.bpfContent', (e as Error).message);
    }
    if (excess.length) out.bpfQuotaExcess = excess;
  }
  const bm = ap.spec.behaviorModeling;
  if (bm?.enable) {
    out.behaviorModeling = { enable: true, durationMinutes: bm.duration ?? 0, startedAt: ap.metadata.creationTimestamp };
  }
  return out;
}
