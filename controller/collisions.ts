// Which policy keeps a contested profile name or BPF policy id (issue 16, item 1). The validating
// webhook refuses a collision at admission; one can still slip past it (two creates racing, the
// webhook down or failing open). Then the OLDER policy (creationTimestamp, then uid) keeps the
// name and the younger gets no ArmorProfile: the agents key profiles and kernel tables by name
// and id, so writing both would let one tenant replace or unload the other's profile. Pure.

import { type AnyPolicy, findCollisions, type Collision, type PolicyRef } from '../profiler/index.js';

function refOf(p: AnyPolicy): PolicyRef {
  return { kind: p.kind, namespace: p.metadata.namespace, name: p.metadata.name ?? '' };
}

function createdMs(p: AnyPolicy): number {
  const t = Date.parse(p.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t; // never stored: the youngest
}

/** Does `a` come before `b`? Creation time, then uid: a total order every replica agrees on. */
export function isOlder(a: AnyPolicy, b: AnyPolicy): boolean {
  const ta = createdMs(a);
  const tb = createdMs(b);
  if (ta !== tb) return ta < tb;
  return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
}

/**
 * The first collision of `policy` with an older policy among `policies` (the informers' list,
 * policies being deleted included: their ArmorProfile is still in use), or undefined when the
 * policy may have its profile.
 */
export function olderCollision(policy: AnyPolicy, policies: readonly AnyPolicy[], productNamespace: string): Collision | undefined {
  const byRef = new Map<PolicyRef, AnyPolicy>();
  for (const p of policies) byRef.set(refOf(p), p);
  for (const c of findCollisions(refOf(policy), byRef.keys(), productNamespace)) {
    const other = byRef.get(c.other);
    if (other && isOlder(other, policy)) return c;
  }
  return undefined;
}

/** The policies sharing a profile name or BPF id with `policy` (to requeue them when it comes or goes). */
export function collidingWith(policy: AnyPolicy, policies: readonly AnyPolicy[], productNamespace: string): AnyPolicy[] {
  const byRef = new Map<PolicyRef, AnyPolicy>();
  for (const p of policies) byRef.set(refOf(p), p);
  return findCollisions(refOf(policy), byRef.keys(), productNamespace).flatMap((c) => byRef.get(c.other) ?? []);
}
