// List, then watch from the list's resourceVersion; on a broken stream watch again from the last
// version seen, on 410 Gone list again (emitting deletes for objects that vanished meanwhile).
// Level-triggered consumers only need add/update/delete and the current set.

import { type KubeClient, KubeError, type WatchEvent } from './client.js';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface InformerHandlers<T> {
  apply(obj: T): void;
  remove(obj: T): void;
  error?(e: Error): void;
}

const RETRY_MS = 1000;

export class Informer<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private resourceVersion = '';
  private stopped = false;
  private current: { stop(): void } | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly path: string,
    private readonly fieldSelector: string | undefined,
    private readonly h: InformerHandlers<T>,
  ) {}

  private key(o: T): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.fieldSelector) q.set('fieldSelector', this.fieldSelector);
    return `${this.path}?${q.toString()}`;
  }

  private async list(): Promise<void> {
    const res = await this.client.request<{ items?: T[]; metadata?: { resourceVersion?: string } }>('GET', this.query({}));
    const seen = new Set<string>();
    for (const o of res.items ?? []) {
      const k = this.key(o);
      seen.add(k);
      this.objects.set(k, o);
      this.h.apply(o);
    }
    for (const [k, o] of [...this.objects]) {
      if (!seen.has(k)) {
        this.objects.delete(k);
        this.h.remove(o);
      }
    }
    this.resourceVersion = res.metadata?.resourceVersion ?? '';
  }

  private onEvent(e: WatchEvent<T>): void {
    if (e.type === 'ERROR') {
      const status = (e.object as unknown as { code?: number; message?: string }) ?? {};
      throw new KubeError(status.code ?? 500, `watch ${this.path}: ${status.message ?? 'error event'}`);
    }
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const k = this.key(e.object);
    if (e.type === 'DELETED') {
      this.objects.delete(k);
      this.h.remove(e.object);
    } else {
      this.objects.set(k, e.object);
      this.h.apply(e.object);
    }
  }

  /** Resolves after the first list has been delivered; watching continues in the background. */
  async start(): Promise<void> {
    await this.list();
    this.loop = this.watchLoop();
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        const w = this.client.watch<T>(this.query({ watch: '1', resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: '300' }), (e) => this.onEvent(e));
        this.current = w;
        await w.done;
      } catch (e) {
        if (this.stopped) return;
        this.h.error?.(e as Error);
        await new Promise((r) => setTimeout(r, RETRY_MS));
        if ((e as KubeError).status === 410 || !this.resourceVersion) {
          try {
            await this.list();
          } catch (le) {
            this.h.error?.(le as Error);
          }
        }
      }
    }
  }

  items(): T[] {
    return [...this.objects.values()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    await this.loop?.catch(() => undefined);
  }
}
