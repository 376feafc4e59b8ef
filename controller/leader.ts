// Leader election on a coordination.k8s.io/v1 Lease (client-node 1.4 has none): acquire when
// the lease is free or expired, renew while held, release on stop. Writes carry the lease's
// resourceVersion, so of two candidates racing for an expired lease exactly one wins (the
// other gets 409). Timings follow client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry.

import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { KubeApiError } from './errors.js';
import { wrap } from './kube.js';

export interface LeaseRecord {
  holder?: string;
  renewTime?: Date;
  leaseDurationSeconds?: number;
  transitions?: number;
  resourceVersion?: string;
}

/** Pure: may `identity` take or keep the lease at `now`? */
export function canAcquire(lease: LeaseRecord | undefined, identity: string, now: Date): boolean {
  if (!lease || !lease.holder) return true;
  if (lease.holder === identity) return true;
  if (!lease.renewTime) return true;
  const expires = lease.renewTime.getTime() + (lease.leaseDurationSeconds ?? 15) * 1000;
  return now.getTime() > expires;
}

export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  /** Create or replace; throws KubeApiError 409 when the resourceVersion is stale. */
  write(rec: LeaseRecord, acquireTime: Date | undefined): Promise<void>;
}

export function makeLeaseStore(kc: KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  let last: V1Lease | undefined;
  return {
    async get() {
      try {
        last = await wrap(`get Lease ${namespace}/${name}`, () =>
          api.readNamespacedLease({ namespace, name }),
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) {
          last = undefined;
          return undefined;
        }
        throw err;
      }
      const s = last.spec ?? {};
      return {
        holder: s.holderIdentity ?? undefined,
        renewTime: s.renewTime ? new Date(s.renewTime) : undefined,
        leaseDurationSeconds: s.leaseDurationSeconds,
        transitions: s.leaseTransitions,
        resourceVersion: last.metadata?.resourceVersion,
      };
    },
    async write(rec, acquireTime) {
      const spec = {
        ...(last?.spec ?? {}),
        holderIdentity: rec.holder,
        leaseDurationSeconds: rec.leaseDurationSeconds,
        leaseTransitions: rec.transitions,
        renewTime: rec.renewTime ? new V1MicroTime(rec.renewTime.getTime()) : undefined,
        ...(acquireTime ? { acquireTime: new V1MicroTime(acquireTime.getTime()) } : {}),
      };
      if (!rec.resourceVersion) {
        last = await wrap(`create Lease ${namespace}/${name}`, () =>
          api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec } }),
        );
      } else {
        last = await wrap(`update Lease ${namespace}/${name}`, () =>
          api.replaceNamespacedLease({
            namespace,
            name,
            body: { metadata: { name, namespace, resourceVersion: rec.resourceVersion }, spec },
          }),
        );
      }
    },
  };
}

export interface LeaderElectorOptions {
  identity: string;
  store: LeaseStore;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  private loop?: Promise<void>;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.duration = opts.leaseDurationSeconds ?? 15;
    this.renewDeadline = opts.renewDeadlineSeconds ?? 10;
    this.retry = opts.retryPeriodSeconds ?? 2;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop = this.tick();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.loop = this.tick();
    }, this.retry * 1000);
  }

  /** One attempt to acquire or renew. Exposed for tests; the loop calls it every retry period. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.log?.('warn', 'leader election attempt failed', { error: (err as Error).message });
    }
    // A leader that could not renew within the renew deadline steps down before the lease
    // expires, so two replicas never believe they lead at the same time.
    if (this.leading && Date.now() - this.lastRenew > this.renewDeadline * 1000) this.setLeading(false);
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = new Date();
    const cur = await this.opts.store.get();
    if (this.stopped) return;
    if (!canAcquire(cur, this.opts.identity, now)) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const mine = cur?.holder === this.opts.identity;
    try {
      await this.opts.store.write(
        {
          holder: this.opts.identity,
          renewTime: now,
          leaseDurationSeconds: this.duration,
          transitions: (cur?.transitions ?? 0) + (mine || !cur?.holder ? 0 : 1),
          resourceVersion: cur?.resourceVersion,
        },
        mine ? undefined : now,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return; // someone else won this round
      throw err;
    }
    this.lastRenew = Date.now();
    if (!this.leading) this.setLeading(true);
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.opts.log?.('info', v ? 'became leader' : 'lost leadership', { identity: this.opts.identity });
    if (v) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  /** Stop campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop?.catch(() => undefined);
    if (this.leading) {
      this.setLeading(false);
      if (release) {
        try {
          const cur = await this.opts.store.get();
          if (cur?.holder === this.opts.identity) {
            await this.opts.store.write(
              { ...cur, holder: '', renewTime: undefined, leaseDurationSeconds: 1 },
              undefined,
            );
          }
        } catch (err) {
          this.opts.log?.('warn', 'releasing the lease failed', { error: (err as Error).message });
        }
      }
    }
  }
}
