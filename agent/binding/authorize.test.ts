// Who may be bound to a profile: its own namespace or a cluster policy's, and the webhook's signature.

import { describe, it, expect } from '@jest/globals';
import { bindingRefusal } from './authorize.js';
import type { NodeProfile } from '../profiles/decode.js';
import { signBinding } from '../../profiler/binding.js';

const profile = (e: Partial<NodeProfile> = {}): NodeProfile => ({
  namespace: 'team-a',
  objectName: 'varmor-team-a-web',
  uid: 'u',
  version: '1',
  profileName: 'varmor-team-a-web',
  bpfPolicyId: 7,
  enforcers: ['BPF'],
  mode: 'EnhanceProtect',
  target: { kind: 'Pod' },
  policyKind: 'VarmorPolicy',
  ...e,
});
const refs = { BPF: 'localhost/varmor-team-a-web' };
const claim = (podNamespace: string, signature?: string) => ({ podNamespace, signedAs: 'app', refs, signature });
const policy = { productNamespace: 'varmor' };
const key = Buffer.from('0123456789abcdef0123456789abcdef');

describe('binding authorization', () => {
  it('binds a profile of the pod\'s own namespace or of a cluster policy, nothing else', () => {
    expect(bindingRefusal(profile(), claim('team-a'), policy)).toBeUndefined();
    expect(bindingRefusal(profile(), claim('team-b'), policy)).toMatch(/belongs to namespace team-a, not to the pod's namespace team-b/);
    expect(bindingRefusal(profile(), claim(''), policy)).toMatch(/no pod namespace/);
    const cluster = profile({ namespace: 'varmor', policyKind: 'VarmorClusterPolicy' });
    expect(bindingRefusal(cluster, claim('team-b'), policy)).toBeUndefined();
    // the label alone does not make a cluster policy: it must live in the product namespace
    expect(bindingRefusal(profile({ policyKind: 'VarmorClusterPolicy' }), claim('team-b'), policy)).toBeDefined();
    expect(bindingRefusal(profile({ namespace: 'varmor' }), claim('team-b'), policy)).toBeDefined();
  });

  it('with a key, only the webhook\'s signature of these references, namespace and container binds', () => {
    const k = { ...policy, key };
    expect(bindingRefusal(profile(), claim('team-a'), k)).toMatch(/is missing/);
    expect(bindingRefusal(profile(), claim('team-a', signBinding(key, 'team-a', 'app', refs)), k)).toBeUndefined();
    expect(bindingRefusal(profile(), claim('team-a', signBinding(key, 'team-a', 'other', refs)), k)).toMatch(/not their signature/);
    expect(bindingRefusal(profile(), claim('team-a', signBinding(key, 'team-a', 'app', { BPF: 'localhost/x' })), k)).toMatch(/not their signature/);
  });
});
