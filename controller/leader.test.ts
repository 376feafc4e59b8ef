import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeApiError } from './errors.js';
import { canAcquire, LeaderElector, type LeaseRecord, type LeaseStore } from './leader.js';

describe('canAcquire', () => {
  const now = new Date('2026-11-29T05:00:00Z');
  it('free, own or expired leases can be taken; a live foreign one cannot', () => {
    expect(canAcquire(undefined, 'a', now)).toBe(true);
    expect(canAcquire({ holder: '' }, 'a', now)).toBe(true);
    expect(canAcquire({ holder: 'a', renewTime: now, leaseDurationSeconds: 15 }, 'a', now)).toBe(true);
    expect(
      canAcquire(
        { holder: 'b', renewTime: new Date(now.getTime() - 5000), leaseDurationSeconds: 15 },
        'a',
        now,
      ),
    ).toBe(false);
    expect(
      canAcquire(
        { holder: 'b', renewTime: new Date(now.getTime() - 16000), leaseDurationSeconds: 15 },
        'a',
        now,
      ),
    ).toBe(true);
  });
});

/**
 * In-memory stand-in for the Lease object with the API server's optimistic concurrency (a
 * stale resourceVersion gets 409). The real Lease is exercised in e2e/controller.
 */
class MemoryLeaseStore implements LeaseStore {
  rec?: LeaseRecord;
  rv = 0;
  async get() {
    return this.rec ? { ...this.rec, resourceVersion: String(this.rv) } : undefined;
  }
  async write(rec: LeaseRecord) {
    if ((rec.resourceVersion ?? '') !== (this.rec ? String(this.rv) : ''))
      throw new KubeApiError(409, 'conflict');
    this.rv++;
    this.rec = { ...rec, resourceVersion: undefined };
  }
}

describe('LeaderElector', () => {
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop(false);
  });
  function make(identity: string, store: LeaseStore, events: string[]) {
    const e = new LeaderElector({
      identity,
      store,
      retryPeriodSeconds: 3600,
      onStartedLeading: () => events.push(`${identity}+`),
      onStoppedLeading: () => events.push(`${identity}-`),
    });
    electors.push(e);
    return e;
  }

  it('one of two candidates leads; the other takes over after the leader releases', async () => {
    const store = new MemoryLeaseStore();
    const events: string[] = [];
    const a = make('a', store, events);
    const b = make('b', store, events);
    await a.tick();
    await b.tick();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(store.rec?.holder).toBe('a');
    await a.stop(true);
    expect(store.rec?.holder).toBe('');
    await b.tick();
    expect(b.isLeader).toBe(true);
    expect(store.rec).toMatchObject({ holder: 'b', transitions: 0 });
    expect(events).toEqual(['a+', 'a-', 'b+']);
  });

  it('a racing write that loses with 409 does not lead', async () => {
    const store = new MemoryLeaseStore();
    const events: string[] = [];
    const b = make('b', store, events);
    const realGet = store.get.bind(store);
    // Candidate a writes between b's read and b's write.
    store.get = async () => {
      const r = await realGet();
      store.rec = { holder: 'a', renewTime: new Date(), leaseDurationSeconds: 15 };
      store.rv++;
      return r;
    };
    await b.tick();
    expect(b.isLeader).toBe(false);
    expect(events).toEqual([]);
  });

  it('counts transitions when taking over an expired lease', async () => {
    const store = new MemoryLeaseStore();
    store.rec = {
      holder: 'old',
      renewTime: new Date(Date.now() - 60_000),
      leaseDurationSeconds: 15,
      transitions: 2,
    };
    const a = make('a', store, []);
    await a.tick();
    expect(store.rec).toMatchObject({ holder: 'a', transitions: 3 });
  });
});
