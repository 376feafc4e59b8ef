import { describe, expect, it } from '@jest/globals';
import type { ArmorProfile, ArmorProfileNodeCondition, PolicyStatus } from '../profiler/api/types.js';
import { aggregateNodes, computeStatus, statusEqual } from './status.js';

const now = new Date('2026-11-29T05:00:00Z');
const later = new Date('2026-11-29T05:01:00Z');

function ap(conditions: ArmorProfileNodeCondition[]): ArmorProfile {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'ArmorProfile',
    metadata: { name: 'varmor-shop-web', namespace: 'shop' },
    spec: {
      profile: { name: 'varmor-shop-web', enforcer: 'BPF', mode: 'EnhanceProtect' },
      target: { kind: 'Deployment', name: 'web' },
    },
    status: { conditions },
  };
}
const ok = (nodeName: string): ArmorProfileNodeCondition => ({ nodeName, type: 'Ready', status: 'True' });

describe('aggregateNodes', () => {
  it('counts True entries, collects failures and degraded nodes', () => {
    const a = aggregateNodes(
      ap([
        ok('n1'),
        { nodeName: 'n2', type: 'Ready', status: 'False', message: 'apparmor_parser: syntax error' },
        {
          nodeName: 'n3',
          type: 'Ready',
          status: 'True',
          reason: 'EnforcerUnavailable',
          message: 'AppArmor: kernel has no AppArmor',
        },
      ]),
    );
    expect(a.loaded).toBe(2);
    expect(a.failed).toEqual([{ node: 'n2', message: 'apparmor_parser: syntax error' }]);
    expect(a.degraded.map((d) => d.node)).toEqual(['n3']);
    expect(a.nodes).toEqual(['n1', 'n2', 'n3']);
  });
});

describe('computeStatus', () => {
  it('is Pending until a node reports, then Protecting and ready', () => {
    const s1 = computeStatus(
      'varmor-shop-web',
      undefined,
      { kind: 'applied', ap: ap([]), update: false },
      [],
      now,
    );
    expect(s1.status).toMatchObject({ profileName: 'varmor-shop-web', phase: 'Pending', ready: false });
    expect(s1.status.conditions?.find((c) => c.type === 'Created')).toMatchObject({
      status: 'True',
      lastTransitionTime: now.toISOString(),
    });
    expect(s1.events.map((e) => e.reason)).toEqual(['ProfileCreated', 'WaitingForNodes', 'PhasePending']);

    const s2 = computeStatus(
      'varmor-shop-web',
      s1.status,
      { kind: 'applied', ap: ap([ok('n1')]), update: false },
      [],
      later,
    );
    expect(s2.status).toMatchObject({ phase: 'Protecting', ready: true });
    const ready = s2.status.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'True',
      reason: 'AllNodesLoaded',
      message: 'loaded on 1 node(s)',
      lastTransitionTime: later.toISOString(),
    });
    // Created did not change: its transition time stays.
    expect(s2.status.conditions?.find((c) => c.type === 'Created')?.lastTransitionTime).toBe(
      now.toISOString(),
    );
    expect(s2.events.map((e) => e.reason)).toEqual(['AllNodesLoaded', 'PhaseProtecting']);

    const s3 = computeStatus(
      'varmor-shop-web',
      s2.status,
      { kind: 'applied', ap: ap([ok('n1')]), update: false },
      [],
      later,
    );
    expect(s3.events).toEqual([]);
    expect(statusEqual(s2.status, s3.status)).toBe(true);
  });

  it('any node failing makes it Error with the node and the loader message', () => {
    const s = computeStatus(
      'p',
      undefined,
      {
        kind: 'applied',
        ap: ap([ok('n1'), { nodeName: 'n2', type: 'Ready', status: 'False', message: 'boom' }]),
        update: false,
      },
      [],
      now,
    );
    expect(s.status).toMatchObject({ phase: 'Error', ready: false });
    expect(s.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'LoadFailed',
      message: 'failed on 1 node(s): n2: boom',
    });
    expect(s.events.find((e) => e.reason === 'LoadFailed')?.type).toBe('Warning');
  });

  it('an enforcer missing on a node is ready, with the reason named', () => {
    const s = computeStatus(
      'p',
      undefined,
      {
        kind: 'applied',
        ap: ap([
          {
            nodeName: 'n1',
            type: 'Ready',
            status: 'True',
            reason: 'EnforcerUnavailable',
            message: 'AppArmor: kernel has no AppArmor',
          },
        ]),
        update: false,
      },
      [],
      now,
    );
    expect(s.status.ready).toBe(true);
    expect(s.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      reason: 'EnforcerUnavailable',
      message: 'loaded on 1 node(s); n1: AppArmor: kernel has no AppArmor',
    });
  });

  it('a node where no requested enforcer enforces makes it not ready, naming node and enforcers', () => {
    const s = computeStatus(
      'p',
      undefined,
      {
        kind: 'applied',
        ap: ap([
          { nodeName: 'n1', type: 'Ready', status: 'True', reason: 'Loaded', message: 'AppArmor loaded' },
          { nodeName: 'n2', type: 'Ready', status: 'False', reason: 'NotProtected', message: 'no requested enforcer can enforce on this node: AppArmor: kernel has no AppArmor' },
        ]),
        update: false,
      },
      [],
      now,
    );
    expect(s.status).toMatchObject({ phase: 'Error', ready: false });
    expect(s.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'EnforcerUnavailable',
      message: 'no requested enforcer can enforce on 1 node(s): n2: AppArmor: kernel has no AppArmor',
    });
    expect(s.events.find((e) => e.reason === 'EnforcerUnavailable')?.type).toBe('Warning');
    // a failed load elsewhere is the first thing said
    const f = computeStatus('p', undefined, { kind: 'applied', ap: ap([{ nodeName: 'n1', type: 'Ready', status: 'False', reason: 'LoadFailed', message: 'boom' }, { nodeName: 'n2', type: 'Ready', status: 'False', reason: 'NotProtected', message: 'x' }]), update: false }, [], now);
    expect(f.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'LoadFailed', message: 'failed on 1 node(s): n1: boom' });
  });

  it('a rejected update keeps Created, fails Updated and Ready, phase Error', () => {
    const prev: PolicyStatus = computeStatus(
      'p',
      undefined,
      { kind: 'applied', ap: ap([ok('n1')]), update: false },
      [],
      now,
    ).status;
    const s = computeStatus(
      'p',
      prev,
      {
        kind: 'rejected',
        reason: 'Forbidden',
        message: 'spec.target is immutable',
        exists: true,
        update: true,
      },
      [],
      later,
    );
    expect(s.status.phase).toBe('Error');
    const byType = Object.fromEntries((s.status.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Created).toMatchObject({ status: 'True' });
    expect(byType.Updated).toMatchObject({
      status: 'False',
      reason: 'Forbidden',
      message: 'spec.target is immutable',
    });
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(s.events.some((e) => e.type === 'Warning' && e.reason === 'Forbidden')).toBe(true);
  });

  it('a rejected new policy has Created False', () => {
    const s = computeStatus(
      'p',
      undefined,
      {
        kind: 'rejected',
        reason: 'Forbidden',
        message: 'spec.target.kind: bad',
        exists: false,
        update: false,
      },
      [],
      now,
    );
    expect(s.status.conditions?.find((c) => c.type === 'Created')).toMatchObject({
      status: 'False',
      reason: 'Forbidden',
    });
    expect(s.status.conditions?.some((c) => c.type === 'Updated')).toBe(false);
  });

  it('modelling overrides the phase unless there is an error', () => {
    const rec = computeStatus(
      'p',
      undefined,
      {
        kind: 'applied',
        ap: ap([ok('n1')]),
        update: false,
        modeling: { state: 'recording', message: 'until x' },
      },
      [],
      now,
    );
    expect(rec.status.phase).toBe('Modeling');
    expect(rec.status.conditions?.find((c) => c.type === 'Modeling')).toMatchObject({
      status: 'True',
      reason: 'Recording',
      message: 'until x',
    });
    const done = computeStatus(
      'p',
      rec.status,
      {
        kind: 'applied',
        ap: ap([ok('n1')]),
        update: false,
        modeling: { state: 'completed', message: 'built' },
      },
      [],
      later,
    );
    expect(done.status.phase).toBe('Completed');
    expect(done.status.conditions?.find((c) => c.type === 'Modeling')).toMatchObject({
      status: 'False',
      reason: 'Completed',
    });
    expect(done.events).toContainEqual({ type: 'Normal', reason: 'PhaseCompleted', message: 'built' });
  });

  it('reports overlaps as a Conflicted condition and a Warning, and their end', () => {
    const s = computeStatus(
      'p',
      undefined,
      { kind: 'applied', ap: ap([ok('n1')]), update: false },
      [{ other: 'VarmorPolicy/shop/b', workloads: ['Deployment shop/web'] }],
      now,
    );
    expect(s.status.conditions?.find((c) => c.type === 'Conflicted')).toMatchObject({
      status: 'True',
      reason: 'TargetOverlap',
    });
    expect(s.status.conditions?.find((c) => c.type === 'Conflicted')?.message).toContain(
      'VarmorPolicy/shop/b (Deployment shop/web)',
    );
    expect(s.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'TargetOverlap' }));
    const s2 = computeStatus(
      'p',
      s.status,
      { kind: 'applied', ap: ap([ok('n1')]), update: false },
      [],
      later,
    );
    expect(s2.status.conditions?.some((c) => c.type === 'Conflicted')).toBe(false);
    expect(s2.events.map((e) => e.reason)).toEqual(['OverlapResolved']);
  });

  it('status equality ignores key order and undefined fields', () => {
    const a: PolicyStatus = {
      profileName: 'p',
      ready: true,
      phase: 'Protecting',
      conditions: [{ type: 'Ready', status: 'True', reason: undefined }],
    };
    const b = JSON.parse(
      '{"conditions":[{"status":"True","type":"Ready"}],"phase":"Protecting","ready":true,"profileName":"p"}',
    ) as PolicyStatus;
    expect(statusEqual(b, a)).toBe(true);
    expect(statusEqual(undefined, a)).toBe(false);
  });
});
