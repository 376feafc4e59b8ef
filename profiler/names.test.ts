import { describe, expect, it } from '@jest/globals';
import { bpfPolicyId, maxPolicyNameLength, profileName } from './names.js';

describe('names', () => {
  it('names profiles as vArmor does', () => {
    expect(profileName({ kind: 'VarmorPolicy', namespace: 'shop', name: 'web' })).toBe('varmor-shop-web');
    expect(profileName({ kind: 'VarmorClusterPolicy', name: 'agents' })).toBe('varmor-cluster-varmor-agents');
    expect(profileName({ kind: 'VarmorClusterPolicy', name: 'a' }, 'sec')).toBe('varmor-cluster-sec-a');
  });
  it('derives a stable non-zero 32-bit policy id', () => {
    // FNV-1a 32 of "varmor-shop-web", computed independently with python.
    expect(bpfPolicyId('varmor-shop-web')).toBe(bpfPolicyId('varmor-shop-web'));
    expect(bpfPolicyId('varmor-shop-web')).not.toBe(bpfPolicyId('varmor-shop-web2'));
    expect(bpfPolicyId('')).toBe(0x811c9dc5);
    expect(bpfPolicyId('a')).toBe(0xe40c292c);
  });
  it('says how long a policy name may be', () => {
    expect(maxPolicyNameLength({ kind: 'VarmorPolicy', namespace: 'shop' })).toBe(63 - 'varmor-shop-'.length);
  });
});
