// The policy controller: informers on our custom resources feed a rate-limited work queue;
// workers reconcile one policy at a time (see reconcile.ts) while this replica holds the
// leader Lease. Runs inside the webhook process; every replica serves the webhook, only the
// leader reconciles.

import type { Registry } from 'prom-client';
import {
  CustomObjectsApi,
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  type Informer,
  type ObjectCache,
} from '@kubernetes/client-node';
import { type AnyPolicy, API_GROUP, type ArmorProfile, type ArmorProfileModel, LABEL_MODEL_OF, LABEL_POLICY_KIND, LABEL_POLICY_NAME, LABEL_POLICY_NAMESPACE, type Logger, egressInterest, interestedIn } from '../profiler/index.js';
import { systemClock, type Clock } from './clock.js';
import { API_VER, makeKubeClient, PLURALS, type CrKind, type KubeClient } from './kube.js';
import { LeaderElector, makeLeaseStore, type LeaseStore } from './leader.js';
import { controllerMetrics } from './metrics.js';
import { WorkQueue, type BackoffOptions } from './queue.js';
import { Reconciler } from './reconcile.js';
import { policyKey } from './targets.js';
import { collidingWith } from './collisions.js';
import { EgressWatch } from './egress-watch.js';

export type { Logger } from '../profiler/index.js';
export { ManualClock, systemClock, type Clock } from './clock.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** The product namespace: cluster policies' ArmorProfiles and the leader Lease live here. */
  namespace: string;
  /** This replica's name in the Lease (pod name in a cluster). */
  identity: string;
  /** Default true. false: reconcile without a Lease (a single replica, or tests). */
  leaderElection?: boolean;
  /** Where the controller logs (the process's one logger, built by cli/). */
  log: Logger;
  /** Injectable time, for BehaviorModeling runs that end in a test. */
  clock?: Clock;
  /** Re-queue every policy this often (level-triggered safety net). Default 300 s. */
  resyncSeconds?: number;
  /** Concurrent reconciles (never two of the same policy). Default 2. */
  workers?: number;
  /** Wait this long past a modelling deadline for nodes that have not uploaded. Default 120 s. */
  modelingGraceSeconds?: number;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  backoff?: BackoffOptions;
  /** Replace the API client (tests wrap the real one to inject faults). */
  client?: KubeClient;
  leaseStore?: LeaseStore;
  /** Prometheus registry to add the controller's metrics to (the webhook's /metrics). */
  registry?: Registry;
}

export interface ControllerHandle {
  /** Stop reconciling, release the Lease, stop the informers. */
  stop(): Promise<void>;
  /** Is this replica the leader right now (always true without leader election). */
  isLeader(): boolean;
  /** Queue every known policy now (what the periodic resync does). */
  resync(): void;
}

type AnyInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

function informerFor<T extends KubernetesObject>(kc: KubeConfig, kind: CrKind): AnyInformer<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const plural = PLURALS[kind];
  const path = `/apis/${API_GROUP}/${API_VER}/${plural}`;
  return makeInformer<T>(kc, path, async () =>
    api.listClusterCustomObject({ group: API_GROUP, version: API_VER, plural }),
  );
}

export async function startController(opts: ControllerOptions): Promise<ControllerHandle> {
  const log = opts.log;
  const clock = opts.clock ?? systemClock;
  const client = opts.client ?? makeKubeClient(opts.kubeConfig);
  const queue = new WorkQueue<string>(opts.backoff);
  const resyncMs = (opts.resyncSeconds ?? 300) * 1000;
  let stopped = false;
  let leading = opts.leaderElection === false;
  const metrics = controllerMetrics(opts.registry);
  metrics.leader.set(leading ? 1 : 0);

  const policies = informerFor<AnyPolicy & KubernetesObject>(opts.kubeConfig, 'VarmorPolicy');
  const clusterPolicies = informerFor<AnyPolicy & KubernetesObject>(opts.kubeConfig, 'VarmorClusterPolicy');
  const profiles = informerFor<ArmorProfile & KubernetesObject>(opts.kubeConfig, 'ArmorProfile');
  const models = informerFor<ArmorProfileModel & KubernetesObject>(opts.kubeConfig, 'ArmorProfileModel');

  const allPolicies = (): AnyPolicy[] => [
    ...clusterPolicies.list().map((p) => ({ ...p, kind: 'VarmorClusterPolicy' }) as AnyPolicy),
    ...policies.list().map((p) => ({ ...p, kind: 'VarmorPolicy' }) as AnyPolicy),
  ];
  const enqueueAll = (): void => {
    if (!leading || stopped) return;
    for (const p of allPolicies()) queue.add(policyKey(p));
    metrics.queueDepth.set(queue.length);
  };

  // toServices / toPods: a Service, EndpointSlice or Pod change queues the policies naming its
  // kind and namespace; their reconcile compiles the addresses in again (no write when unchanged).
  const egress = new EgressWatch({
    kubeConfig: opts.kubeConfig,
    log,
    onChange: (kind, namespace) => {
      if (!leading || stopped) return;
      for (const p of allPolicies()) {
        const interest = egressInterest(p);
        if (interest && interestedIn(interest, kind, namespace)) queue.add(policyKey(p));
      }
      metrics.queueDepth.set(queue.length);
    },
  });

  const reconciler = new Reconciler({
    client,
    productNamespace: opts.namespace,
    clock,
    log,
    listPolicies: allPolicies,
    modelingGraceMs: (opts.modelingGraceSeconds ?? 120) * 1000,
    egress: (policy) => egress.viewFor(egressInterest(policy)),
  });

  // A policy whose target appears, changes or goes can create or end an overlap with the
  // policies targeting the same kind: queue those too (not on status writes, which are ours).
  const targets = new Map<string, string>();
  const onPolicy = (kind: 'VarmorPolicy' | 'VarmorClusterPolicy') => (p: AnyPolicy & KubernetesObject) => {
    const key = policyKey({ kind, metadata: p.metadata });
    const gone =
      p.metadata.deletionTimestamp !== undefined ||
      !(kind === 'VarmorPolicy' ? policies : clusterPolicies).get(
        p.metadata.name ?? '',
        p.metadata.namespace,
      );
    const target = gone ? '' : JSON.stringify(p.spec?.target ?? null);
    const changed = targets.get(key) !== target;
    if (gone) targets.delete(key);
    else targets.set(key, target);
    if (!leading) return;
    queue.add(key);
    if (!changed) return;
    for (const o of allPolicies()) if (o.spec?.target?.kind === p.spec?.target?.kind) queue.add(policyKey(o));
    // one that shares its profile name or BPF id may now get (or lose) its profile (collisions.ts)
    for (const o of collidingWith({ ...p, kind } as AnyPolicy, allPolicies(), opts.namespace)) queue.add(policyKey(o));
  };
  const keyFromLabels = (labels: Record<string, string> | undefined): string | undefined => {
    const kind = labels?.[LABEL_POLICY_KIND];
    const name = labels?.[LABEL_POLICY_NAME];
    if (!kind || !name) return undefined;
    return policyKey({ kind, metadata: { name, namespace: labels?.[LABEL_POLICY_NAMESPACE] } });
  };
  const onProfile = (ap: ArmorProfile & KubernetesObject) => {
    if (!leading) return;
    const key = keyFromLabels(ap.metadata.labels);
    if (key) queue.add(key);
  };
  const onModel = (m: ArmorProfileModel & KubernetesObject) => {
    if (!leading) return;
    let key = keyFromLabels(m.metadata.labels);
    const of = m.metadata.labels?.[LABEL_MODEL_OF];
    if (!key && of) key = keyFromLabels(profiles.get(of, m.metadata.namespace)?.metadata.labels);
    if (key) queue.add(key);
  };
  policies.on('change', onPolicy('VarmorPolicy'));
  clusterPolicies.on('change', onPolicy('VarmorClusterPolicy'));
  profiles.on('change', onProfile);
  models.on('change', onModel);

  const informers: AnyInformer<KubernetesObject>[] = [
    policies,
    clusterPolicies,
    profiles,
    models,
  ] as unknown as AnyInformer<KubernetesObject>[];
  const restartTimers = new Set<NodeJS.Timeout>();
  for (const [i, inf] of informers.entries()) {
    // client-node's informer stops on an error (API server restart, CRD not yet installed); start it again.
    inf.on('error', (err?: unknown) => {
      if (stopped) return;
      log.warn('informer error; restarting', {
        resource: Object.values(PLURALS)[i],
        error: (err as Error | undefined)?.message,
      });
      const t = setTimeout(() => {
        restartTimers.delete(t);
        if (!stopped) inf.start().catch(() => undefined);
      }, 2000);
      restartTimers.add(t);
    });
  }
  await Promise.all(
    informers.map((inf) =>
      inf
        .start()
        .catch((err: unknown) => log.warn('informer start failed', { error: (err as Error).message })),
    ),
  );

  const workers: Promise<void>[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const work = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      if (!leading || stopped) {
        queue.done(key);
        continue;
      }
      const run = reconciler.reconcile(key);
      inFlight.add(run);
      const timer = metrics.reconcileSeconds.startTimer();
      try {
        const r = await run;
        metrics.reconciles.inc({ result: 'success' });
        queue.forget(key);
        if (r.requeueAfterMs !== undefined) queue.addAfter(key, Math.min(r.requeueAfterMs + 50, resyncMs));
      } catch (err) {
        metrics.reconciles.inc({ result: 'error' });
        const delay = queue.addRateLimited(key);
        log.warn('reconcile failed; will retry', {
          key,
          retryInMs: delay,
          attempts: queue.numRequeues(key),
          error: (err as Error).message,
        });
      } finally {
        timer();
        inFlight.delete(run);
        queue.done(key);
        metrics.queueDepth.set(queue.length);
      }
    }
  };
  for (let i = 0; i < (opts.workers ?? 2); i++) workers.push(work());

  const resyncTimer = setInterval(enqueueAll, resyncMs);

  let elector: LeaderElector | undefined;
  if (opts.leaderElection !== false) {
    elector = new LeaderElector({
      identity: opts.identity,
      store:
        opts.leaseStore ??
        makeLeaseStore(opts.kubeConfig, opts.namespace, opts.leaseName ?? 'varmor-controller'),
      leaseDurationSeconds: opts.leaseDurationSeconds,
      renewDeadlineSeconds: opts.renewDeadlineSeconds,
      retryPeriodSeconds: opts.retryPeriodSeconds,
      onStartedLeading: () => {
        leading = true;
        metrics.leader.set(1);
        enqueueAll();
      },
      onStoppedLeading: () => {
        leading = false;
        metrics.leader.set(0);
      },
      log: (level, msg, fields) => log[level](msg, fields),
    });
    elector.start();
  } else {
    enqueueAll();
  }
  log.info('controller started', {
    identity: opts.identity,
    namespace: opts.namespace,
    leaderElection: opts.leaderElection !== false,
  });

  return {
    isLeader: () => leading,
    resync: enqueueAll,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(resyncTimer);
      for (const t of restartTimers) clearTimeout(t);
      // Finish what is in flight before giving the Lease away, so the next leader never runs
      // the same reconcile concurrently with us; a reconcile stuck on a dead server is cut at 10 s.
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      leading = false;
      metrics.leader.set(0);
      queue.shutdown();
      await elector?.stop(true);
      await Promise.all(informers.map((inf) => inf.stop().catch(() => undefined)));
      await egress.stop();
      await Promise.race([Promise.allSettled(workers), new Promise((r) => setTimeout(r, 1000).unref())]);
      log.info('controller stopped', { identity: opts.identity });
    },
  };
}
