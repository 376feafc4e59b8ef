// What concerns this node from the API server, through client-node informers:
//  - ArmorProfiles (all namespaces: one per policy, so the count follows the policies, not the
//    cluster's size), decoded and handed to the agent;
//  - the Pods bound to this node only (fieldSelector spec.nodeName=<node>), so the watch carries
//    this node's pods and nothing else; used to place a pod's BPF tables as soon as it is
//    scheduled here (its hook then only binds).
// Informers re-list and re-watch on errors (with a delay), so a restarted API server is survived.

import { CoreV1Api, CustomObjectsApi, ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { ArmorProfile } from '../../profiler/api/types.js';
import { API_GROUP } from '../../profiler/api/types.js';
import type { Logger } from '../log.js';

const RESTART_DELAY_MS = 2000;

export interface ProfileHandlers {
  apply(ap: ArmorProfile): void;
  remove(ap: ArmorProfile): void;
}

export interface PodHandlers {
  apply(pod: V1Pod): void;
  remove(pod: V1Pod): void;
}

abstract class Source<T extends { metadata?: { name?: string; namespace?: string } }> {
  private lw: ListWatch<T & { metadata?: object }> | undefined;
  private stopped = false;

  constructor(
    protected readonly kc: KubeConfig,
    protected readonly log: Logger,
    private readonly what: string,
  ) {}

  protected abstract path(): string;
  protected abstract list(): Promise<KubernetesListObject<T>>;
  protected abstract fieldSelector(): string | undefined;
  protected abstract onApply(obj: T): void;
  protected abstract onRemove(obj: T): void;

  /** Resolves after the first list has been delivered. */
  async start(): Promise<void> {
    const lw = new ListWatch<T & { metadata?: object }>(
      this.path(),
      new Watch(this.kc),
      () => this.list() as never,
      false,
      undefined,
      this.fieldSelector(),
    );
    this.lw = lw;
    lw.on('add', (o) => this.onApply(o));
    lw.on('update', (o) => this.onApply(o));
    lw.on('delete', (o) => this.onRemove(o));
    lw.on('error', (e: unknown) => {
      if (this.stopped) return;
      this.log.warn('watch failed; restarting', { source: this.what, error: (e as Error)?.message ?? String(e) });
      setTimeout(() => {
        if (!this.stopped) lw.start().catch((err: Error) => this.log.error('re-list failed', { source: this.what, error: err.message }));
      }, RESTART_DELAY_MS);
    });
    await lw.start();
  }

  /** Every object the informer holds (for a full resync). */
  objects(): T[] {
    return (this.lw?.list() ?? []) as T[];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.lw?.stop();
  }
}

export class ArmorProfileSource extends Source<KubernetesObject> {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig, log: Logger, private readonly h: ProfileHandlers) {
    super(kc, log, 'armorprofiles');
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  protected path(): string {
    return `/apis/${API_GROUP}/v1beta1/armorprofiles`;
  }
  protected async list(): Promise<KubernetesListObject<KubernetesObject>> {
    return (await this.api.listClusterCustomObject({ group: API_GROUP, version: 'v1beta1', plural: 'armorprofiles' })) as KubernetesListObject<KubernetesObject>;
  }
  protected fieldSelector(): undefined {
    return undefined;
  }
  protected onApply(o: KubernetesObject): void {
    this.h.apply(o as unknown as ArmorProfile);
  }
  protected onRemove(o: KubernetesObject): void {
    this.h.remove(o as unknown as ArmorProfile);
  }
}

export class NodePodSource extends Source<V1Pod> {
  private readonly api: CoreV1Api;

  constructor(kc: KubeConfig, log: Logger, private readonly nodeName: string, private readonly h: PodHandlers) {
    super(kc, log, 'pods');
    this.api = kc.makeApiClient(CoreV1Api);
  }

  protected path(): string {
    return '/api/v1/pods';
  }
  protected list(): Promise<KubernetesListObject<V1Pod>> {
    return this.api.listPodForAllNamespaces({ fieldSelector: this.fieldSelector() }) as Promise<KubernetesListObject<V1Pod>>;
  }
  protected fieldSelector(): string {
    return `spec.nodeName=${this.nodeName}`;
  }
  protected onApply(o: V1Pod): void {
    this.h.apply(o);
  }
  protected onRemove(o: V1Pod): void {
    this.h.remove(o);
  }
}
