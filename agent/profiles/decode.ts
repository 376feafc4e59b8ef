// Decodes an ArmorProfile object (crd.varmor.org/v1beta1, as the controller writes it) into what
// the node's loaders need, per CONTRACTS.md: AppArmor text (base64 in spec.profile.content),
// Seccomp JSON text, BPF tables (base64) and the policy id. Pure; every error names the field.
// (profiler/armorprofile.ts's fromArmorProfile is the same decoding owned by the profiler; this
// module is the agent's single entry point to it, so the loaders never see raw objects.)

import type { ArmorProfile, Enforcer } from '../../profiler/api/types.js';
import { bpfPolicyId } from '../../profiler/names.js';
import { parseEnforcers } from '../../profiler/validate/enforcer.js';
import { AgentError } from '../errors.js';

export class ProfileDecodeError extends AgentError {
  constructor(
    readonly profile: string,
    readonly field: string,
    message: string,
  ) {
    super('EPROFILE', `ArmorProfile ${profile}: ${field}: ${message}`);
  }
}

export interface NodeProfile {
  /** The ArmorProfile object's coordinates (status is written there). */
  namespace: string;
  objectName: string;
  uid: string;
  /** metadata.generation, or resourceVersion when the server sets no generation. */
  version: string;
  profileName: string;
  bpfPolicyId: number;
  enforcers: Enforcer[];
  mode: string;
  appArmor?: { profile: string; complain: boolean };
  seccomp?: string;
  bpfTables?: Uint8Array;
  behaviorModeling?: { enable: boolean; durationMinutes: number; startedAt?: string };
  target: { kind: string; name?: string; containers?: string[] };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(profile: string, field: string, s: unknown): Buffer {
  if (typeof s !== 'string') throw new ProfileDecodeError(profile, field, 'not a string');
  const compact = s.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 !== 0) throw new ProfileDecodeError(profile, field, 'not base64');
  return Buffer.from(compact, 'base64');
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
  const enforcers = parseEnforcers(p.enforcer);
  if (!enforcers) throw new ProfileDecodeError(objectName, 'spec.profile.enforcer', `unknown enforcer ${JSON.stringify(p.enforcer)}`);
  const mode = String(p.mode ?? '');
  if (!mode) throw new ProfileDecodeError(objectName, 'spec.profile.mode', 'missing');

  const out: NodeProfile = {
    namespace: ap.metadata.namespace ?? '',
    objectName,
    uid: ap.metadata.uid ?? '',
    version: String(ap.metadata.generation ?? ap.metadata.resourceVersion ?? ''),
    profileName,
    bpfPolicyId: bpfPolicyId(profileName),
    enforcers,
    mode,
    target: { kind: ap.spec.target?.kind ?? '', name: ap.spec.target?.name, containers: ap.spec.target?.containers },
  };
  if (p.bpfPolicyId !== undefined && p.bpfPolicyId !== out.bpfPolicyId) {
    throw new ProfileDecodeError(
      objectName,
      'spec.profile.bpfPolicyId',
      `${p.bpfPolicyId} does not match bpfPolicyId(${profileName}) = ${out.bpfPolicyId}`,
    );
  }
  if (enforcers.includes('AppArmor')) {
    if (p.content === undefined) throw new ProfileDecodeError(objectName, 'spec.profile.content', 'missing for AppArmor');
    out.appArmor = { profile: base64(objectName, 'spec.profile.content', p.content).toString('utf8'), complain: mode === 'BehaviorModeling' };
  }
  if (enforcers.includes('Seccomp')) {
    if (typeof p.seccompContent !== 'string') throw new ProfileDecodeError(objectName, 'spec.profile.seccompContent', 'missing for Seccomp');
    try {
      const doc = JSON.parse(p.seccompContent) as { defaultAction?: unknown };
      if (typeof doc.defaultAction !== 'string') throw new Error('no defaultAction');
    } catch (e) {
      throw new ProfileDecodeError(objectName, 'spec.profile.seccompContent', `not a seccomp profile: ${(e as Error).message}`);
    }
    out.seccomp = p.seccompContent;
  }
  if (enforcers.includes('BPF')) {
    if (p.bpfContent === undefined) throw new ProfileDecodeError(objectName, 'spec.profile.bpfContent', 'missing for BPF');
    out.bpfTables = new Uint8Array(base64(objectName, 'spec.profile.bpfContent', p.bpfContent));
  }
  const bm = ap.spec.behaviorModeling;
  if (bm?.enable) {
    out.behaviorModeling = { enable: true, durationMinutes: bm.duration, startedAt: ap.metadata.creationTimestamp };
  }
  return out;
}
