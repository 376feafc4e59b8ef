// The BPF table quota at admission (issue 16, item 9): a policy whose compiled BPF tables hold
// more entries in one table kind than BPF_TABLE_QUOTA is refused, naming the raw-rule fields
// that fill the table and their counts. The kernel maps are shared by every policy on a node, so
// one tenant must not be able to fill them. Runs only on a policy that passed every other check
// (the BPF compiler's refusals are reported by ./bpf.ts already).

import type { AnyPolicy, Enforcer, Mode } from '../api/types.js';
import { compileBpf, BpfCompileError } from '../bpf/compile.js';
import { decodeTables } from '../bpf/encode.js';
import { quotaExcess, type BpfTableKind } from '../bpf/quota.js';
import { bpfPolicyId, profileName } from '../names.js';
import type { Issues } from './issues.js';

const RAW = 'spec.policy.enhanceProtect.bpfRawRules';

/** The raw-rule fields whose rules land in each table kind (built-in rules add a bounded few). */
const SOURCES: Record<BpfTableKind, string[]> = {
  pathExact: ['files', 'processes'],
  pathPrefix: ['files', 'processes'],
  pathSuffix: ['files', 'processes'],
  pathGlob: ['files', 'processes'],
  sockets: ['network.sockets'],
  net: ['network.egress.toDestinations'],
  netPorts: ['network.egress.toDestinations'],
  mountFstype: ['mounts'],
  mountRules: ['mounts'],
};

function countAt(policy: AnyPolicy, dotted: string): number {
  let v: unknown = policy.spec?.policy?.enhanceProtect?.bpfRawRules;
  for (const k of dotted.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return Array.isArray(v) ? v.length : 0;
}

export function checkBpfQuota(issues: Issues, policy: AnyPolicy, enforcers: Enforcer[], mode: Mode, productNamespace: string): void {
  if (!enforcers.includes('BPF') || mode !== 'EnhanceProtect') return; // only EnhanceProtect compiles rules into tables
  const name = profileName({ kind: policy.kind, namespace: policy.metadata.namespace, name: policy.metadata.name as string }, productNamespace);
  let tables;
  try {
    const compiled = compileBpf({ profileName: name, bpfPolicyId: bpfPolicyId(name), mode, enforcers, policy: policy.spec.policy });
    tables = decodeTables(compiled.tables);
  } catch (e) {
    if (e instanceof BpfCompileError) return; // compilePolicy reports it with its field
    throw e;
  }
  for (const over of quotaExcess(tables)) {
    const sources = SOURCES[over.table]
      .map((f) => ({ path: `${RAW}.${f}`, rules: countAt(policy, f) }))
      .filter((s) => s.rules > 0)
      .sort((a, b) => b.rules - a.rules);
    const path = sources[0]?.path ?? 'spec.policy.enhanceProtect';
    const from = sources.length > 0 ? sources.map((s) => `${s.path} (${s.rules} rules)`).join(', ') : 'the built-in rules';
    issues.add(
      path,
      'bpf-quota-exceeded',
      `the BPF table ${over.table} would hold ${over.entries} entries for this policy, filled by ${from}; at most ${over.max} per policy (the kernel tables are shared by every policy on a node)`,
    );
  }
}
