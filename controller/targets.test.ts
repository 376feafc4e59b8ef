import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, Target } from '../profiler/api/types.js';
import { findOverlaps, parsePolicyKey, policyKey, targetsWorkload } from './targets.js';

function vp(name: string, namespace: string, target: Target): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name, namespace },
    spec: { target, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } },
  };
}
function vcp(name: string, target: Target): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorClusterPolicy',
    metadata: { name },
    spec: { target, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } },
  };
}

describe('policy keys', () => {
  it('round-trip', () => {
    expect(parsePolicyKey(policyKey(vp('a', 'ns', { kind: 'Pod', name: 'x' })))).toEqual({
      kind: 'VarmorPolicy',
      namespace: 'ns',
      name: 'a',
    });
    expect(parsePolicyKey(policyKey(vcp('c', { kind: 'Pod', name: 'x' })))).toEqual({
      kind: 'VarmorClusterPolicy',
      name: 'c',
    });
    expect(() => parsePolicyKey('Nope/x')).toThrow(/malformed/);
  });
});

describe('targetsWorkload', () => {
  const w = { kind: 'Deployment', namespace: 'shop', name: 'web', labels: { app: 'web' } };
  it('matches by name, by labels, within its namespace only', () => {
    expect(targetsWorkload(vp('p', 'shop', { kind: 'Deployment', name: 'web' }), w)).toBe(true);
    expect(
      targetsWorkload(vp('p', 'shop', { kind: 'Deployment', selector: { matchLabels: { app: 'web' } } }), w),
    ).toBe(true);
    expect(targetsWorkload(vp('p', 'other', { kind: 'Deployment', name: 'web' }), w)).toBe(false);
    expect(targetsWorkload(vp('p', 'shop', { kind: 'StatefulSet', name: 'web' }), w)).toBe(false);
    expect(targetsWorkload(vcp('c', { kind: 'Deployment', name: 'web' }), w)).toBe(true);
  });
});

describe('findOverlaps', () => {
  const a = vp('a', 'shop', { kind: 'Deployment', name: 'web' });
  it('same name in the same namespace overlaps before any workload exists', () => {
    const b = vp('b', 'shop', { kind: 'Deployment', name: 'web' });
    expect(findOverlaps(a, [a, b], [])).toEqual([{ other: 'VarmorPolicy/shop/b', workloads: [] }]);
    expect(findOverlaps(b, [a, b], [])).toEqual([{ other: 'VarmorPolicy/shop/a', workloads: [] }]);
  });
  it('a name and a selector overlap through a workload both select', () => {
    const b = vp('b', 'shop', { kind: 'Deployment', selector: { matchLabels: { app: 'web' } } });
    expect(findOverlaps(a, [a, b], [])).toEqual([]);
    const ws = [{ kind: 'Deployment', namespace: 'shop', name: 'web', labels: { app: 'web' } }];
    expect(findOverlaps(a, [a, b], ws)).toEqual([
      { other: 'VarmorPolicy/shop/b', workloads: ['Deployment shop/web'] },
    ]);
  });
  it('different namespaces or kinds do not overlap; a cluster policy overlaps any namespace', () => {
    expect(findOverlaps(a, [vp('b', 'other', { kind: 'Deployment', name: 'web' })], [])).toEqual([]);
    expect(findOverlaps(a, [vp('b', 'shop', { kind: 'DaemonSet', name: 'web' })], [])).toEqual([]);
    expect(findOverlaps(a, [vcp('c', { kind: 'Deployment', name: 'web' })], [])).toEqual([
      { other: 'VarmorClusterPolicy/c', workloads: [] },
    ]);
  });
  it('identical selectors overlap whatever their order; policies being deleted do not count', () => {
    const s1 = vp('s1', 'shop', { kind: 'Pod', selector: { matchLabels: { a: '1', b: '2' } } });
    const s2 = vp('s2', 'shop', { kind: 'Pod', selector: { matchLabels: { b: '2', a: '1' } } });
    expect(findOverlaps(s1, [s1, s2], [])).toHaveLength(1);
    const gone = { ...s2, metadata: { ...s2.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(findOverlaps(s1, [s1, gone], [])).toEqual([]);
  });
});
