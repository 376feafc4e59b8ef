import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, ArmorProfile } from '../profiler/api/types.js';
import { AP_FINALIZER } from '../profiler/index.js';
import { convergeMeta, decorateArmorProfile, appliedPolicy, deepEqual, withFinalizer, withoutFinalizer } from './desired.js';

const policy: AnyPolicy = {
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'VarmorPolicy',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', generation: 1 },
  spec: {
    target: { kind: 'Deployment', name: 'web' },
    policy: { enforcer: 'AppArmorBPF', mode: 'EnhanceProtect' },
  },
};
const built: ArmorProfile = {
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'ArmorProfile',
  metadata: { name: 'varmor-shop-web', namespace: 'shop' },
  spec: {
    profile: { name: 'varmor-shop-web', enforcer: 'AppArmorBPF', mode: 'EnhanceProtect', content: 'YQ==' },
    target: { kind: 'Deployment', name: 'web' },
  },
};

describe('decorateArmorProfile', () => {
  it('adds the finalizer, the owner reference, our labels and the enforcer annotation', () => {
    const ap = decorateArmorProfile(policy, built, { x: '1' });
    expect(ap.metadata.finalizers).toEqual([AP_FINALIZER]);
    expect(ap.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'crd.varmor.org/v1beta1',
        kind: 'VarmorPolicy',
        name: 'web',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(ap.metadata.labels).toMatchObject({
      'varmor.org/policy-kind': 'VarmorPolicy',
      'varmor.org/policy-name': 'web',
      'varmor.org/policy-namespace': 'shop',
    });
    expect(ap.metadata.annotations).toMatchObject({
      'controller.varmor.org/enforcer': 'AppArmorBPF',
      x: '1',
    });
  });
  it('gives cluster policies no owner reference (a namespaced object cannot be owned by a cluster one across scopes)', () => {
    const cp = { ...policy, kind: 'VarmorClusterPolicy', metadata: { name: 'web', uid: 'u-2' } } as AnyPolicy;
    expect(decorateArmorProfile(cp, built, {}).metadata.ownerReferences).toBeUndefined();
  });
});

describe('convergeMeta', () => {
  const desired = decorateArmorProfile(policy, built, {});
  it('returns undefined when nothing we own differs, even with server-side extras', () => {
    const existing: ArmorProfile = {
      ...desired,
      metadata: {
        ...desired.metadata,
        resourceVersion: '7',
        labels: { ...desired.metadata.labels, user: 'x' },
        finalizers: ['other', AP_FINALIZER],
      },
      status: { conditions: [{ nodeName: 'n', type: 'Ready', status: 'True' }] },
    };
    expect(convergeMeta(existing, desired, ['spec'])).toBeUndefined();
  });
  it('replaces the spec, keeps foreign finalizers, labels and the status', () => {
    const existing: ArmorProfile = {
      ...desired,
      metadata: { ...desired.metadata, finalizers: ['other'], labels: { user: 'x' } },
      spec: { ...desired.spec, profile: { ...desired.spec.profile, content: 'Yg==' } },
      status: { currentNumberLoaded: 1 },
    };
    const next = convergeMeta(existing, desired, ['spec'])!;
    expect(next.spec).toEqual(desired.spec);
    expect(next.metadata.finalizers).toEqual(['other', AP_FINALIZER]);
    expect(next.metadata.labels).toMatchObject({ user: 'x', 'varmor.org/policy-name': 'web' });
    expect(next.status).toEqual({ currentNumberLoaded: 1 });
  });
  it('swaps a stale owner of the same name for the new uid', () => {
    const existing = {
      ...desired,
      metadata: {
        ...desired.metadata,
        ownerReferences: [{ ...desired.metadata.ownerReferences![0], uid: 'old' }],
      },
    };
    expect(convergeMeta(existing, desired, ['spec'])!.metadata.ownerReferences!.map((o) => o.uid)).toEqual([
      'u-1',
    ]);
  });
});

describe('finalizer helpers', () => {
  it('add and remove only when needed', () => {
    expect(withFinalizer(built, 'f')!.metadata.finalizers).toEqual(['f']);
    expect(withFinalizer({ ...built, metadata: { finalizers: ['f'] } }, 'f')).toBeUndefined();
    expect(
      withoutFinalizer({ ...built, metadata: { finalizers: ['a', 'f'] } }, 'f')!.metadata.finalizers,
    ).toEqual(['a']);
    expect(withoutFinalizer(built, 'f')).toBeUndefined();
  });
});

describe('appliedPolicy', () => {
  it('rebuilds the target, enforcer and mode the ArmorProfile was built from', () => {
    const ap = decorateArmorProfile(policy, built, {});
    const now = {
      ...policy,
      spec: { target: { kind: 'Deployment', name: 'api' }, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } },
    } as AnyPolicy;
    const old = appliedPolicy(now, ap);
    expect(old.spec.target).toEqual({ kind: 'Deployment', name: 'web' });
    expect(old.spec.policy).toMatchObject({ enforcer: 'AppArmorBPF', mode: 'EnhanceProtect' });
    expect(old.metadata).toBe(now.metadata);
  });
  it('says a modelling run is in progress while the ArmorProfile holds the modelling profile, whatever the phase', () => {
    const modeling = decorateArmorProfile(
      policy,
      { ...built, spec: { ...built.spec, profile: { ...built.spec.profile, mode: 'BehaviorModeling' } } },
      {},
    );
    const errored = { ...policy, status: { profileName: 'p', ready: false, phase: 'Error' } } as AnyPolicy;
    expect(appliedPolicy(errored, modeling).status?.phase).toBe('Modeling');
    expect(appliedPolicy(errored, decorateArmorProfile(policy, built, {})).status?.phase).toBe('Error');
  });
});

describe('deepEqual', () => {
  it('ignores key order and undefined values, not array order', () => {
    expect(deepEqual({ a: 1, b: [1, 2], c: undefined }, { b: [1, 2], a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: null }, { a: undefined })).toBe(false);
  });
});
