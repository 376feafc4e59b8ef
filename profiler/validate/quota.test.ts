import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy } from '../api/types.js';
import { compileBpf } from '../bpf/compile.js';
import { decodeTables, emptyTables } from '../bpf/encode.js';
import { BPF_TABLE_QUOTA, quotaExcess } from '../bpf/quota.js';
import { validatePolicy } from './index.js';

/** A privileged EnhanceProtect BPF policy (no baseline entries) with `n` exact file rules. */
function withFiles(n: number, extra: Record<string, unknown> = {}): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'big', namespace: 'tenant' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      policy: {
        enforcer: 'BPF',
        mode: 'EnhanceProtect',
        enhanceProtect: {
          privileged: true,
          bpfRawRules: { files: Array.from({ length: n }, (_, i) => ({ pattern: `/data/f${i}`, permissions: ['read'], qualifiers: ['deny'] })), ...extra },
        },
      },
    },
  } as AnyPolicy;
}

describe('BPF_TABLE_QUOTA', () => {
  it('lets at least 64 policies at full quota share each 65,536-entry kernel table', () => {
    expect(65536 / BPF_TABLE_QUOTA).toBeGreaterThanOrEqual(64);
  });
  it('quotaExcess lists only the tables over the quota', () => {
    const t = emptyTables(1, 1);
    t.sockets = Array.from({ length: BPF_TABLE_QUOTA + 1 }, () => ({ family: 2, type: 1, protocol: 6, deny: 1, audit: 0 }));
    t.pathExact = Array.from({ length: BPF_TABLE_QUOTA }, (_, i) => ({ path: `/p${i}`, deny: 1, audit: 0 }));
    expect(quotaExcess(t)).toEqual([{ table: 'sockets', entries: BPF_TABLE_QUOTA + 1, max: BPF_TABLE_QUOTA }]);
  });
});

describe('validatePolicy refuses a policy over the BPF table quota', () => {
  it('accepts a policy exactly at the quota', () => {
    const p = withFiles(BPF_TABLE_QUOTA);
    // the fixture really fills the table to the quota, so the next case is one over
    const r0 = compileBpf({ profileName: 'x', bpfPolicyId: 1, mode: 'EnhanceProtect', enforcers: ['BPF'], policy: p.spec.policy });
    expect(decodeTables(r0.tables).pathExact).toHaveLength(BPF_TABLE_QUOTA);
    const r = validatePolicy(p);
    expect(r.ok ? 'ok' : r.errors).toBe('ok');
  });

  it('refuses one over, naming the field that fills the table and the counts', () => {
    const r = validatePolicy(withFiles(BPF_TABLE_QUOTA + 1));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ path: 'spec.policy.enhanceProtect.bpfRawRules.files', code: 'bpf-quota-exceeded' });
    expect(r.errors[0].message).toContain(`pathExact would hold ${BPF_TABLE_QUOTA + 1} entries`);
    expect(r.errors[0].message).toContain(`files (${BPF_TABLE_QUOTA + 1} rules)`);
    expect(r.errors[0].message).toContain(`at most ${BPF_TABLE_QUOTA}`);
  });

  it('names every contributing field (files and processes share the path tables)', () => {
    const processes = Array.from({ length: 10 }, (_, i) => ({ pattern: `/bin/p${i}`, permissions: ['exec'], qualifiers: ['deny'] }));
    const r = validatePolicy(withFiles(BPF_TABLE_QUOTA - 5, { processes }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0].path).toBe('spec.policy.enhanceProtect.bpfRawRules.files');
    expect(r.errors[0].message).toContain('bpfRawRules.processes (10 rules)');
  });
});
