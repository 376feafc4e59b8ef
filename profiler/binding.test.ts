import { describe, expect, it } from '@jest/globals';
import { bindingKey, BindingKeyError, hasProfileRefs, signBinding, verifyBinding } from './binding.js';

const key = bindingKey('0123456789abcdef0123456789abcdef\n');
const refs = { BPF: 'localhost/varmor-team-web', Seccomp: 'localhost/varmor-team-web' };

describe('binding signature', () => {
  it('verifies what it signed', () => {
    const sig = signBinding(key, 'team', 'app', refs);
    expect(sig).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    expect(verifyBinding(key, 'team', 'app', refs, sig)).toBe(true);
  });

  it.each([
    ['another namespace', 'team-prod', 'app', refs],
    ['another container', 'team', 'sidecar', refs],
    ['another BPF profile', 'team', 'app', { ...refs, BPF: 'localhost/varmor-other-web' }],
    ['a reference added', 'team', 'app', { ...refs, AppArmor: 'localhost/varmor-team-web' }],
    ['a reference dropped', 'team', 'app', { BPF: refs.BPF }],
  ])('refuses it for %s', (_what, ns, container, r) => {
    const sig = signBinding(key, 'team', 'app', refs);
    expect(verifyBinding(key, ns, container, r, sig)).toBe(false);
  });

  it('refuses another key, a missing and a malformed signature', () => {
    const other = bindingKey('fedcba9876543210fedcba9876543210');
    expect(verifyBinding(other, 'team', 'app', refs, signBinding(key, 'team', 'app', refs))).toBe(false);
    expect(verifyBinding(key, 'team', 'app', refs, undefined)).toBe(false);
    expect(verifyBinding(key, 'team', 'app', refs, 'v1.short')).toBe(false);
  });

  it('does not sign opt-outs: unconfined binds nothing', () => {
    expect(hasProfileRefs({ BPF: 'unconfined' })).toBe(false);
    expect(signBinding(key, 'team', 'app', { BPF: 'unconfined', Seccomp: refs.Seccomp })).toBe(signBinding(key, 'team', 'app', { Seccomp: refs.Seccomp }));
  });

  it('refuses a short key', () => {
    expect(() => bindingKey('short')).toThrow(BindingKeyError);
  });
});
