// The pure decisions of container binding: which containers get a record, which BPF policy a
// record is bound to, and what a runtime listing or the pinned kernel bindings make stale. The
// binder (binder.ts) and the convergence with the runtime (reconcile.ts, adopt.ts) act on them.

import { bindingAnnotation } from '../../profiler/node.js';
import { containerIdentity, containerRefs, containerTargets } from '../core/targets.js';
import type { RuntimeContainer } from '../runtime/source.js';
import type { ContainerRecord } from './registry.js';

/**
 * The record of a workload container that carries a varmor annotation, without its cgroup (the
 * shell resolves it); null for a sandbox (pause) container or a container nothing targets. `as`:
 * the container whose references apply (an ephemeral container's target), by default its own name.
 */
export function containerRecordOf(id: string, pid: number, annotations: Record<string, string>, seenAt: number, as?: string): ContainerRecord | null {
  const ident = containerIdentity(annotations);
  if (ident.type === 'sandbox') return null;
  const signedAs = as ?? ident.name;
  const targets = containerTargets(annotations, signedAs);
  if (!Object.keys(targets).length) return null;
  return {
    signedAs,
    refs: containerRefs(annotations, signedAs),
    signature: annotations[bindingAnnotation(signedAs)],
    containerId: id,
    containerName: ident.name,
    podName: ident.podName,
    podNamespace: ident.podNamespace,
    podUid: ident.podUid,
    profileName: targets.BPF ?? targets.AppArmor ?? targets.Seccomp,
    pid,
    targets,
    seenAt,
  };
}

/**
 * The profile whose BPF policy a container's cgroup is bound to: its BPF profile, or, for a
 * container modelled by an AppArmor/Seccomp-only profile, that profile's record-only tables (the
 * audit programs then report what it does).
 */
export function bpfTargetOf(targets: ContainerRecord['targets'], recording: (profileName: string) => boolean): string | undefined {
  if (targets.BPF) return targets.BPF;
  for (const n of [targets.AppArmor, targets.Seccomp]) if (n && recording(n)) return n;
  return undefined;
}

/**
 * Records the runtime no longer holds. A created, not yet started container is between its
 * createRuntime hook and its start: it stays; so does a record newer than the listing.
 */
export function goneRecords(records: readonly ContainerRecord[], listed: readonly RuntimeContainer[], listedAt: number): ContainerRecord[] {
  const live = new Set(listed.filter((c) => !c.exited).map((c) => c.id));
  return records.filter((r) => !live.has(r.containerId) && r.seenAt < listedAt);
}

/** Kernel bindings no bound record owns (their container went while nobody heard its poststop). */
export function staleBindings(kernel: ReadonlyMap<bigint, number>, ofCgroup: (cgroupId: bigint) => ContainerRecord | undefined): bigint[] {
  const out: bigint[] = [];
  for (const [cgroupId] of kernel) {
    const rec = ofCgroup(cgroupId);
    if (!rec || rec.boundPolicy === undefined) out.push(cgroupId);
  }
  return out;
}

/** A listed container whose pinned binding can be adopted: it runs and has a pid to resolve. */
export function adoptable(c: RuntimeContainer): boolean {
  return c.running && c.pid > 0;
}
