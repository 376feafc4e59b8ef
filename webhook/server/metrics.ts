// The webhook's Prometheus metrics, on a registry of their own (not prom-client's global one), so
// several servers in one process (tests, the benchmark) never share counters.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface WebhookMetrics {
  registry: Registry;
  requests: Counter<'handler' | 'outcome'>;
  /**
   * Counts one request in `requests` the cheap way: a plain number per (handler, outcome), added to
   * the counter when it is scraped. prom-client checks and hashes the labels on every inc(), which
   * showed in the admission profile.
   */
  countRequest(handler: string, outcome: string): void;
  duration: Histogram<'handler'>;
  podsPatched: Counter;
  patchOps: Counter;
  errors: Counter<'handler' | 'code'>;
  conflicts: Counter;
  skipped: Counter<'enforcer'>;
  policies: Gauge<'kind'>;
  policiesRejected: Counter<'source'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'varmor_webhook_' });
  const registers = [registry];
  // handler -> outcome -> requests not yet added to the counter.
  const pending = new Map<string, Map<string, number>>();
  const requests = new Counter({
    name: 'varmor_webhook_requests_total',
    help: 'Admission requests by handler (mutate, validate) and outcome',
    labelNames: ['handler', 'outcome'],
    registers,
    collect() {
      for (const [handler, outcomes] of pending)
        for (const [outcome, n] of outcomes) {
          if (n === 0) continue;
          this.inc({ handler, outcome }, n);
          outcomes.set(outcome, 0);
        }
    },
  });
  return {
    registry,
    requests,
    countRequest(handler, outcome) {
      let outcomes = pending.get(handler);
      if (!outcomes) pending.set(handler, (outcomes = new Map()));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    },
    // Sub-millisecond buckets: the handler's own cost is a fraction of a millisecond.
    duration: new Histogram({
      name: 'varmor_webhook_request_duration_seconds',
      help: 'Time from request received to response sent, by handler',
      labelNames: ['handler'],
      buckets: [0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    podsPatched: new Counter({ name: 'varmor_webhook_pods_patched_total', help: 'Pods answered with a non-empty JSONPatch', registers }),
    patchOps: new Counter({ name: 'varmor_webhook_patch_operations_total', help: 'JSONPatch operations returned', registers }),
    errors: new Counter({
      name: 'varmor_webhook_errors_total',
      help: 'Requests refused as malformed or failed inside the webhook, by code',
      labelNames: ['handler', 'code'],
      registers,
    }),
    conflicts: new Counter({
      name: 'varmor_webhook_policy_conflicts_total',
      help: 'Containers targeted by more than one policy (the priority order picked one)',
      registers,
    }),
    skipped: new Counter({
      name: 'varmor_webhook_enforcer_skipped_total',
      help: "Targeted containers left unconfined by an enforcer (opt-out, own profile, privileged)",
      labelNames: ['enforcer'],
      registers,
    }),
    policies: new Gauge({ name: 'varmor_webhook_policies', help: 'Policies in force, by kind', labelNames: ['kind'], registers }),
    policiesRejected: new Counter({
      name: 'varmor_webhook_policies_rejected_total',
      help: 'Policies a source skipped because they failed validation',
      labelNames: ['source'],
      registers,
    }),
  };
}

/** Sets the policies gauge from the index in force (a store's onChange). */
export function observePolicies(metrics: WebhookMetrics, index: { list(): { kind: string }[] }): void {
  const list = index.list();
  for (const kind of ['VarmorPolicy', 'VarmorClusterPolicy']) metrics.policies.set({ kind }, list.filter((p) => p.kind === kind).length);
}
