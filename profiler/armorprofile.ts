// The ArmorProfile object the controller writes for a compiled policy, and its decoding on the
// agent side. Both directions live here so the encoding (base64 AppArmor text and BPF tables,
// Seccomp JSON as text) is defined once.

import { API_VERSION, type AnyPolicy, type ArmorProfile } from './api/types.js';
import type { CompiledPolicy, SeccompProfile } from './compiled.js';
import { bpfPolicyId as policyIdOf, DEFAULT_PRODUCT_NAMESPACE } from './names.js';
import { formatEnforcers, isMode, parseEnforcers } from './validate/enforcer.js';

import { AP_FINALIZER, LABEL_POLICY, LABEL_POLICY_KIND } from './api/well-known.js';

export class ArmorProfileDecodeError extends Error {
  readonly code = 'VARMOR_ERR_ARMORPROFILE_INVALID';
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ArmorProfileDecodeError';
    this.path = path;
  }
}

/** Namespaced policies' profiles live beside them; cluster policies' in the product namespace. */
export function armorProfileNamespace(policy: AnyPolicy, productNamespace = DEFAULT_PRODUCT_NAMESPACE): string {
  return policy.kind === 'VarmorClusterPolicy' ? productNamespace : (policy.metadata.namespace ?? 'default');
}

export function toArmorProfile(policy: AnyPolicy, compiled: CompiledPolicy, productNamespace = DEFAULT_PRODUCT_NAMESPACE): ArmorProfile {
  const spec = policy.spec;
  const profile: ArmorProfile['spec']['profile'] = {
    name: compiled.profileName,
    enforcer: formatEnforcers(compiled.enforcers),
    mode: compiled.mode,
    bpfPolicyId: compiled.bpfPolicyId,
  };
  if (compiled.appArmor) profile.content = Buffer.from(compiled.appArmor.profile, 'utf8').toString('base64');
  if (compiled.seccomp) profile.seccompContent = JSON.stringify(compiled.seccomp);
  if (compiled.bpf) profile.bpfContent = Buffer.from(compiled.bpf.tables).toString('base64');

  const ap: ArmorProfile = {
    apiVersion: API_VERSION,
    kind: 'ArmorProfile',
    metadata: {
      name: compiled.profileName,
      namespace: armorProfileNamespace(policy, productNamespace),
      labels: { [LABEL_POLICY]: policy.metadata.name ?? '', [LABEL_POLICY_KIND]: policy.kind },
      finalizers: [AP_FINALIZER],
    },
    spec: { profile, target: structuredClone(spec.target) },
  };
  // Cluster-scoped owners cannot own namespaced objects through ownerReferences; the
  // controller removes a cluster policy's profile itself.
  if (policy.kind === 'VarmorPolicy' && policy.metadata.uid) {
    ap.metadata.ownerReferences = [
      { apiVersion: API_VERSION, kind: policy.kind, name: policy.metadata.name ?? '', uid: policy.metadata.uid, controller: true, blockOwnerDeletion: true },
    ];
  }
  if (compiled.mode === 'BehaviorModeling') {
    ap.spec.behaviorModeling = { enable: true, duration: spec.policy.modelingOptions?.duration ?? 0 };
  }
  if (spec.updateExistingWorkloads !== undefined) ap.spec.updateExistingWorkloads = spec.updateExistingWorkloads;
  return ap;
}

/**
 * A compiled policy as the agent reads it back from an ArmorProfile: the same fields, with the BPF
 * tables bare (`appArmor.complain`: the profile declares flags=(complain), as BehaviorModeling and
 * DefenseInDepth with allowViolations compile it).
 */
export type DecodedArmorProfile = Omit<CompiledPolicy, 'bpf'> & { bpfTables?: Uint8Array };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64(text: string, path: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !BASE64.test(clean)) throw new ArmorProfileDecodeError(path, 'is not base64');
  return Buffer.from(clean, 'base64');
}

export function fromArmorProfile(ap: ArmorProfile): DecodedArmorProfile {
  const p = ap?.spec?.profile;
  if (!p || typeof p !== 'object') throw new ArmorProfileDecodeError('spec.profile', 'required field is missing');
  if (typeof p.name !== 'string' || p.name === '') throw new ArmorProfileDecodeError('spec.profile.name', 'required field is missing');
  const enforcers = parseEnforcers(p.enforcer);
  if (!enforcers) throw new ArmorProfileDecodeError('spec.profile.enforcer', `unknown enforcer "${p.enforcer}"`);
  if (!isMode(p.mode)) throw new ArmorProfileDecodeError('spec.profile.mode', `unknown mode "${p.mode}"`);
  const out: DecodedArmorProfile = {
    profileName: p.name,
    bpfPolicyId: typeof p.bpfPolicyId === 'number' ? p.bpfPolicyId : policyIdOf(p.name),
    enforcers,
    mode: p.mode,
  };
  if (enforcers.includes('AppArmor') && p.content) {
    const profile = base64(p.content, 'spec.profile.content').toString('utf8');
    const header = /^\s*profile\s+\S+\s+flags=\(([^)]*)\)/m.exec(profile);
    out.appArmor = { profile, complain: header !== null && /\bcomplain\b/.test(header[1]) };
  }
  if (enforcers.includes('Seccomp') && p.seccompContent) {
    try {
      out.seccomp = JSON.parse(p.seccompContent) as SeccompProfile;
    } catch (e) {
      throw new ArmorProfileDecodeError('spec.profile.seccompContent', `is not JSON: ${(e as Error).message}`);
    }
  }
  if (enforcers.includes('BPF') && p.bpfContent) {
    out.bpfTables = new Uint8Array(base64(p.bpfContent, 'spec.profile.bpfContent'));
  }
  return out;
}
