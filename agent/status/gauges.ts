// The node's gauges as values, from the profile and container state: containers bound to a BPF
// policy, BPF policies placed here, profiles by enforcer and placement state. Pure; the report
// (report.ts) sets them on the metrics.

import type { Enforcer } from '../../profiler/node.js';
import type { EnforcerResult, ProfileResults } from './entry.js';

export interface NodeGauges {
  boundContainers: number;
  bpfPolicies: number;
  profiles: { enforcer: Enforcer; state: EnforcerResult['state']; count: number }[];
}

export function nodeGauges(
  containers: Iterable<{ boundPolicy?: number }>,
  profiles: Iterable<{ results: ProfileResults; bpfLoadedVersion?: string }>,
): NodeGauges {
  let boundContainers = 0;
  for (const r of containers) if (r.boundPolicy !== undefined) boundContainers++;
  let bpfPolicies = 0;
  const counts = new Map<string, NodeGauges['profiles'][number]>();
  for (const st of profiles) {
    if (st.bpfLoadedVersion !== undefined) bpfPolicies++;
    for (const [enforcer, r] of Object.entries(st.results) as [Enforcer, EnforcerResult][]) {
      const key = `${enforcer}/${r.state}`;
      const c = counts.get(key) ?? { enforcer, state: r.state, count: 0 };
      c.count++;
      counts.set(key, c);
    }
  }
  return { boundContainers, bpfPolicies, profiles: [...counts.values()] };
}
