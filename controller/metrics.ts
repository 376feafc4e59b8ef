// The controller's Prometheus metrics, registered on the registry the process serves (the
// webhook's), or on a private one when none is given.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ControllerMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  reconcileSeconds: Histogram;
  queueDepth: Gauge;
  leader: Gauge;
}

export function controllerMetrics(registry: Registry = new Registry()): ControllerMetrics {
  const registers = [registry];
  const existing = registry.getSingleMetric('varmor_controller_reconciles_total');
  if (existing) {
    // A second controller in the same process (tests): share the metrics rather than fail to register.
    return {
      registry,
      reconciles: existing as Counter<'result'>,
      reconcileSeconds: registry.getSingleMetric('varmor_controller_reconcile_duration_seconds') as Histogram,
      queueDepth: registry.getSingleMetric('varmor_controller_queue_depth') as Gauge,
      leader: registry.getSingleMetric('varmor_controller_is_leader') as Gauge,
    };
  }
  return {
    registry,
    reconciles: new Counter({
      name: 'varmor_controller_reconciles_total',
      help: 'Policy reconciles by result (success, error)',
      labelNames: ['result'],
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: 'varmor_controller_reconcile_duration_seconds',
      help: 'Time to reconcile one policy',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'varmor_controller_queue_depth',
      help: 'Policies waiting to be reconciled',
      registers,
    }),
    leader: new Gauge({
      name: 'varmor_controller_is_leader',
      help: '1 while this replica holds the leader Lease',
      registers,
    }),
  };
}
