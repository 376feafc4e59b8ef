// The cluster's Services, EndpointSlices and Pods, watched for the policies whose egress rules
// name them (egress.ts). The informers start on first need only: a cluster without toServices /
// toPods rules never lists its Pods into the manager's memory. A reconcile waits until the
// informers it needs have listed once, so a manager that has just started never writes an
// ArmorProfile from an empty cache (which would drop the addresses the agents enforce now).

import {
  CoreV1Api,
  DiscoveryV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1EndpointSlice,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { EgressInterest, EgressView, EndpointSliceView, Logger, PodView, ServiceView } from '../profiler/index.js';
import { ControllerError } from './errors.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type Source = 'services' | 'endpointslices' | 'pods';

interface Watched<T extends KubernetesObject> {
  informer: Informer<T> & ObjectCache<T>;
  synced: Promise<void>;
  markSynced: () => void;
}

export interface EgressWatchOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** Called for every add, update and delete, with the object's kind and namespace. */
  onChange: (kind: 'Service' | 'Pod', namespace: string | undefined) => void;
  /** A reconcile gives up waiting for a first list after this long (and is retried). Default 30 s. */
  syncTimeoutMs?: number;
}

function serviceView(s: V1Service): ServiceView {
  const ips = s.spec?.clusterIPs?.length ? s.spec.clusterIPs : s.spec?.clusterIP ? [s.spec.clusterIP] : [];
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    labels: s.metadata?.labels ?? {},
    clusterIPs: ips.filter((ip) => ip !== '' && ip !== 'None'),
  };
}

function sliceView(e: V1EndpointSlice): EndpointSliceView {
  return {
    namespace: e.metadata?.namespace ?? '',
    service: e.metadata?.labels?.[SERVICE_NAME_LABEL] ?? '',
    // every endpoint, ready or not: a deny rule that waits for readiness would open a window
    addresses: (e.endpoints ?? []).flatMap((ep) => ep.addresses ?? []),
    ports: (e.ports ?? []).flatMap((p) => (typeof p.port === 'number' ? [p.port] : [])),
  };
}

function podView(p: V1Pod): PodView {
  const ips = p.status?.podIPs?.length ? p.status.podIPs.map((x) => x.ip) : p.status?.podIP ? [p.status.podIP] : [];
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    labels: p.metadata?.labels ?? {},
    // a host-network Pod's address is its node's: selecting it would block the whole node
    ips: p.spec?.hostNetwork ? [] : ips,
  };
}

export class EgressWatch {
  private readonly watched = new Map<Source, Watched<KubernetesObject>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly o: EgressWatchOptions) {}

  /** The view over the caches, once the informers this interest needs have listed. */
  async viewFor(interest: EgressInterest | undefined): Promise<EgressView | undefined> {
    if (!interest) return undefined;
    const needed: Source[] = [];
    if (interest.services.size > 0) needed.push('services', 'endpointslices');
    if (interest.pods.size > 0) needed.push('pods');
    const waits = needed.map((s) => this.ensure(s).synced);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ControllerError('VARMOR_ERR_EGRESS_SYNC', `the ${needed.join(', ')} of the cluster could not be listed (is the manager allowed to list and watch them?); the ArmorProfile is left as it is`)),
        this.o.syncTimeoutMs ?? 30_000,
      );
    });
    try {
      await Promise.race([Promise.all(waits), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.view();
  }

  private view(): EgressView {
    const list = <T extends KubernetesObject>(s: Source, namespace?: string): T[] =>
      (this.watched.get(s)?.informer.list(namespace) ?? []) as T[];
    return {
      services: (ns) => list<V1Service>('services', ns).map(serviceView),
      endpointSlices: (ns, service) =>
        list<V1EndpointSlice>('endpointslices', ns)
          .map(sliceView)
          .filter((e) => e.service === service),
      pods: (ns) => list<V1Pod>('pods', ns).map(podView),
    };
  }

  private ensure(source: Source): Watched<KubernetesObject> {
    const existing = this.watched.get(source);
    if (existing) return existing;
    const kc = this.o.kubeConfig;
    let informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
    let kind: 'Service' | 'Pod' = 'Service';
    switch (source) {
      case 'services': {
        const api = kc.makeApiClient(CoreV1Api);
        informer = makeInformer<V1Service>(kc, '/api/v1/services', () => api.listServiceForAllNamespaces()) as typeof informer;
        break;
      }
      case 'endpointslices': {
        const api = kc.makeApiClient(DiscoveryV1Api);
        informer = makeInformer<V1EndpointSlice>(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => api.listEndpointSliceForAllNamespaces()) as typeof informer;
        break;
      }
      case 'pods': {
        const api = kc.makeApiClient(CoreV1Api);
        informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => api.listPodForAllNamespaces()) as typeof informer;
        kind = 'Pod';
        break;
      }
    }
    let markSynced: () => void = () => undefined;
    const synced = new Promise<void>((resolve) => (markSynced = resolve));
    const w: Watched<KubernetesObject> = { informer, synced, markSynced };
    this.watched.set(source, w);
    const changed = (obj: KubernetesObject): void => this.o.onChange(kind, obj.metadata?.namespace);
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    let failed = false;
    informer.on('error', (err?: unknown) => {
      failed = true;
      if (this.stopped) return;
      this.o.log.warn('informer error; restarting', { resource: source, error: (err as Error | undefined)?.message });
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) start();
      }, 2000);
      this.timers.add(t);
    });
    // client-node's start() returns once the first list is in the cache and the watch is open,
    // or after an error (reported through 'error' above, which starts it again).
    const start = (): void => {
      failed = false;
      informer
        .start()
        .then(() => {
          if (!failed) w.markSynced();
        })
        .catch((err: unknown) => this.o.log.warn('informer start failed', { resource: source, error: (err as Error).message }));
    };
    start();
    this.o.log.info('watching for egress rules', { resource: source });
    return w;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.watched.values()].map((w) => w.informer.stop().catch(() => undefined)));
  }
}
