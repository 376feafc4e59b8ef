// Converges the bindings with what the runtime reports: binds running targeted containers that
// are not bound (agent restart, containers started while the hook was not configured), forgets
// containers the runtime no longer runs, and removes kernel bindings no running container owns.
// Level-triggered: run periodically and after adoption; each run reads the world again.

import type { BpfHandle } from '../loaders/bpf.js';
import type { Logger } from '../../profiler/node.js';
import type { ContainerSource } from '../runtime/source.js';
import type { NodeReport } from '../status/report.js';
import type { ContainerBinder } from './binder.js';
import type { ContainerRegistry } from './registry.js';
import { goneRecords, staleBindings } from './plan.js';
import { errMsg } from '../errors.js';

export interface ReconcileDeps {
  bpf: BpfHandle;
  runtime: ContainerSource;
  log: Logger;
  containers: ContainerRegistry;
  binder: ContainerBinder;
  report: NodeReport;
}

export interface ReconcileResult {
  bound: number;
  removed: number;
  stale: number;
}

export async function reconcileContainers(d: ReconcileDeps): Promise<ReconcileResult> {
  const listedAt = Date.now();
  const list = await d.runtime.list(d.containers.ids());
  let bound = 0;
  let removed = 0;
  let stale = 0;
  const running = new Map(list.filter((c) => c.running).map((c) => [c.id, c]));
  for (const c of running.values()) {
    let rec = d.containers.get(c.id);
    if (!rec) {
      try {
        rec = (await d.binder.admit(c.id, c.pid, c.annotations, { cgroupsPath: c.cgroupsPath })) ?? undefined;
      } catch (e) {
        d.log.warn('container not resolved', { containerId: c.id, error: errMsg(e) });
        continue;
      }
    }
    if (rec && d.binder.bpfTarget(rec) && rec.boundPolicy === undefined) {
      const decision = await d.binder.bind(rec, false);
      if (decision.ok && rec.boundPolicy !== undefined) bound++;
      // A refusal is reported once by the binder (log + Event), not at every resync.
      else if (!decision.ok && decision.reason !== rec.refusal) d.log.error('container not bound', { containerId: c.id, reason: decision.reason });
    }
  }
  for (const rec of goneRecords(d.containers.all(), list, listedAt)) {
    d.binder.forget(rec);
    removed++;
  }
  const bpf = d.bpf.backend;
  if (bpf) {
    for (const cgroupId of staleBindings(bpf.bindings(), (id) => d.containers.ofCgroup(id))) {
      bpf.unbindCgroup(cgroupId);
      stale++;
    }
  }
  if (bound || removed || stale) d.log.info('containers reconciled', { bound, removed, stale });
  d.report.gauges();
  return { bound, removed, stale };
}
