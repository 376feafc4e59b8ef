// The fake holds to the API server's rules the controller relies on; if it did not, the
// reconcile tests against it would prove nothing.

import { describe, expect, it } from '@jest/globals';
import type { ArmorProfile } from '../../profiler/api/types.js';
import { MemoryKubeClient } from './memory-client.js';

const ap = (extra: Partial<ArmorProfile['metadata']> = {}): ArmorProfile => ({
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'ArmorProfile',
  metadata: { name: 'p', namespace: 'shop', ...extra },
  spec: { profile: { name: 'p', enforcer: 'BPF', mode: 'AlwaysAllow' }, target: { kind: 'Pod', name: 'x' } },
  status: { conditions: [{ type: 'Ready', nodeName: 'n1', status: 'True' }] },
});

describe('MemoryKubeClient', () => {
  it('create: server metadata, no status, 409 when it exists; get: undefined when missing', async () => {
    const k = new MemoryKubeClient();
    const c = await k.create('ArmorProfile', ap());
    expect(c.metadata).toMatchObject({
      uid: expect.any(String),
      resourceVersion: expect.any(String),
      generation: 1,
    });
    expect(c.status).toBeUndefined();
    await expect(k.create('ArmorProfile', ap())).rejects.toMatchObject({ status: 409 });
    expect(await k.get('ArmorProfile', 'shop', 'nope')).toBeUndefined();
  });

  it('replace: 409 on a stale resourceVersion, 404 when missing; keeps the status; spec changes bump the generation', async () => {
    const k = new MemoryKubeClient();
    const stored = k.seed('ArmorProfile', ap());
    const next = await k.replace('ArmorProfile', {
      ...stored,
      spec: { ...stored.spec, target: { kind: 'Pod', name: 'y' } },
      status: {},
    });
    expect(next.status).toEqual(stored.status);
    expect(next.metadata.generation).toBe(2);
    await expect(k.replace('ArmorProfile', stored)).rejects.toMatchObject({ status: 409 });
    await expect(
      k.replace('ArmorProfile', { ...stored, metadata: { ...stored.metadata, name: 'q' } }),
    ).rejects.toMatchObject({ status: 404 });
    const s = await k.replaceStatus('ArmorProfile', {
      ...next,
      spec: stored.spec,
      status: { conditions: [] },
    });
    expect(s.status).toEqual({ conditions: [] });
    expect(s.spec).toEqual(next.spec);
    expect(s.metadata.generation).toBe(2);
  });

  it('delete: finalizers hold the object until the last one is removed', async () => {
    const k = new MemoryKubeClient();
    k.seed('ArmorProfile', ap({ finalizers: ['f'] }));
    expect(await k.delete('ArmorProfile', 'shop', 'p')).toBe(true);
    const held = k.peek<ArmorProfile>('ArmorProfile', 'shop', 'p')!;
    expect(held.metadata.deletionTimestamp).toBeDefined();
    await expect(
      k.replace('ArmorProfile', { ...held, metadata: { ...held.metadata, finalizers: ['f', 'g'] } }),
    ).rejects.toMatchObject({ status: 422 });
    await k.replace('ArmorProfile', { ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(k.peek('ArmorProfile', 'shop', 'p')).toBeUndefined();
    expect(await k.delete('ArmorProfile', 'shop', 'p')).toBe(false);
  });

  it('restartWorkload: the same stamp twice is one rollout; a missing workload is false', async () => {
    const k = new MemoryKubeClient();
    k.addWorkload('Deployment', 'shop', 'web', { app: 'web' });
    expect(await k.restartWorkload('Deployment', 'shop', 'web', 's1')).toBe(true);
    expect(await k.restartWorkload('Deployment', 'shop', 'web', 's1')).toBe(true);
    expect(k.workload('Deployment', 'shop', 'web')?.generation).toBe(2);
    expect(await k.restartWorkload('Deployment', 'shop', 'gone', 's1')).toBe(false);
    expect(await k.listWorkloads('Deployment', 'other')).toEqual([]);
  });
});
