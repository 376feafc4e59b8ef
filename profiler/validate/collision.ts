// Profile-name and BPF-policy-id collisions between policies (issue 16, item 1). Profile names
// `varmor-<ns>-<name>` are not injective (ns `team` policy `prod-web` and ns `team-prod` policy
// `web` both give `varmor-team-prod-web`), and the 32-bit BPF id (FNV-1a of the name) can be
// collided on purpose. The agent keys everything by name and id, so two policies sharing either
// would overwrite and unload each other's profiles across namespaces. The validating webhook
// refuses the newcomer; the controller refuses the younger of two that slipped past admission.
// Pure.

import { bpfPolicyId, profileName, DEFAULT_PRODUCT_NAMESPACE, type PolicyRef } from '../names.js';

export type CollisionReason = 'ProfileNameConflict' | 'PolicyIdConflict';

export interface Collision {
  reason: CollisionReason;
  /** The other policy. */
  other: PolicyRef;
  /** The shared profile name (ProfileNameConflict) or the two names with one id (PolicyIdConflict). */
  profileName: string;
  otherProfileName: string;
  bpfPolicyId: number;
  /** For the user: what collides with whom, and why it matters. */
  message: string;
}

/** `VarmorPolicy team/prod-web`, `VarmorClusterPolicy web`: how messages name a policy. */
export function describePolicy(ref: PolicyRef): string {
  return ref.kind === 'VarmorClusterPolicy' ? `VarmorClusterPolicy ${ref.name}` : `VarmorPolicy ${ref.namespace ?? 'default'}/${ref.name}`;
}

/** Same kind, namespace and name: the same policy (an update), not a collision. */
export function samePolicy(a: PolicyRef, b: PolicyRef): boolean {
  if (a.kind !== b.kind || a.name !== b.name) return false;
  return a.kind === 'VarmorClusterPolicy' || (a.namespace ?? 'default') === (b.namespace ?? 'default');
}

/** The collisions of `self` with each of `others` (itself, by identity, is skipped). */
export function findCollisions(self: PolicyRef, others: Iterable<PolicyRef>, productNamespace = DEFAULT_PRODUCT_NAMESPACE): Collision[] {
  const name = profileName(self, productNamespace);
  const id = bpfPolicyId(name);
  const out: Collision[] = [];
  for (const other of others) {
    if (samePolicy(self, other)) continue;
    const otherName = profileName(other, productNamespace);
    if (otherName === name) {
      out.push({
        reason: 'ProfileNameConflict',
        other,
        profileName: name,
        otherProfileName: otherName,
        bpfPolicyId: id,
        message: `profile name ${name} is already used by ${describePolicy(other)}; rename the policy (profiles are shared by name on every node, so the two would replace each other)`,
      });
      continue;
    }
    const otherId = bpfPolicyId(otherName);
    if (otherId === id) {
      out.push({
        reason: 'PolicyIdConflict',
        other,
        profileName: name,
        otherProfileName: otherName,
        bpfPolicyId: id,
        message: `BPF policy id ${id} of profile ${name} is already used by ${describePolicy(other)} (profile ${otherName}); rename the policy (the kernel tables are keyed by this id, so the two would replace each other)`,
      });
    }
  }
  return out;
}
