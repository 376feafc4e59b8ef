// The node's gauges as values, from profile and container state.

import { describe, it, expect } from '@jest/globals';
import { nodeGauges } from './gauges.js';

describe('node gauges', () => {
  it('counts bound containers, placed BPF policies and profiles by enforcer state', () => {
    const g = nodeGauges(
      [{ boundPolicy: 1 }, {}, { boundPolicy: 2 }],
      [
        { results: { Seccomp: { state: 'loaded' }, BPF: { state: 'loaded' } }, bpfLoadedVersion: '1' },
        { results: { Seccomp: { state: 'loaded' }, BPF: { state: 'notPlaced' } } },
        { results: { AppArmor: { state: 'unavailable', reason: 'none' } } },
      ],
    );
    expect(g.boundContainers).toBe(2);
    expect(g.bpfPolicies).toBe(1);
    expect(g.profiles).toEqual([
      { enforcer: 'Seccomp', state: 'loaded', count: 2 },
      { enforcer: 'BPF', state: 'loaded', count: 1 },
      { enforcer: 'BPF', state: 'notPlaced', count: 1 },
      { enforcer: 'AppArmor', state: 'unavailable', count: 1 },
    ]);
  });

  it('is all zero on a node with nothing', () => {
    expect(nodeGauges([], [])).toEqual({ boundContainers: 0, bpfPolicies: 0, profiles: [] });
  });
});
