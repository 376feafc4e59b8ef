// The policy's status as vArmor users read it (profileName, phase, ready, conditions Created,
// Updated, Ready), computed from what the reconcile did and from the agents' per-node entries
// on the ArmorProfile. Pure: the reconciler writes the result and emits the events it returns.

import {
  type ArmorProfile,
  type ArmorProfileNodeCondition,
  NODE_REASON_NOT_PROTECTED,
  type PolicyCondition,
  type PolicyStatus,
} from '../profiler/index.js';
import { clean, deepEqual } from './desired.js';
import type { Overlap } from './targets.js';

export const CONDITION_CREATED = 'Created';
export const CONDITION_UPDATED = 'Updated';
export const CONDITION_READY = 'Ready';
/** varmor-ts addition: another policy targets the same workload. */
export const CONDITION_CONFLICTED = 'Conflicted';
/** varmor-ts addition: where a BehaviorModeling run stands (recording, collecting the nodes' records, completed). */
export const CONDITION_MODELING = 'Modeling';

export interface NodeAggregate {
  loaded: number;
  failed: { node: string; message: string }[];
  /** Nodes that loaded but lack an enforcer (reason EnforcerUnavailable). */
  degraded: { node: string; message: string }[];
  /** Nodes where no requested enforcer can enforce (reason NotProtected): a target there runs unprotected. */
  unprotected: { node: string; message: string }[];
  nodes: string[];
}

export function aggregateNodes(ap: ArmorProfile | undefined): NodeAggregate {
  const agg: NodeAggregate = { loaded: 0, failed: [], degraded: [], unprotected: [], nodes: [] };
  const seen = new Set<string>();
  for (const c of ap?.status?.conditions ?? []) {
    if (c.type !== 'Ready' || !c.nodeName || seen.has(c.nodeName)) continue;
    seen.add(c.nodeName);
    agg.nodes.push(c.nodeName);
    if (c.status === 'True') {
      agg.loaded++;
      if (c.reason === 'EnforcerUnavailable')
        agg.degraded.push({ node: c.nodeName, message: c.message ?? '' });
    } else if (c.reason === NODE_REASON_NOT_PROTECTED) {
      agg.unprotected.push({ node: c.nodeName, message: (c.message ?? '').replace(/^no requested enforcer can enforce on this node: /, '') });
    } else {
      agg.failed.push({ node: c.nodeName, message: c.message ?? c.reason ?? 'failed to load the profile' });
    }
  }
  agg.unprotected.sort((a, b) => a.node.localeCompare(b.node));
  agg.nodes.sort();
  agg.failed.sort((a, b) => a.node.localeCompare(b.node));
  agg.degraded.sort((a, b) => a.node.localeCompare(b.node));
  return agg;
}

/** What this reconcile found or did; drives the status. */
export type Outcome =
  | {
      kind: 'rejected';
      reason: string;
      message: string;
      /** the ArmorProfile already existed */ exists: boolean;
      update: boolean;
    }
  | {
      kind: 'applied';
      ap: ArmorProfile;
      /** The policy's spec has changed since creation (generation > 1). */
      update: boolean;
      modeling?: { state: 'recording' | 'collecting' | 'completed'; message: string };
      /** An error that is not the policy's fault (e.g. a missing model) but keeps it from protecting. */
      blocked?: { reason: string; message: string };
    };

export interface StatusResult {
  status: PolicyStatus;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

function setCondition(
  list: PolicyCondition[],
  previous: PolicyCondition[] | undefined,
  c: PolicyCondition,
  now: string,
): void {
  const old = previous?.find((p) => p.type === c.type);
  const changed = !old || old.status !== c.status;
  list.push({ ...c, lastTransitionTime: changed ? now : (old.lastTransitionTime ?? now) });
}

function truncate(s: string, max = 1024): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

export function computeStatus(
  profileName: string,
  previous: PolicyStatus | undefined,
  outcome: Outcome,
  overlaps: readonly Overlap[],
  now: Date,
): StatusResult {
  const ts = now.toISOString();
  const prevConds = previous?.conditions;
  const conds: PolicyCondition[] = [];
  let phase: string;
  let ready = false;

  if (outcome.kind === 'rejected') {
    phase = 'Error';
    const created = outcome.exists
      ? {
          type: CONDITION_CREATED,
          status: 'True',
          reason: 'ProfileCreated',
          message: `ArmorProfile ${profileName} created`,
        }
      : { type: CONDITION_CREATED, status: 'False', reason: outcome.reason, message: outcome.message };
    setCondition(conds, prevConds, created, ts);
    if (outcome.update || outcome.exists) {
      setCondition(
        conds,
        prevConds,
        { type: CONDITION_UPDATED, status: 'False', reason: outcome.reason, message: outcome.message },
        ts,
      );
    }
    setCondition(
      conds,
      prevConds,
      { type: CONDITION_READY, status: 'False', reason: outcome.reason, message: outcome.message },
      ts,
    );
  } else {
    setCondition(
      conds,
      prevConds,
      {
        type: CONDITION_CREATED,
        status: 'True',
        reason: 'ProfileCreated',
        message: `ArmorProfile ${profileName} created`,
      },
      ts,
    );
    if (outcome.update) {
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_UPDATED,
          status: 'True',
          reason: 'ProfileUpdated',
          message: `ArmorProfile ${profileName} updated`,
        },
        ts,
      );
    }
    const agg = aggregateNodes(outcome.ap);
    if (outcome.blocked) {
      phase = 'Error';
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_READY,
          status: 'False',
          reason: outcome.blocked.reason,
          message: outcome.blocked.message,
        },
        ts,
      );
    } else if (agg.failed.length > 0) {
      phase = 'Error';
      const msg = agg.failed.map((f) => `${f.node}: ${f.message}`).join('; ');
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_READY,
          status: 'False',
          reason: 'LoadFailed',
          message: truncate(`failed on ${agg.failed.length} node(s): ${msg}`),
        },
        ts,
      );
    } else if (agg.unprotected.length > 0) {
      // Ready means protected: a target on one of these nodes would run with nothing enforcing.
      phase = 'Error';
      const msg = agg.unprotected.map((u) => `${u.node}: ${u.message}`).join('; ');
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_READY,
          status: 'False',
          reason: 'EnforcerUnavailable',
          message: truncate(`no requested enforcer can enforce on ${agg.unprotected.length} node(s): ${msg}`),
        },
        ts,
      );
    } else if (agg.loaded === 0) {
      phase = 'Pending';
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_READY,
          status: 'False',
          reason: 'WaitingForNodes',
          message: 'no node has loaded the profile yet',
        },
        ts,
      );
    } else {
      ready = true;
      phase = 'Protecting';
      let msg = `loaded on ${agg.loaded} node(s)`;
      if (agg.degraded.length > 0)
        msg += `; ${agg.degraded.map((d) => `${d.node}: ${d.message}`).join('; ')}`;
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_READY,
          status: 'True',
          reason: agg.degraded.length > 0 ? 'EnforcerUnavailable' : 'AllNodesLoaded',
          message: truncate(msg),
        },
        ts,
      );
    }
    if (outcome.modeling) {
      const m = outcome.modeling;
      const reason =
        m.state === 'recording' ? 'Recording' : m.state === 'collecting' ? 'Collecting' : 'Completed';
      setCondition(
        conds,
        prevConds,
        {
          type: CONDITION_MODELING,
          status: m.state === 'completed' ? 'False' : 'True',
          reason,
          message: truncate(m.message),
        },
        ts,
      );
      if (phase !== 'Error') phase = m.state === 'completed' ? 'Completed' : 'Modeling';
    }
  }

  if (overlaps.length > 0) {
    const msg = overlaps
      .map((o) =>
        o.workloads.length > 0 ? `${o.other} (${o.workloads.join(', ')})` : `${o.other} (same target)`,
      )
      .join('; ');
    setCondition(
      conds,
      prevConds,
      {
        type: CONDITION_CONFLICTED,
        status: 'True',
        reason: 'TargetOverlap',
        message: truncate(`other policies target the same workloads, only one applies per container: ${msg}`),
      },
      ts,
    );
  }

  const status: PolicyStatus = { profileName, ready, phase, conditions: conds };
  return { status, events: transitionEvents(previous, status, outcome) };
}

function transitionEvents(
  previous: PolicyStatus | undefined,
  next: PolicyStatus,
  outcome: Outcome,
): StatusResult['events'] {
  const events: StatusResult['events'] = [];
  for (const c of next.conditions ?? []) {
    const old = previous?.conditions?.find((p) => p.type === c.type);
    if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) continue;
    const warning =
      c.type === CONDITION_CONFLICTED
        ? c.status === 'True'
        : c.status === 'False' && c.reason !== 'WaitingForNodes';
    events.push({
      type: warning ? 'Warning' : 'Normal',
      reason: c.reason ?? c.type,
      message: c.message ?? '',
    });
  }
  const hadConflict = previous?.conditions?.some(
    (c) => c.type === CONDITION_CONFLICTED && c.status === 'True',
  );
  if (hadConflict && !next.conditions?.some((c) => c.type === CONDITION_CONFLICTED)) {
    events.push({
      type: 'Normal',
      reason: 'OverlapResolved',
      message: 'no other policy targets the same workloads',
    });
  }
  if (previous?.phase !== next.phase) {
    const msg =
      outcome.kind === 'applied' && outcome.modeling ? outcome.modeling.message : `phase ${next.phase}`;
    events.push({
      type: next.phase === 'Error' ? 'Warning' : 'Normal',
      reason: `Phase${next.phase ?? ''}`,
      message: msg,
    });
  }
  return events;
}

/** Equal as the server sees it: key order and undefined fields do not count. */
export function statusEqual(a: PolicyStatus | undefined, b: PolicyStatus): boolean {
  return deepEqual(clean(a ?? null), clean(b));
}

/** Used by tests and by the reconciler to find a node's own entry. */
export function nodeEntry(ap: ArmorProfile | undefined, node: string): ArmorProfileNodeCondition | undefined {
  return ap?.status?.conditions?.find((c) => c.nodeName === node);
}
