// Deterministic names shared by the controller, the webhook and the agent: the profile name
// (as vArmor names it) and the numeric BPF policy id the node's BPF tables are keyed by.
// One place, so the three parts can never disagree.

export const DEFAULT_PRODUCT_NAMESPACE = 'varmor';
export const MAX_PROFILE_NAME_LENGTH = 63;
export const KUBELET_SECCOMP_ROOT = '/var/lib/kubelet/seccomp';

export interface PolicyRef {
  kind: 'VarmorPolicy' | 'VarmorClusterPolicy';
  namespace?: string;
  name: string;
}

/** `varmor-<namespace>-<name>`, or `varmor-cluster-<product namespace>-<name>` for a cluster policy. */
export function profileName(ref: PolicyRef, productNamespace = DEFAULT_PRODUCT_NAMESPACE): string {
  if (ref.kind === 'VarmorClusterPolicy') return `varmor-cluster-${productNamespace}-${ref.name}`;
  return `varmor-${ref.namespace ?? 'default'}-${ref.name}`;
}

/** How long a policy name may be before its profile name passes 63 bytes. */
export function maxPolicyNameLength(ref: Omit<PolicyRef, 'name'>, productNamespace = DEFAULT_PRODUCT_NAMESPACE): number {
  return MAX_PROFILE_NAME_LENGTH - profileName({ ...ref, name: '' }, productNamespace).length;
}

/**
 * The BPF policy id: 32-bit FNV-1a of the profile name, never 0 (0 means "no policy" in the
 * kernel tables). Stable across restarts and nodes, so pinned tables and pod annotations
 * written by an earlier process stay valid.
 */
export function bpfPolicyId(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash === 0 ? 1 : hash;
}

/** The kubelet resolves `localhostProfile` relative to its seccomp root; ours live in a subfolder. */
export function seccompLocalhostProfile(name: string): string {
  return `varmor/${name}.json`;
}
