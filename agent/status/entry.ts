// This node's entry in an ArmorProfile's status (CONTRACTS.md): one `Ready` condition per node,
// True when every enforcer loaded or is unavailable on this kernel (reason EnforcerUnavailable)
// while at least one requested enforcer enforces here; False with reason NotProtected when none
// can (Ready means protected); False with the loader's message when a load failed. Pure: the writer only sends what this
// computes, and an unchanged entry keeps its lastTransitionTime (no write at all).

import { type ArmorProfileNodeCondition, type ArmorProfileStatus, type Enforcer, NODE_REASON_NOT_PROTECTED } from '../../profiler/node.js';

export type EnforcerResult =
  | { state: 'loaded'; detail?: string }
  | { state: 'unavailable'; reason: string }
  /** `reason`: the condition's reason when not the generic LoadFailed (e.g. BpfQuotaExceeded). */
  | { state: 'failed'; message: string; reason?: string }
  /** BPF only: no targeted container on this node, so the tables are not placed here. */
  | { state: 'notPlaced' };

export type ProfileResults = Partial<Record<Enforcer, EnforcerResult>>;

const ORDER: Enforcer[] = ['AppArmor', 'BPF', 'Seccomp'];

/** Why nothing of a profile is loaded here although it decoded (another ArmorProfile holds its name or id). */
export interface Refusal {
  reason: string;
  message: string;
}

export function nodeCondition(nodeName: string, results: ProfileResults, decodeError?: string, refused?: Refusal): Omit<ArmorProfileNodeCondition, 'lastTransitionTime'> {
  if (decodeError) return { nodeName, type: 'Ready', status: 'False', reason: 'InvalidProfile', message: decodeError };
  if (refused) return { nodeName, type: 'Ready', status: 'False', reason: refused.reason, message: refused.message };
  const entries = ORDER.filter((e) => results[e]).map((e) => [e, results[e]!] as const);
  const failed = entries.filter(([, r]) => r.state === 'failed');
  if (failed.length) {
    return {
      nodeName,
      type: 'Ready',
      status: 'False',
      reason: failed.map(([, r]) => (r as { reason?: string }).reason).find((r) => r) ?? 'LoadFailed',
      message: failed.map(([e, r]) => `${e}: ${(r as { message: string }).message}`).join('; '),
    };
  }
  const unavailable = entries.filter(([, r]) => r.state === 'unavailable');
  const loaded = entries.filter(([, r]) => r.state === 'loaded').map(([e]) => e);
  const notPlaced = entries.filter(([, r]) => r.state === 'notPlaced').map(([e]) => e);
  const parts = unavailable.map(([e, r]) => `${e}: ${(r as { reason: string }).reason}`);
  // Nothing requested enforces here, and no BPF part waits for a target to be placed: a target
  // started on this node would run unprotected.
  if (unavailable.length && !loaded.length && !notPlaced.length) {
    return { nodeName, type: 'Ready', status: 'False', reason: NODE_REASON_NOT_PROTECTED, message: `no requested enforcer can enforce on this node: ${parts.join('; ')}` };
  }
  if (loaded.length) parts.push(`${loaded.join(', ')} loaded`);
  if (notPlaced.length) parts.push(`${notPlaced.join(', ')} placed on demand (no targeted container on this node)`);
  return {
    nodeName,
    type: 'Ready',
    status: 'True',
    reason: unavailable.length ? 'EnforcerUnavailable' : 'Loaded',
    message: parts.join('; '),
  };
}

/** Whether this node needs an entry at all: BPF-only profiles with nothing placed here have none. */
export function needsEntry(results: ProfileResults, decodeError?: string, refused?: Refusal): boolean {
  if (decodeError || refused) return true;
  return Object.values(results).some((r) => r && r.state !== 'notPlaced');
}

/** This node's entry for a profile, or null when it needs none (what the StatusSink is handed). */
export function nodeEntry(nodeName: string, results: ProfileResults, decodeError?: string, refused?: Refusal): Omit<ArmorProfileNodeCondition, 'lastTransitionTime'> | null {
  return needsEntry(results, decodeError, refused) ? nodeCondition(nodeName, results, decodeError, refused) : null;
}

/**
 * The status with this node's entry replaced (or removed when `cond` is null); other nodes'
 * entries untouched. Returns null when nothing changes.
 */
export function withNodeEntry(
  status: ArmorProfileStatus | undefined,
  nodeName: string,
  cond: Omit<ArmorProfileNodeCondition, 'lastTransitionTime'> | null,
  now: Date,
): ArmorProfileStatus | null {
  const conditions = [...(status?.conditions ?? [])];
  const idx = conditions.findIndex((c) => c.nodeName === nodeName && c.type === 'Ready');
  const prev = idx >= 0 ? conditions[idx] : undefined;
  if (!cond) {
    if (!prev) return null;
    conditions.splice(idx, 1);
  } else {
    if (prev && prev.status === cond.status && prev.reason === cond.reason && prev.message === cond.message) return null;
    const next: ArmorProfileNodeCondition = {
      ...cond,
      lastTransitionTime: prev && prev.status === cond.status && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    if (prev) conditions[idx] = next;
    else conditions.push(next);
  }
  conditions.sort((a, b) => (a.nodeName ?? '').localeCompare(b.nodeName ?? ''));
  return {
    ...(status ?? {}),
    conditions,
    currentNumberLoaded: conditions.filter((c) => c.type === 'Ready' && c.status === 'True').length,
  };
}
