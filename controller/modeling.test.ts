import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, ArmorProfile } from '../profiler/api/types.js';
import {
  mergeBehaviorData,
  mergeDynamicResults,
  modelableEnforcers,
  modelBuiltForRun,
  modelingDecision,
  modelingStart,
  modelProfilePolicy,
  usesBehaviorModel,
  withAppArmorFallback,
} from './modeling.js';

const start = '2026-11-29T05:00:00.000Z';
const at = (min: number) => new Date(Date.parse(start) + min * 60_000);
const base = {
  start,
  durationMinutes: 30,
  expectedNodes: ['n1', 'n2'],
  uploadedNodes: [] as string[],
  graceMs: 120_000,
  modelReady: false,
};

describe('modelingDecision', () => {
  it('records until start + duration', () => {
    const d = modelingDecision({ ...base, now: at(10) });
    expect(d).toMatchObject({ state: 'recording', enable: true, build: false, recheckMs: 20 * 60_000 });
  });
  it('after the deadline it stops recording and waits for every node', () => {
    const d = modelingDecision({ ...base, now: at(30), uploadedNodes: ['n1'] });
    expect(d).toMatchObject({
      state: 'collecting',
      enable: false,
      build: false,
      missingNodes: ['n2'],
      recheckMs: 120_000,
    });
    expect(d.message).toContain('n2');
  });
  it('builds once all nodes uploaded', () => {
    expect(modelingDecision({ ...base, now: at(31), uploadedNodes: ['n2', 'n1'] })).toMatchObject({
      state: 'completed',
      build: true,
      missingNodes: [],
    });
  });
  it('builds without the missing nodes after the grace period, naming them', () => {
    const d = modelingDecision({ ...base, now: at(33), uploadedNodes: ['n1'] });
    expect(d).toMatchObject({ state: 'completed', build: true, missingNodes: ['n2'] });
    expect(d.message).toContain('no records from n2');
  });
  it('once built it stays completed and does not build again', () => {
    expect(modelingDecision({ ...base, now: at(5), modelReady: true })).toMatchObject({
      state: 'completed',
      build: false,
      enable: false,
    });
  });
});

describe('merging records', () => {
  it('unions files per path with their permissions, and sets', () => {
    const m = mergeBehaviorData(
      {
        files: [{ path: '/etc/passwd', permissions: ['r'] }],
        executions: ['/bin/sh'],
        capabilities: ['chown'],
      },
      {
        files: [
          { path: '/etc/passwd', permissions: ['w', 'r'] },
          { path: '/tmp/x', permissions: ['w'] },
        ],
        executions: ['/bin/ls', '/bin/sh'],
      },
    );
    expect(m).toEqual({
      files: [
        { path: '/etc/passwd', permissions: ['r', 'w'] },
        { path: '/tmp/x', permissions: ['w'] },
      ],
      executions: ['/bin/ls', '/bin/sh'],
      capabilities: ['chown'],
    });
  });
  it('deduplicates network and mount records whatever their key order', () => {
    const m = mergeBehaviorData(
      { network: [{ domain: 'inet', type: 'stream' }] },
      { network: [{ type: 'stream', domain: 'inet' }, { domain: 'unix' }] },
    );
    expect(m?.network).toHaveLength(2);
  });
  it('merges the nodes of a dynamic result, seccomp syscalls as a sorted set', () => {
    const r = mergeDynamicResults([
      { seccomp: { syscalls: ['read', 'write'] }, appArmor: { executions: ['/a'] } },
      undefined,
      { seccomp: { syscalls: ['openat', 'read'] }, bpf: { capabilities: ['net_raw'] } },
    ]);
    expect(r).toEqual({
      seccomp: { syscalls: ['openat', 'read', 'write'] },
      appArmor: { executions: ['/a'] },
      bpf: { capabilities: ['net_raw'] },
    });
    expect(mergeDynamicResults([])).toEqual({});
  });
});

describe('the model profile policy', () => {
  const p: AnyPolicy = {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      policy: { enforcer: 'AppArmorBPFSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
    },
  };
  it('is DefenseInDepth over the model for AppArmor and Seccomp only', () => {
    const m = modelProfilePolicy(p, ['AppArmor', 'BPF', 'Seccomp']);
    expect(m?.spec.policy).toEqual({
      enforcer: 'AppArmorSeccomp',
      mode: 'DefenseInDepth',
      defenseInDepth: {
        appArmor: { profileType: 'BehaviorModel' },
        seccomp: { profileType: 'BehaviorModel' },
      },
    });
    expect(usesBehaviorModel(m!)).toBe(true);
    expect(modelProfilePolicy(p, ['BPF'])).toBeUndefined();
    expect(usesBehaviorModel(p)).toBe(false);
  });
});

describe('records from nodes without AppArmor', () => {
  it('the BPF records stand in for AppArmor ones; Seccomp needs its own', () => {
    const r = withAppArmorFallback({ bpf: { executions: ['/bin/sh'] } });
    expect(r.appArmor).toEqual({ executions: ['/bin/sh'] });
    expect(modelableEnforcers(r, ['AppArmor', 'BPF', 'Seccomp'])).toEqual(['AppArmor']);
    expect(
      withAppArmorFallback({ appArmor: { executions: ['/a'] }, bpf: { executions: ['/b'] } }).appArmor,
    ).toEqual({ executions: ['/a'] });
    expect(modelableEnforcers(withAppArmorFallback({}), ['AppArmor', 'Seccomp'])).toEqual([]);
  });
});

describe('which run', () => {
  const ap = {
    metadata: { annotations: { 'controller.varmor.org/modeling-start': start } },
  } as unknown as ArmorProfile;
  it('continues the run the ArmorProfile was built for, starts anew when entering the mode', () => {
    expect(modelingStart(ap, 'BehaviorModeling', at(10))).toBe(start);
    expect(modelingStart(ap, 'DefenseInDepth', at(90))).toBe(at(90).toISOString());
    expect(modelingStart(undefined, undefined, at(1))).toBe(at(1).toISOString());
  });
  it("a model built before this run started is not this run's", () => {
    expect(modelBuiltForRun(at(31).toISOString(), start)).toBe(true);
    expect(modelBuiltForRun(at(-5).toISOString(), start)).toBe(false);
    expect(modelBuiltForRun(undefined, start)).toBe(false);
  });
});
