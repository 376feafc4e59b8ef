import { describe, expect, it } from '@jest/globals';
import { backoffDelay, WorkQueue } from './queue.js';

describe('backoffDelay', () => {
  it('doubles from the base and stops at the cap', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(0, o)).toBe(0);
    expect(backoffDelay(500, o)).toBe(1000);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands a key being processed to a second worker, and re-queues it when done if it changed', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a'); // changed while processing
    expect(q.length).toBe(0);
    q.done(k!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
  });

  it('wakes a waiting worker', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.add('x');
    expect(await p).toBe('x');
  });

  it('backs off per key and forgets on success', async () => {
    const q = new WorkQueue({ baseMs: 5, maxMs: 40 });
    expect(q.addRateLimited('k')).toBe(5);
    expect(q.addRateLimited('k')).toBe(10);
    expect(q.numRequeues('k')).toBe(2);
    expect(await q.get()).toBe('k'); // arrives after the delay
    q.done('k');
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
    expect(q.addRateLimited('k')).toBe(5);
    q.shutdown();
  });

  it('addAfter keeps the earliest pending time', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 60_000);
    q.addAfter('k', 5);
    expect(await q.get()).toBe('k');
    q.shutdown();
  });

  it('shutdown releases waiting workers with undefined', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.shutdown();
    expect(await p).toBeUndefined();
    q.add('late');
    expect(q.length).toBe(0);
  });
});
