import { describe, expect, it } from '@jest/globals';
import { bpfPolicyId, profileName } from '../profiler/index.js';
import { collidingPolicyName, findCollidingName, fnv1a32 } from './fnv-collide.js';

describe('findCollidingName', () => {
  it('agrees with bpfPolicyId', () => {
    expect(fnv1a32('varmor-team-web')).toBe(bpfPolicyId('varmor-team-web'));
  });

  it("finds a policy name in the attacker's namespace with the victim's BPF policy id", () => {
    const victim = profileName({ kind: 'VarmorPolicy', namespace: 'victim', name: 'web' });
    const target = bpfPolicyId(victim);
    const name = findCollidingName('varmor-attacker-', target);
    expect(name).toMatch(/^x[a-z0-9]{7}$/);
    const mine = profileName({ kind: 'VarmorPolicy', namespace: 'attacker', name: name as string });
    expect(mine).not.toBe(victim);
    expect(bpfPolicyId(mine)).toBe(target);
  });

  it('collidingPolicyName always answers within the length, or throws', () => {
    for (const victim of ['varmor-a-b', 'varmor-victim-web', 'varmor-cluster-varmor-base']) {
      const name = collidingPolicyName('varmor-tenant-', bpfPolicyId(victim), 63 - 'varmor-tenant-'.length);
      expect(name.length).toBeLessThanOrEqual(49);
      expect(bpfPolicyId(`varmor-tenant-${name}`)).toBe(bpfPolicyId(victim));
    }
    expect(() => collidingPolicyName('varmor-tenant-', 5, 6)).toThrow(/at most 6/);
  });
});
