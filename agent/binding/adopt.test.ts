// Which profiles' tables a new agent reloads after adopting pinned bindings.

import { describe, it, expect } from '@jest/globals';
import { adoptedProfiles } from './adopt.js';
import type { ProfileState } from '../profiles/store.js';
import type { NodeProfile } from '../profiles/decode.js';
import { BehaviorRecorder } from '../modeling/record.js';

const state = (policyId: number, e: Partial<NodeProfile> = {}, recording = false): ProfileState => ({
  profile: { namespace: 'n', objectName: `p${policyId}`, uid: 'u', version: '1', profileName: `p${policyId}`, bpfPolicyId: policyId, enforcers: ['BPF'], mode: 'EnhanceProtect', target: { kind: 'Pod' }, ...e },
  key: `n/p${policyId}`,
  target: { namespace: 'n', name: `p${policyId}` },
  results: {},
  recorder: recording ? new BehaviorRecorder() : undefined,
});

describe('pin adoption', () => {
  it('reloads the tables of profiles an adopted binding uses: BPF ones, and record-only ones while modelling', () => {
    const tables = new Uint8Array([1]);
    const bpf = state(1, { bpfTables: tables });
    const idle = state(2, { bpfTables: tables });
    const modelled = state(3, {}, true);
    const seccompOnly = state(4);
    const undecoded: ProfileState = { key: 'n/x', target: { namespace: 'n', name: 'x' }, results: {}, decodeError: 'bad' };
    const bound = { boundCount: (id: number) => (id === 2 ? 0 : 1) };
    expect(adoptedProfiles([bpf, idle, modelled, seccompOnly, undecoded], bound)).toEqual([bpf, modelled]);
  });
});
