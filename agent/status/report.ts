// What the node says about itself after a change: a profile's status entry for this node
// (handed to the StatusSink, which writes it to the API server) and the gauges, recomputed from
// the profile and container stores.

import type { AgentMetrics } from '../metrics.js';
import type { ProfileState, ProfileStore } from '../profiles/store.js';
import type { ContainerRegistry } from '../binding/registry.js';
import type { StatusTarget } from './writer.js';
import { nodeEntry } from './entry.js';
import { nodeGauges } from './gauges.js';

export interface StatusSink {
  set(target: StatusTarget, cond: ReturnType<typeof nodeEntry>): void;
}

export interface NodeReportDeps {
  nodeName: string;
  status?: StatusSink;
  metrics: Pick<AgentMetrics, 'boundContainers' | 'bpfPolicies' | 'profiles'>;
  profiles: ProfileStore;
  containers: ContainerRegistry;
}

export class NodeReport {
  constructor(private readonly d: NodeReportDeps) {}

  /** The profile's entry for this node changed (or may have). */
  publish(st: ProfileState): void {
    if (!this.d.status) return;
    this.d.status.set(st.target, nodeEntry(this.d.nodeName, st.results, st.decodeError, st.conflict));
    this.gauges();
  }

  gauges(): void {
    const m = this.d.metrics;
    const g = nodeGauges(this.d.containers.all(), this.d.profiles.states());
    m.boundContainers.set(g.boundContainers);
    m.profiles.reset();
    for (const p of g.profiles) m.profiles.inc({ enforcer: p.enforcer, state: p.state }, p.count);
    m.bpfPolicies.set(g.bpfPolicies);
  }
}
