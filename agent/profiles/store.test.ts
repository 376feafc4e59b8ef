// Profile identity: the oldest ArmorProfile holds a profile name and a BPF policy id.

import { describe, it, expect } from '@jest/globals';
import { olderThan, ProfileStore, rivalOf } from './store.js';
import type { NodeProfile } from './decode.js';

const profile = (namespace: string, profileName: string, createdAt: string, bpfPolicyId = 1, uid = `u-${namespace}`): NodeProfile => ({
  namespace,
  objectName: profileName,
  uid,
  createdAt,
  version: '1',
  profileName,
  bpfPolicyId,
  enforcers: ['BPF'],
  mode: 'EnhanceProtect',
  target: { kind: 'Pod' },
});

describe('profile store', () => {
  it('orders by creation time, then uid', () => {
    expect(olderThan(profile('a', 'x', '2026-01-01T00:00:00Z'), profile('b', 'x', '2026-01-02T00:00:00Z'))).toBe(true);
    expect(olderThan(profile('a', 'x', '2026-01-01T00:00:00Z', 1, 'u2'), profile('b', 'x', '2026-01-01T00:00:00Z', 1, 'u1'))).toBe(false);
  });

  it('keys by identity: two namespaces claiming one name are two states; references reach the holder only', () => {
    const s = new ProfileStore();
    const a = s.ensure({ namespace: 'team', name: 'varmor-team-prod-web' });
    a.profile = profile('team', 'varmor-team-prod-web', '2026-01-01T00:00:00Z', 5);
    const b = s.ensure({ namespace: 'team-prod', name: 'varmor-team-prod-web' });
    b.profile = profile('team-prod', 'varmor-team-prod-web', '2026-01-02T00:00:00Z', 5);
    expect(a).not.toBe(b);
    expect(rivalOf(b.profile, s.all(), b)).toEqual({ st: a, reason: 'ProfileNameConflict' });
    const c = s.ensure({ namespace: 'team-c', name: 'other' });
    c.profile = profile('team-c', 'other', '2026-01-03T00:00:00Z', 5);
    expect(rivalOf(c.profile, [c, b], c)).toEqual({ st: b, reason: 'PolicyIdConflict' });
    s.hold(a);
    expect(s.get('varmor-team-prod-web')).toBe(a);
    expect(s.withPolicy(5)).toBe(a);
    s.delete(b);
    expect(s.get('varmor-team-prod-web')).toBe(a);
    expect(s.all()).toEqual([a, c]);
    s.delete(a);
    expect(s.get('varmor-team-prod-web')).toBeUndefined();
  });
});
