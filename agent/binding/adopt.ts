// Pin adoption, after a restart: the bindings a previous agent pinned are still in force in the
// kernel. Adopt the ones whose container still runs (they stay bound throughout: the map entry is
// never removed), so the following reconcile only removes entries of containers that exited
// meanwhile; then reload (swap) the tables of the adopted policies from the current profiles.
// Only bindings the binder would make today are adopted (binding/authorize.ts).

import type { BpfHandle } from '../loaders/bpf.js';
import type { Logger } from '../../profiler/node.js';
import type { ContainerSource } from '../runtime/source.js';
import type { ProfileState, ProfileStore } from '../profiles/store.js';
import type { BpfPlacement } from '../profiles/placement.js';
import type { NodeReport } from '../status/report.js';
import type { ContainerBinder } from './binder.js';
import type { BoundCounter, ContainerRecord } from './registry.js';
import { adoptable } from './plan.js';

export interface AdoptDeps {
  bpf: BpfHandle;
  runtime: ContainerSource;
  log: Logger;
  profiles: ProfileStore;
  containers: BoundCounter;
  binder: Pick<ContainerBinder, 'admit' | 'keepsPinned'>;
  placement: BpfPlacement;
  report: NodeReport;
}

/** Profiles whose tables are in force through an adopted binding (their own, or record-only while modelling). Pure. */
export function adoptedProfiles(states: readonly ProfileState[], bound: BoundCounter): ProfileState[] {
  return states.filter((st) => st.profile && bound.boundCount(st.profile.bpfPolicyId) > 0 && (st.profile.bpfTables || st.recorder));
}

/** Returns how many running containers kept their pinned binding. */
export async function adoptPinnedBindings(d: AdoptDeps): Promise<number> {
  const bpf = d.bpf.backend;
  if (!bpf) return 0;
  const pinned = bpf.bindings();
  if (!pinned.size) return 0;
  const list = await d.runtime.list(new Set());
  let adopted = 0;
  for (const c of list) {
    if (!adoptable(c)) continue;
    let rec: ContainerRecord | null;
    try {
      rec = await d.binder.admit(c.id, c.pid, c.annotations, { cgroupsPath: c.cgroupsPath });
    } catch {
      continue;
    }
    if (!rec || rec.cgroupId === undefined) continue;
    const policy = pinned.get(rec.cgroupId);
    if (policy === undefined) continue;
    // A binding an earlier agent made without today's checks (another namespace's policy, an id
    // now held by another identity) is not adopted: the reconcile that follows removes it.
    if (!d.binder.keepsPinned(rec, policy)) {
      d.log.warn('pinned binding not adopted', { containerId: c.id, namespace: rec.podNamespace, pod: rec.podName, container: rec.containerName, policyId: policy });
      continue;
    }
    rec.boundPolicy = policy;
    adopted++;
  }
  // Tables of adopted policies are in force, as the old agent loaded them: reload them from the
  // current profiles (an atomic swap) and report them placed.
  for (const st of adoptedProfiles(d.profiles.states(), d.containers)) {
    st.bpfLoadedVersion = undefined;
    st.results.BPF = d.placement.placeBpfNow(st);
    d.report.publish(st);
  }
  d.log.info('pinned bindings adopted', { pinned: pinned.size, adopted });
  d.report.gauges();
  return adopted;
}
