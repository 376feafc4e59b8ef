// The agent's Prometheus metrics (prom-client, its own registry so tests and several agents in
// one process do not collide). vArmor's agent has none; these answer "is this node protecting
// what it should": profiles by state, bound containers, hook latency and outcome, violations.

import client from 'prom-client';

export class AgentMetrics {
  readonly registry = new client.Registry();
  readonly profiles: client.Gauge<'enforcer' | 'state'>;
  readonly boundContainers: client.Gauge;
  readonly bpfPolicies: client.Gauge;
  readonly hookRequests: client.Counter<'stage' | 'result'>;
  readonly hookSeconds: client.Histogram<'stage'>;
  readonly violations: client.Counter<'enforcer' | 'action' | 'namespace' | 'profile'>;
  readonly loads: client.Counter<'enforcer' | 'result'>;

  constructor(nodeName: string) {
    this.registry.setDefaultLabels({ node_name: nodeName });
    const r = [this.registry];
    this.profiles = new client.Gauge({ name: 'varmor_agent_profiles', help: 'Profiles on this node by enforcer and state', labelNames: ['enforcer', 'state'], registers: r });
    this.boundContainers = new client.Gauge({ name: 'varmor_agent_bound_containers', help: 'Containers whose cgroup is bound to a BPF policy', registers: r });
    this.bpfPolicies = new client.Gauge({ name: 'varmor_agent_bpf_policies', help: 'BPF policies placed on this node', registers: r });
    this.hookRequests = new client.Counter({ name: 'varmor_agent_hook_requests_total', help: 'OCI hook requests by stage and result', labelNames: ['stage', 'result'], registers: r });
    this.hookSeconds = new client.Histogram({
      name: 'varmor_agent_hook_duration_seconds',
      help: 'Time the agent took to answer an OCI hook (container start is blocked meanwhile)',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: r,
    });
    this.violations = new client.Counter({ name: 'varmor_agent_violations_total', help: 'Violation events', labelNames: ['enforcer', 'action', 'namespace', 'profile'], registers: r });
    this.loads = new client.Counter({ name: 'varmor_agent_profile_loads_total', help: 'Profile loads by enforcer and result', labelNames: ['enforcer', 'result'], registers: r });
    client.collectDefaultMetrics({ register: this.registry, prefix: 'varmor_agent_' });
  }
}
