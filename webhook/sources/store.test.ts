// The policy store: what the webhook serves. Attack (issue 16 item 7): a policy being deleted (its
// finalizer still held while workloads restart) must no longer be served, or restarted Pods
// reference a Seccomp file that is being removed and stall. Seen failing before the fix.
import { describe, expect, it } from '@jest/globals';
import { profilerValidator } from '../validator.js';
import { PolicyStore } from './store.js';

const policy = (name: string, deletionTimestamp?: string) => ({
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'VarmorPolicy',
  metadata: { name, namespace: 'shop', ...(deletionTimestamp ? { deletionTimestamp } : {}) },
  spec: { target: { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, policy: { enforcer: 'BPF', mode: 'RuntimeDefault' } },
});

describe('PolicyStore', () => {
  it('stops serving a policy once it carries a deletionTimestamp', () => {
    const store = new PolicyStore({ validate: profilerValidator().validatePolicy });
    expect(store.upsert(policy('web'), 'test').ok).toBe(true);
    expect(store.policies().size).toBe(1);
    store.upsert(policy('web', '2026-01-01T00:00:00Z'), 'test');
    expect(store.policies().size).toBe(0);
    // Never served when first seen already being deleted (an informer restart during deletion).
    store.upsert(policy('other', '2026-01-01T00:00:00Z'), 'test');
    expect(store.policies().size).toBe(0);
  });
});
