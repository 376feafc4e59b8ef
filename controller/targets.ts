// Which workloads a policy targets, and which policies overlap on a workload. Pure: the
// caller supplies the policies and the workloads it listed.

import { type AnyPolicy, canonicalSelector, matchesSelector } from '../profiler/index.js';

export type PolicyKind = 'VarmorPolicy' | 'VarmorClusterPolicy';
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

/** Queue key of a policy: `VarmorPolicy/<ns>/<name>` or `VarmorClusterPolicy/<name>`. */
export function policyKey(p: { kind: string; metadata: { namespace?: string; name?: string } }): string {
  return p.kind === 'VarmorClusterPolicy'
    ? `VarmorClusterPolicy/${p.metadata.name ?? ''}`
    : `VarmorPolicy/${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
}

export function parsePolicyKey(key: string): { kind: PolicyKind; namespace?: string; name: string } {
  const parts = key.split('/');
  if (parts[0] === 'VarmorClusterPolicy' && parts.length === 2)
    return { kind: 'VarmorClusterPolicy', name: parts[1] };
  if (parts[0] === 'VarmorPolicy' && parts.length === 3)
    return { kind: 'VarmorPolicy', namespace: parts[1], name: parts[2] };
  throw new Error(`malformed policy key ${JSON.stringify(key)}`);
}

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(kind);
}

/** Does the policy select this workload? Same rules as the webhook: kind, scope, then name or labels. */
export function targetsWorkload(policy: AnyPolicy, w: WorkloadRef): boolean {
  const t = policy.spec?.target;
  if (!t || t.kind !== w.kind) return false;
  if (policy.kind === 'VarmorPolicy' && (policy.metadata.namespace ?? 'default') !== w.namespace)
    return false;
  if (t.name) return t.name === w.name;
  return matchesSelector(t.selector, w.labels);
}

function scopesIntersect(a: AnyPolicy, b: AnyPolicy): boolean {
  if (a.kind === 'VarmorClusterPolicy' || b.kind === 'VarmorClusterPolicy') return true;
  return (a.metadata.namespace ?? 'default') === (b.metadata.namespace ?? 'default');
}

export interface Overlap {
  /** Queue key of the other policy. */
  other: string;
  /** Workloads both policies select (`Kind ns/name`), or empty when the overlap is by definition. */
  workloads: string[];
}

/**
 * The other policies that target a workload this one targets: statically (the same name, or the
 * same selector, in intersecting scopes, so it is caught before the workload exists) or through
 * an existing workload both select. The webhook applies only one policy per container, so an
 * overlap means one of the two silently does nothing.
 */
export function findOverlaps(
  policy: AnyPolicy,
  others: readonly AnyPolicy[],
  workloads: readonly WorkloadRef[],
): Overlap[] {
  const me = policyKey(policy);
  const out: Overlap[] = [];
  const t = policy.spec?.target;
  if (!t) return out;
  for (const o of others) {
    const key = policyKey(o);
    if (key === me || o.metadata.deletionTimestamp) continue;
    const ot = o.spec?.target;
    if (!ot || ot.kind !== t.kind || !scopesIntersect(policy, o)) continue;
    const shared = workloads
      .filter((w) => targetsWorkload(policy, w) && targetsWorkload(o, w))
      .map((w) => `${w.kind} ${w.namespace}/${w.name}`)
      .sort();
    const staticOverlap =
      (t.name !== undefined && t.name !== '' && t.name === ot.name) ||
      (!t.name &&
        !ot.name &&
        t.selector !== undefined &&
        canonicalSelector(t.selector) === canonicalSelector(ot.selector));
    if (shared.length > 0 || staticOverlap) out.push({ other: key, workloads: shared });
  }
  return out.sort((a, b) => a.other.localeCompare(b.other));
}
