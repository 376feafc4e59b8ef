// The pods bound to this node, as the pod watch delivers them, for what the OCI spec cannot say:
// whether a container without references of its own is an ephemeral container (`kubectl debug
// --target=app`) and whom it targets. The API server cannot add annotations through
// pods/ephemeralcontainers, so such a container carries only its pod's annotations; the Pod's
// spec.ephemeralContainers names its target. The hook may run before the watch delivers the
// updated Pod: waitForContainer waits for it, briefly.

import type { PodLike } from '../profiles/source.js';

/** What a pod says about one of its containers: an ephemeral one and its target, a regular one, or unknown. */
export type PodContainerRole = { kind: 'ephemeral'; target: string } | { kind: 'regular' } | { kind: 'unknown' };

/** Pure: `containerName`'s role in `pod`. An ephemeral container without targetContainerName targets the first container. */
export function containerRole(pod: PodLike, containerName: string): PodContainerRole {
  const spec = pod.spec ?? {};
  const eph = (spec.ephemeralContainers ?? []).find((c) => c.name === containerName);
  if (eph) {
    const target = eph.targetContainerName || spec.containers?.[0]?.name;
    return target ? { kind: 'ephemeral', target } : { kind: 'unknown' };
  }
  if ([...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === containerName)) return { kind: 'regular' };
  return { kind: 'unknown' };
}

/** What the binder asks of the pod watch. */
export interface PodLookup {
  /** `containerName`'s role in pod `namespace/name`, waiting up to `ms` for the watch to know it. */
  roleOf(namespace: string, name: string, containerName: string, ms: number): Promise<PodContainerRole>;
}

export class PodIndex implements PodLookup {
  private readonly pods = new Map<string, PodLike>();
  private readonly waiters = new Set<() => void>();

  apply(pod: PodLike): void {
    this.pods.set(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`, pod);
    for (const w of [...this.waiters]) w();
  }

  remove(pod: PodLike): void {
    this.pods.delete(`${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`);
  }

  roleOf(namespace: string, name: string, containerName: string, ms: number): Promise<PodContainerRole> {
    const now = (): PodContainerRole => {
      const pod = this.pods.get(`${namespace}/${name}`);
      return pod ? containerRole(pod, containerName) : { kind: 'unknown' };
    };
    const first = now();
    if (first.kind !== 'unknown' || ms <= 0) return Promise.resolve(first);
    return new Promise((resolve) => {
      const check = (): void => {
        const r = now();
        if (r.kind === 'unknown') return;
        this.waiters.delete(check);
        clearTimeout(t);
        resolve(r);
      };
      const t = setTimeout(() => {
        this.waiters.delete(check);
        resolve(now());
      }, ms);
      this.waiters.add(check);
    });
  }
}
