import { describe, it, expect } from '@jest/globals';
import { nodeCondition, nodeEntry, needsEntry, withNodeEntry } from './entry.js';

const NOW = new Date('2026-11-29T05:00:00.123Z');

describe('node status entry', () => {
  it('True/Loaded when every enforcer loaded', () => {
    expect(nodeCondition('n1', { Seccomp: { state: 'loaded' }, BPF: { state: 'loaded' } })).toEqual({
      nodeName: 'n1', type: 'Ready', status: 'True', reason: 'Loaded', message: 'BPF, Seccomp loaded',
    });
  });
  it('True/EnforcerUnavailable names the missing enforcer and what loaded (CONTRACTS.md)', () => {
    const c = nodeCondition('n1', {
      AppArmor: { state: 'unavailable', reason: 'kernel has no AppArmor' },
      Seccomp: { state: 'loaded' },
      BPF: { state: 'notPlaced' },
    });
    expect(c).toMatchObject({ status: 'True', reason: 'EnforcerUnavailable' });
    expect(c.message).toBe('AppArmor: kernel has no AppArmor; Seccomp loaded; BPF placed on demand (no targeted container on this node)');
  });
  it('False/NotProtected when no requested enforcer can enforce here (Ready means protected)', () => {
    expect(nodeCondition('n1', { AppArmor: { state: 'unavailable', reason: 'kernel has no AppArmor' } })).toEqual({
      nodeName: 'n1', type: 'Ready', status: 'False', reason: 'NotProtected', message: 'no requested enforcer can enforce on this node: AppArmor: kernel has no AppArmor',
    });
    expect(nodeCondition('n1', { AppArmor: { state: 'unavailable', reason: 'kernel has no AppArmor' }, BPF: { state: 'unavailable', reason: 'no BPF LSM; audit programs record only' } })).toMatchObject({
      status: 'False', reason: 'NotProtected', message: 'no requested enforcer can enforce on this node: AppArmor: kernel has no AppArmor; BPF: no BPF LSM; audit programs record only',
    });
    // a BPF part waiting for a target: nothing runs here to protect yet
    expect(nodeCondition('n1', { AppArmor: { state: 'unavailable', reason: 'kernel has no AppArmor' }, BPF: { state: 'notPlaced' } })).toMatchObject({ status: 'True', reason: 'EnforcerUnavailable' });
  });
  it('False with the loader message when a load failed', () => {
    expect(nodeCondition('n1', { AppArmor: { state: 'failed', message: 'apparmor_parser -r failed (1): syntax error' }, Seccomp: { state: 'loaded' } })).toMatchObject({
      status: 'False', reason: 'LoadFailed', message: 'AppArmor: apparmor_parser -r failed (1): syntax error',
    });
    expect(nodeCondition('n1', {}, 'ArmorProfile x: spec.profile.mode: missing')).toMatchObject({ status: 'False', reason: 'InvalidProfile' });
  });
  it('no entry for a BPF-only profile not placed here', () => {
    expect(needsEntry({ BPF: { state: 'notPlaced' } })).toBe(false);
    expect(needsEntry({ BPF: { state: 'loaded' } })).toBe(true);
  });
  it('nodeEntry: the condition when an entry is needed, null for a BPF-only profile not placed here', () => {
    expect(nodeEntry('n1', { BPF: { state: 'notPlaced' } })).toBeNull();
    expect(nodeEntry('n1', { BPF: { state: 'notPlaced' } }, 'bad')).toMatchObject({ nodeName: 'n1', status: 'False', reason: 'InvalidProfile', message: 'bad' });
    expect(nodeEntry('n1', { Seccomp: { state: 'loaded' } })).toEqual(nodeCondition('n1', { Seccomp: { state: 'loaded' } }));
  });
  it('replaces only this node entry, counts True entries, keeps lastTransitionTime while status holds', () => {
    const other = { nodeName: 'n0', type: 'Ready', status: 'False', reason: 'LoadFailed', message: 'x', lastTransitionTime: 't0' };
    const s1 = withNodeEntry({ conditions: [other] }, 'n1', nodeCondition('n1', { Seccomp: { state: 'loaded' } }), NOW)!;
    expect(s1.conditions).toEqual([other, { nodeName: 'n1', type: 'Ready', status: 'True', reason: 'Loaded', message: 'Seccomp loaded', lastTransitionTime: '2026-11-29T05:00:00Z' }]);
    expect(s1.currentNumberLoaded).toBe(1);
    expect(withNodeEntry(s1, 'n1', nodeCondition('n1', { Seccomp: { state: 'loaded' } }), new Date())).toBeNull();
    const s2 = withNodeEntry(s1, 'n1', nodeCondition('n1', { Seccomp: { state: 'loaded' }, BPF: { state: 'loaded' } }), new Date('2030-01-01T00:00:00Z'))!;
    expect(s2.conditions![1]!.lastTransitionTime).toBe('2026-11-29T05:00:00Z');
    const s3 = withNodeEntry(s2, 'n1', null, NOW)!;
    expect(s3.conditions).toEqual([other]);
    expect(s3.currentNumberLoaded).toBe(0);
  });
});
