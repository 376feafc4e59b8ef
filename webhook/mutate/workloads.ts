// Which workloads a Pod belongs to, read from what the Pod carries at admission: its controller
// owner reference and its labels. A Deployment's Pod is owned by the ReplicaSet `<deployment>-<hash>`
// and carries `pod-template-hash: <hash>`, which is how the Deployment's name is recovered without
// asking the API server (the webhook stays a pure function of the request).

import type { Pod } from './types.js';

export interface Workload {
  kind: string;
  name: string;
}

const TEMPLATE_HASH = 'pod-template-hash';

/** The Pod itself first, then its controller and, for a ReplicaSet of a Deployment, the Deployment. */
export function podWorkloads(pod: Pod): Workload[] {
  const meta = pod.metadata ?? {};
  const out: Workload[] = [{ kind: 'Pod', name: meta.name ?? '' }];
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  const controller = owners.find((o) => o && o.controller === true) ?? (owners.length === 1 ? owners[0] : undefined);
  if (!controller || typeof controller.kind !== 'string' || typeof controller.name !== 'string') return out;
  out.push({ kind: controller.kind, name: controller.name });
  if (controller.kind === 'ReplicaSet') {
    const hash = meta.labels?.[TEMPLATE_HASH];
    if (hash && controller.name.endsWith(`-${hash}`) && controller.name.length > hash.length + 1) {
      out.push({ kind: 'Deployment', name: controller.name.slice(0, -(hash.length + 1)) });
    }
  }
  return out;
}
