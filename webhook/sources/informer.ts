// Policies from the cluster: two informers (@kubernetes/client-node's list+watch with a local cache)
// on VarmorPolicy and VarmorClusterPolicy feed the store. Namespaces are not watched: the webhook
// configuration's namespaceSelector decides opt-in in the API server, which a cache could only get
// wrong (a fresh namespace not yet seen would be admitted unsandboxed). An informer that errors (API
// server restart, expired resourceVersion) stops; it is restarted after a back-off, and readiness
// reports false until every informer has listed once.

import { CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { API_GROUP } from '../../profiler/index.js';
import type { PolicyStore, StoreLogger } from './store.js';

const VERSION = 'v1beta1';
const PLURALS = { VarmorPolicy: 'varmorpolicies', VarmorClusterPolicy: 'varmorclusterpolicies' } as const;

export interface InformerSourceOptions {
  kubeConfig: KubeConfig;
  store: PolicyStore;
  log?: StoreLogger;
  /** Back-off before restarting a failed informer. Default 2 s, doubling to 60 s. */
  restartDelayMs?: number;
}

type Kind = keyof typeof PLURALS;

export class InformerSource {
  private readonly informers: { name: string; informer: Informer<KubernetesObject>; synced: boolean; delay: number; timer?: NodeJS.Timeout }[] = [];
  private stopped = false;

  constructor(private readonly opts: InformerSourceOptions) {}

  private policyInformer(kind: Kind): Informer<KubernetesObject> {
    const api = this.opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const plural = PLURALS[kind];
    const informer = makeInformer<KubernetesObject>(
      this.opts.kubeConfig,
      `/apis/${API_GROUP}/${VERSION}/${plural}`,
      async () => (await api.listClusterCustomObject({ group: API_GROUP, version: VERSION, plural })) as KubernetesListObject<KubernetesObject>,
    );
    const upsert = (obj: KubernetesObject) => {
      const res = this.opts.store.upsert({ ...obj, kind }, `cluster:${kind}`);
      if (res.ok) this.opts.log?.info({ policy: res.policy.id, profile: res.policy.profileName }, 'policy in force');
    };
    informer.on('add', upsert);
    informer.on('update', upsert);
    informer.on('delete', (obj) => {
      if (this.opts.store.delete({ ...obj, kind })) this.opts.log?.info({ policy: `${kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}` }, 'policy removed');
    });
    return informer;
  }

  async start(): Promise<void> {
    const all: [string, Informer<KubernetesObject>][] = [
      ['VarmorPolicy', this.policyInformer('VarmorPolicy')],
      ['VarmorClusterPolicy', this.policyInformer('VarmorClusterPolicy')],
    ];
    const base = this.opts.restartDelayMs ?? 2000;
    for (const [name, informer] of all) {
      const entry = { name, informer, synced: false, delay: base, timer: undefined as NodeJS.Timeout | undefined };
      this.informers.push(entry);
      informer.on('connect', () => {
        entry.delay = base;
      });
      informer.on('error', (err: unknown) => {
        if (this.stopped) return;
        this.opts.log?.warn({ informer: name, reason: (err as Error)?.message ?? String(err), retryInMs: entry.delay }, 'informer failed; restarting');
        entry.timer = setTimeout(() => {
          if (this.stopped) return;
          informer.start().then(
            () => {
              entry.synced = true;
            },
            () => undefined, // the informer emits 'error' again, which schedules the next try
          );
        }, entry.delay);
        entry.delay = Math.min(entry.delay * 2, 60_000);
      });
    }
    // start() resolves after the initial list: the store then holds every policy.
    await Promise.all(
      this.informers.map(async (e) => {
        await e.informer.start();
        e.synced = true;
      }),
    );
  }

  synced(): boolean {
    return this.informers.length > 0 && this.informers.every((e) => e.synced);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.informers) {
      if (e.timer) clearTimeout(e.timer);
      await e.informer.stop();
    }
  }
}
