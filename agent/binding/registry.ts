// The containers this agent keeps a record of (workload containers carrying a varmor annotation),
// by container id and by cgroup id (what BPF events carry), with the BPF policy each is bound to.

import type { ContainerRef } from '../events/violation.js';
import type { ContainerTargets } from '../core/targets.js';
import type { BindingRefs } from '../../profiler/node.js';

export interface ContainerRecord extends ContainerRef {
  pid: number;
  cgroupId?: bigint;
  targets: ContainerTargets;
  /** The container name its references were written for (an ephemeral container's target, else its own). */
  signedAs: string;
  /** Its reference annotation values and the webhook's signature of them (binding/authorize.ts). */
  refs: BindingRefs;
  signature?: string;
  /** The last binding refusal reported (a refusal is logged and sent as an Event once, not every resync). */
  refusal?: string;
  /** BPF policy id the cgroup is bound to. */
  boundPolicy?: number;
  /** When the agent learnt of it (a runtime listing older than this must not remove it). */
  seenAt: number;
}

/** How many containers here are bound to a policy (placement keeps tables while one is). */
export interface BoundCounter {
  boundCount(policyId: number): number;
}

export class ContainerRegistry implements BoundCounter {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byCgroup = new Map<bigint, ContainerRecord>();

  get(containerId: string): ContainerRecord | undefined {
    return this.byId.get(containerId);
  }

  ofCgroup(cgroupId: bigint): ContainerRecord | undefined {
    return this.byCgroup.get(cgroupId);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  ids(): Set<string> {
    return new Set(this.byId.keys());
  }

  add(rec: ContainerRecord): void {
    this.byId.set(rec.containerId, rec);
    if (rec.cgroupId !== undefined) this.byCgroup.set(rec.cgroupId, rec);
  }

  delete(rec: ContainerRecord): void {
    this.byId.delete(rec.containerId);
    // Another record may hold the same cgroup id (a reused cgroup inode): only this one's entry goes.
    if (rec.cgroupId !== undefined && this.byCgroup.get(rec.cgroupId) === rec) this.byCgroup.delete(rec.cgroupId);
  }

  boundTo(policyId: number): ContainerRecord[] {
    return this.all().filter((r) => r.boundPolicy === policyId);
  }

  boundCount(policyId: number): number {
    let n = 0;
    for (const r of this.byId.values()) if (r.boundPolicy === policyId) n++;
    return n;
  }
}
