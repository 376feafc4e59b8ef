// The objects the controller wants to exist for a policy (ArmorProfile, ArmorProfileModel) and
// how to converge an existing object to them without dropping what others own (agents'
// status, users' labels, other finalizers). Pure.

import { ANN_ENFORCER, ANN_MODE, type AnyPolicy, AP_FINALIZER, API_VERSION, type ArmorProfile, type ArmorProfileModel, LABEL_POLICY_KIND, LABEL_POLICY_NAME, LABEL_POLICY_NAMESPACE, type ObjectMeta, type OwnerReference } from '../profiler/index.js';


export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

/** Strip `undefined` so what we compare equals what the server returns. */
export function clean<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function ownerReference(policy: AnyPolicy): OwnerReference | undefined {
  if (policy.kind !== 'VarmorPolicy' || !policy.metadata.uid) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: policy.kind,
    name: policy.metadata.name ?? '',
    uid: policy.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function policyLabels(policy: AnyPolicy): Record<string, string> {
  const l: Record<string, string> = {
    [LABEL_POLICY_KIND]: policy.kind,
    [LABEL_POLICY_NAME]: policy.metadata.name ?? '',
  };
  if (policy.kind === 'VarmorPolicy') l[LABEL_POLICY_NAMESPACE] = policy.metadata.namespace ?? 'default';
  return l;
}

/** Our metadata on top of what the profiler built: labels, owner, finalizer, bookkeeping annotations. */
export function decorateArmorProfile(
  policy: AnyPolicy,
  ap: ArmorProfile,
  annotations: Record<string, string>,
): ArmorProfile {
  const owner = ownerReference(policy);
  const meta: ObjectMeta = {
    ...ap.metadata,
    labels: { ...(ap.metadata.labels ?? {}), ...policyLabels(policy) },
    annotations: {
      ...(ap.metadata.annotations ?? {}),
      [ANN_ENFORCER]: policy.spec.policy.enforcer,
      [ANN_MODE]: policy.spec.policy.mode,
      ...annotations,
    },
    finalizers: [AP_FINALIZER],
    ...(owner ? { ownerReferences: [owner] } : {}),
  };
  return clean({ ...ap, metadata: meta, status: undefined });
}

/**
 * The existing object changed to match `desired` in what the controller owns (spec, our labels,
 * annotations, finalizer and owner reference), or undefined when it already does. Other
 * finalizers, labels and annotations are kept; the status is the agents' and is left alone.
 */
export function convergeMeta<T extends { metadata: ObjectMeta }>(
  existing: T,
  desired: T,
  specKeys: (keyof T)[],
): T | undefined {
  const next = { ...existing, metadata: { ...existing.metadata } } as T;
  let changed = false;
  for (const k of specKeys) {
    if (!deepEqual(existing[k], desired[k])) {
      next[k] = desired[k];
      changed = true;
    }
  }
  const dm = desired.metadata;
  const em = existing.metadata;
  const labels = { ...(em.labels ?? {}), ...(dm.labels ?? {}) };
  if (!deepEqual(labels, em.labels ?? {})) {
    next.metadata.labels = labels;
    changed = true;
  }
  const annotations = { ...(em.annotations ?? {}), ...(dm.annotations ?? {}) };
  if (!deepEqual(annotations, em.annotations ?? {})) {
    next.metadata.annotations = annotations;
    changed = true;
  }
  const finalizers = [...(em.finalizers ?? [])];
  for (const f of dm.finalizers ?? []) if (!finalizers.includes(f)) finalizers.push(f);
  if (finalizers.length !== (em.finalizers ?? []).length) {
    next.metadata.finalizers = finalizers;
    changed = true;
  }
  const owners = [...(em.ownerReferences ?? [])];
  for (const o of dm.ownerReferences ?? []) {
    if (!owners.some((x) => x.uid === o.uid)) {
      // A policy deleted and re-created under the same name has a new uid: replace the stale owner.
      const i = owners.findIndex((x) => x.kind === o.kind && x.name === o.name);
      if (i >= 0) owners.splice(i, 1, o);
      else owners.push(o);
    }
  }
  if (!deepEqual(owners, em.ownerReferences ?? [])) {
    next.metadata.ownerReferences = owners;
    changed = true;
  }
  return changed ? next : undefined;
}

export function withoutFinalizer<T extends { metadata: ObjectMeta }>(
  obj: T,
  finalizer: string,
): T | undefined {
  const f = obj.metadata.finalizers ?? [];
  if (!f.includes(finalizer)) return undefined;
  return { ...obj, metadata: { ...obj.metadata, finalizers: f.filter((x) => x !== finalizer) } };
}

export function withFinalizer<T extends { metadata: ObjectMeta }>(obj: T, finalizer: string): T | undefined {
  const f = obj.metadata.finalizers ?? [];
  if (f.includes(finalizer)) return undefined;
  return { ...obj, metadata: { ...obj.metadata, finalizers: [...f, finalizer] } };
}

export function emptyModel(policy: AnyPolicy, name: string, namespace: string): ArmorProfileModel {
  const owner = ownerReference(policy);
  return clean({
    apiVersion: API_VERSION,
    kind: 'ArmorProfileModel',
    metadata: {
      name,
      namespace,
      labels: policyLabels(policy),
      ...(owner ? { ownerReferences: [{ ...owner, controller: false }] } : {}),
    },
    data: {},
    storageType: 'CRDInternal',
  });
}

/**
 * The policy as the ArmorProfile was last built from it (target, enforcer, mode), with the
 * current status: the "old object" for the update rules, so a change the validating webhook
 * did not see (webhook down, failurePolicy Ignore) is still refused here.
 */
export function appliedPolicy(policy: AnyPolicy, ap: ArmorProfile): AnyPolicy {
  const a = ap.metadata.annotations ?? {};
  // A run is in progress while the ArmorProfile still holds the modelling profile; the policy's
  // own phase cannot say so once a refused change has turned it to Error.
  const modeling = ap.spec.profile?.mode === 'BehaviorModeling';
  const status = modeling
    ? { ...(policy.status ?? { profileName: ap.metadata.name ?? '', ready: false }), phase: 'Modeling' }
    : policy.status;
  return {
    ...policy,
    ...(status ? { status } : {}),
    spec: {
      ...policy.spec,
      target: ap.spec.target ?? policy.spec.target,
      policy: {
        ...policy.spec.policy,
        enforcer: a[ANN_ENFORCER] ?? policy.spec.policy.enforcer,
        mode: a[ANN_MODE] ?? policy.spec.policy.mode,
      },
    },
  } as AnyPolicy;
}
