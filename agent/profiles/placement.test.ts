// The pure parts of placement: which tables load, what placed BPF reports, which Seccomp files are stale.

import { describe, it, expect } from '@jest/globals';
import { bpfPlacedResult, bpfTablesOf, staleSeccompProfiles } from './placement.js';
import type { NodeProfile } from './decode.js';
import type { ProfileState } from './store.js';
import { emptyTables, encodeTables } from '../../profiler/bpf/encode.js';
import { VT_MODE_RECORD } from '../../profiler/bpf/layout.js';

const profile = (e: Partial<NodeProfile> = {}): NodeProfile => ({
  namespace: 'default',
  objectName: 'p',
  uid: 'u',
  version: '1',
  profileName: 'p',
  bpfPolicyId: 12,
  enforcers: ['Seccomp'],
  mode: 'EnhanceProtect',
  target: { kind: 'Pod' },
  ...e,
});

const state = (p?: NodeProfile, decodeError?: string): ProfileState => ({ key: 'default/p', profile: p, decodeError, target: { namespace: 'default', name: 'p' }, results: {} });

describe('profile placement', () => {
  it('loads a profile its own BPF tables, a modelled AppArmor/Seccomp profile record-only ones', () => {
    const own = new Uint8Array([1, 2, 3]);
    expect(bpfTablesOf(profile({ bpfTables: own }))).toBe(own);
    expect(bpfTablesOf(profile())).toEqual(encodeTables(emptyTables(12, VT_MODE_RECORD)));
  });

  it('reports placed BPF tables loaded only where the LSM programs enforce', () => {
    expect(bpfPlacedResult({ mode: 'enforce' })).toEqual({ state: 'loaded' });
    expect(bpfPlacedResult({ mode: 'audit', unavailable: 'no BPF LSM' })).toEqual({ state: 'unavailable', reason: 'no BPF LSM' });
    expect(bpfPlacedResult({ mode: 'audit' })).toEqual({ state: 'unavailable', reason: 'BPF LSM unavailable; audit only' });
    expect(bpfPlacedResult({ mode: 'audit', unavailable: 'no BPF LSM' }, 'EnhanceProtect')).toEqual({ state: 'unavailable', reason: 'no BPF LSM' });
    expect(bpfPlacedResult({ mode: 'audit', unavailable: 'no BPF LSM' }, 'DefenseInDepth')).toEqual({ state: 'unavailable', reason: 'no BPF LSM' });
    // modes that deny nothing: the audit programs do their whole job
    for (const mode of ['AlwaysAllow', 'BehaviorModeling']) expect(bpfPlacedResult({ mode: 'audit', unavailable: 'no BPF LSM' }, mode)).toMatchObject({ state: 'loaded' });
    expect(bpfPlacedResult({ mode: 'off', unavailable: 'BPF disabled' }, 'BehaviorModeling')).toEqual({ state: 'unavailable', reason: 'BPF disabled' });
  });

  it('finds Seccomp files of profiles gone or without a Seccomp part; a profile failing to decode keeps its file', () => {
    const states: Record<string, ProfileState> = {
      kept: state(profile({ seccomp: '{}' })),
      dropped: state(profile()),
      broken: state(profile(), 'bad'),
      undecoded: state(undefined, 'bad'),
    };
    expect(staleSeccompProfiles(['kept', 'dropped', 'broken', 'undecoded', 'gone'], (n) => states[n])).toEqual(['dropped', 'gone']);
  });
});
