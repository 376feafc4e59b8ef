// The per-policy quota on kernel table entries. The BPF maps (native/bpf/varmor.bpf.c) are shared
// by every policy on a node, so without a cap one tenant's policy could fill a map and make every
// other policy's load fail (issue 16, item 9). The validator refuses a policy over the quota, and
// the agent may check it again before loading. Pure.

import type { Tables } from './encode.js';

/**
 * The most entries one policy may hold in any one table kind. Every per-rule map in
 * varmor.bpf.c holds 65,536 entries, so with 1,024 at least 64 policies at full quota fit in each
 * table (65,536 / 1,024). 1,024 is far above what real policies compile to (the glob, port and
 * mount tables are already capped at 64 per policy by the layout: VT_MAX_GLOBS, VT_MAX_PORT_RULES,
 * VT_MAX_MOUNT_RULES) and far below one map.
 */
export const BPF_TABLE_QUOTA = 1024;

/** The table kinds of a policy's BPF tables, named as in `Tables`. */
const TABLE_KINDS = [
  'pathExact',
  'pathPrefix',
  'pathSuffix',
  'pathGlob',
  'sockets',
  'net',
  'netPorts',
  'mountFstype',
  'mountRules',
] as const satisfies readonly (keyof Tables)[];

export type BpfTableKind = (typeof TABLE_KINDS)[number];

export interface QuotaExcess {
  table: BpfTableKind;
  entries: number;
  max: number;
}

/** The table kinds of `tables` holding more than BPF_TABLE_QUOTA entries (empty when within quota). */
export function quotaExcess(tables: Tables): QuotaExcess[] {
  const out: QuotaExcess[] = [];
  for (const table of TABLE_KINDS) {
    const entries = tables[table].length;
    if (entries > BPF_TABLE_QUOTA) out.push({ table, entries, max: BPF_TABLE_QUOTA });
  }
  return out;
}
