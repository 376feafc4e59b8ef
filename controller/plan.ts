// The decisions of one reconcile of one policy, as data: from what was read (the policy, its
// ArmorProfile, its models, the workloads it targets, the other policies, the time), the writes
// that converge the cluster, in order, and the status to report. Pure: reconcile.ts reads the
// world, execute.ts performs the steps. A plan never depends on what a write returns, except
// in two places where it says so: after adding the policy's finalizer and after creating the
// merged model it ends with `replan`, and the reconcile plans again with what was written.

import { ANN_MODE, ANN_MODEL_BUILT, ANN_MODELING_START, ANN_POLICY_GENERATION, ANN_RESTART, ANN_RESTARTED, type AnyPolicy, AP_FINALIZER, API_VERSION, type ArmorProfile, type ArmorProfileModel, type CompiledPolicy, compilePolicy, type CompilePolicyOptions, type Enforcer, LABEL_NODE, LABEL_POLICY_KIND, LABEL_POLICY_NAME, LABEL_POLICY_NAMESPACE, POLICY_FINALIZER, type PolicyStatus, profileName, toArmorProfile, validatePolicy, validatePolicyUpdate, EMPTY_EGRESS_VIEW, resolveEgress, type EgressView } from '../profiler/index.js';
import { appliedPolicy, clean, convergeMeta, decorateArmorProfile, deepEqual, emptyModel, withFinalizer, withoutFinalizer } from './desired.js';
import { mergeDynamicResults, modelableEnforcers, modelBuiltForRun, modelingDecision, modelingStart, modelProfilePolicy, usesBehaviorModel, withAppArmorFallback, type ModelingDecision } from './modeling.js';
import { olderCollision } from './collisions.js';
import { podsUsing, type PodRef } from './pods.js';
import { aggregateNodes, computeStatus, statusEqual, type Outcome } from './status.js';
import {
  findOverlaps,
  isWorkloadKind,
  targetsWorkload,
  type Overlap,
  type PolicyKind,
  type WorkloadKind,
  type WorkloadRef,
} from './targets.js';

/** The policy a queue key names. */
export interface PolicyRef {
  kind: PolicyKind;
  namespace?: string;
  name: string;
}

/** What the reconcile read before deciding. Optional fields are read only when `readsFor` asks. */
export interface Observed {
  ref: PolicyRef;
  /** Undefined: the policy is gone. */
  policy?: AnyPolicy;
  armorProfile?: ArmorProfile;
  /** The merged ArmorProfileModel `<profile>` (BehaviorModeling, or DefenseInDepth over a model). */
  model?: ArmorProfileModel;
  /** The ArmorProfileModels labelled `varmor.org/model-of=<profile>`: the nodes' uploads. */
  models?: ArmorProfileModel[];
  /** Workloads of the target kind in the policy's scope (restarts). */
  workloads?: WorkloadRef[];
  /** Workloads of the target kind in every namespace (the overlap check). */
  allWorkloads?: WorkloadRef[];
  /** Every policy the informers know. */
  policies: AnyPolicy[];
  /** Pods in the policy's scope (a deletion with updateExistingWorkloads waits for them). */
  pods?: PodRef[];
  /** Services, EndpointSlices and Pods, for the policy's egress rules (none: an empty cluster). */
  egress?: EgressView;
  now: Date;
}

export interface PlanOptions {
  productNamespace: string;
  /** Wait this long past a modelling deadline for nodes that have not uploaded. */
  modelingGraceMs: number;
  /** A deleted policy's ArmorProfile waits this long at most for pods to stop using it (default 10 minutes). */
  deletionWaitMs?: number;
}

export type ModelStatus = NonNullable<ArmorProfileModel['status']>;

/** The inputs of the policy's status, kept so the executor can recompute it (see `status` below). */
export interface StatusBasis {
  profileName: string;
  previous: PolicyStatus | undefined;
  outcome: Outcome;
  overlaps: Overlap[];
  now: Date;
}

export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** One write (or log line, or failure), performed in order by execute.ts. */
export type Step =
  /** Replace the policy (its finalizers). */
  | { op: 'replacePolicy'; object: AnyPolicy }
  /** Replace the ArmorProfile as given (releasing its finalizer). */
  | { op: 'replaceArmorProfile'; object: ArmorProfile }
  /** Create it; when it turns out to exist (409), converge that one to `object` (armorProfileSteps). */
  | { op: 'createArmorProfile'; object: ArmorProfile }
  /** Replace it; then, if asked, clear the agents' per-node entries, guarded by our write's resourceVersion. */
  | { op: 'updateArmorProfile'; object: ArmorProfile; clearNodeEntries: boolean }
  /** Record on the ArmorProfile as last written that this generation's restart is done. */
  | { op: 'markRestarted'; generation: string }
  /** Create the empty merged model; when it exists (409), take that one. */
  | { op: 'createModel'; object: ArmorProfileModel }
  /** Replace the merged model with the built one, then write its status (a subresource). */
  | { op: 'buildModel'; object: ArmorProfileModel; status: ModelStatus }
  | { op: 'delete'; kind: 'ArmorProfile' | 'ArmorProfileModel'; namespace: string; name: string }
  /** Stamp the pod template; `announce`: log 'restarted workload' with these fields when done. */
  | {
      op: 'restartWorkload';
      kind: WorkloadKind;
      namespace: string;
      name: string;
      stamp: string;
      announce?: Record<string, unknown>;
    }
  /** An Event on the policy, sent when the step runs. */
  | ({ op: 'event' } & StatusEvent)
  | { op: 'log'; msg: string; fields: Record<string, unknown> }
  /**
   * The policy's status and the Events of its transitions, written when `changed`. Computed from
   * the ArmorProfile as the steps before leave it; if the executor ends with another one (a
   * create that met an existing object, a refused clear of node entries), it recomputes the
   * status from that one with `statusStep`, so the status describes what is there.
   */
  | { op: 'status'; basis: StatusBasis; status: PolicyStatus; events: StatusEvent[]; changed: boolean }
  /** Write this status as it is (a policy being deleted), then send these Events. */
  | { op: 'writeStatus'; status: PolicyStatus; events: StatusEvent[] }
  /** Stop the reconcile with this error (it is retried with backoff). */
  | { op: 'fail'; code: string; message: string };

export interface Plan {
  steps: Step[];
  /** Plan again once the steps are done, with the objects as they were written. */
  replan?: boolean;
  /** Reconcile again after this long (modelling deadlines). */
  requeueAfterMs?: number;
}

/** Where the policy's ArmorProfile (and models) live and what they are called. */
export function profileOf(ref: PolicyRef, productNamespace: string): { namespace: string; name: string } {
  return { namespace: ref.namespace ?? productNamespace, name: profileName(ref, productNamespace) };
}

/** The namespace whose workloads a policy can target (undefined: all of them). */
export function workloadScope(policy: AnyPolicy): string | undefined {
  return policy.kind === 'VarmorPolicy' ? (policy.metadata.namespace ?? 'default') : undefined;
}

/** The policies the overlap check compares against: those targeting the same kind, this one included. */
export function sameTargetKind(policy: AnyPolicy, policies: readonly AnyPolicy[]): AnyPolicy[] {
  return policies.filter((p) => p.spec?.target?.kind === policy.spec.target.kind);
}

export interface Reads {
  model: boolean;
  models: boolean;
  workloads: boolean;
  allWorkloads: boolean;
  /** The pods in the policy's scope: a deletion with updateExistingWorkloads waits for them. */
  pods: boolean;
}

/** What the reconcile must read, besides the policy and its ArmorProfile, for `planPolicy` to decide. */
export function readsFor(
  policy: AnyPolicy | undefined,
  ap: ArmorProfile | undefined,
  policies: readonly AnyPolicy[],
): Reads {
  const none: Reads = { model: false, models: false, workloads: false, allWorkloads: false, pods: false };
  if (!policy) return none;
  const kind = policy.spec.target.kind;
  if (policy.metadata.deletionTimestamp) {
    const ours = policy.metadata.finalizers?.includes(POLICY_FINALIZER) ?? false;
    const restarts = ours && Boolean(policy.spec.updateExistingWorkloads) && isWorkloadKind(kind);
    return { ...none, models: ours, workloads: restarts, pods: restarts && ap !== undefined };
  }
  const mode = policy.spec.policy.mode;
  return {
    model: mode === 'BehaviorModeling' || usesBehaviorModel(policy),
    models: mode === 'BehaviorModeling',
    workloads: restartWanted(policy, ap),
    allWorkloads: isWorkloadKind(kind) && sameTargetKind(policy, policies).length > 1,
    pods: false,
  };
}

export function planPolicy(o: Observed, opts: PlanOptions): Plan {
  const profile = profileOf(o.ref, opts.productNamespace);
  if (!o.policy) return planOrphan(o, profile);
  if (o.policy.metadata.deletionTimestamp) return planDeletion(o, o.policy, profile, opts);
  // The finalizer first, so nothing we create can outlive the policy unseen; then plan with the written policy.
  const withF = withFinalizer(o.policy, POLICY_FINALIZER);
  if (withF) return { steps: [{ op: 'replacePolicy', object: withF }], replan: true };
  return planLive(o, o.policy, profile, opts);
}

/** The policy is gone without our finalizer having run: remove an ArmorProfile still labelled as its own. */
function planOrphan(o: Observed, profile: { namespace: string; name: string }): Plan {
  const { ref } = o;
  const ap = o.armorProfile;
  const l = ap?.metadata.labels ?? {};
  if (!ap || l[LABEL_POLICY_KIND] !== ref.kind || l[LABEL_POLICY_NAME] !== ref.name) return { steps: [] };
  if (ref.namespace !== undefined && l[LABEL_POLICY_NAMESPACE] !== ref.namespace) return { steps: [] };
  return {
    steps: [
      {
        op: 'log',
        msg: 'removing the ArmorProfile of a deleted policy',
        fields: { kind: ref.kind, namespace: ref.namespace, policy: ref.name, profile: profile.name },
      },
      ...deleteArmorProfile(ap),
    ],
  };
}

/** Deletion rounds of restarts: the first at the deletion, then at most this many in all. */
export const MAX_DELETION_RESTARTS = 3;
export const DEFAULT_DELETION_WAIT_MS = 10 * 60_000;
/** While pods still use the profile of a deleted policy, look again this often (pods are not watched). */
export const DELETION_RECHECK_MS = 10_000;
/** varmor-ts condition on a policy being deleted: what its deletion waits for. */
export const CONDITION_DELETING = 'Deleting';

/**
 * The restart round of a deletion, stored on the ArmorProfile (ANN_RESTART, `delete:<json>`)
 * before the workloads are touched, so a retry after a crash re-issues the same stamp: no extra
 * rollout. `pods`: the pods that asked for this round (a pod created in the stamp's second is
 * fresh only if it is not one of them).
 */
interface DeletionRound {
  round: number;
  stamp: string;
  workloads: string[];
  pods: string[];
}

const DELETION_ROUND_PREFIX = 'delete:';
const workloadId = (w: { kind: string; namespace: string; name: string }) => `${w.kind}/${w.namespace}/${w.name}`;
const podId = (p: PodRef) => `${p.namespace}/${p.name}`;
const seconds = (iso: string | undefined) => Math.floor(Date.parse(iso ?? '') / 1000);

function deletionRound(ap: ArmorProfile | undefined): DeletionRound | undefined {
  const v = ap?.metadata.annotations?.[ANN_RESTART];
  if (!v?.startsWith(DELETION_ROUND_PREFIX)) return undefined;
  try {
    const r = JSON.parse(v.slice(DELETION_ROUND_PREFIX.length)) as DeletionRound;
    return typeof r.round === 'number' && typeof r.stamp === 'string' && Array.isArray(r.workloads) ? { ...r, pods: r.pods ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

function withDeletionRound(ap: ArmorProfile, r: DeletionRound): ArmorProfile {
  return { ...ap, metadata: { ...ap.metadata, annotations: { ...(ap.metadata.annotations ?? {}), [ANN_RESTART]: DELETION_ROUND_PREFIX + JSON.stringify(r) } } };
}

function parseWorkloadId(id: string): { kind: WorkloadKind; namespace: string; name: string } | undefined {
  const [kind, namespace, name] = id.split('/');
  return isWorkloadKind(kind) && namespace !== undefined && name !== undefined ? { kind, namespace, name } : undefined;
}

/**
 * Deletion. With updateExistingWorkloads: roll the workloads (so new pods come without the
 * profile) and KEEP the ArmorProfile, so the agents keep its AppArmor profile, Seccomp file and
 * BPF tables, until no pod references the profile any more; a workload whose new pods still got
 * it (the webhook served the deleted policy a little longer) is rolled again, at most
 * MAX_DELETION_RESTARTS rounds in all; after `deletionWaitMs` it goes anyway, with a Warning.
 * Then: drop the ArmorProfile and the uploads, let go of the policy.
 */
function planDeletion(o: Observed, policy: AnyPolicy, profile: { namespace: string; name: string }, opts: PlanOptions): Plan {
  if (!policy.metadata.finalizers?.includes(POLICY_FINALIZER)) return { steps: [] };
  const steps: Step[] = [];
  const ap = o.armorProfile;
  const fields = { kind: policy.kind, namespace: policy.metadata.namespace, policy: policy.metadata.name, profile: profile.name };
  if (policy.spec.updateExistingWorkloads) {
    // The deletion timestamp is the first stamp: a retry after a crash writes the same value.
    const deletedAt = policy.metadata.deletionTimestamp ?? o.now.toISOString();
    const targets = targeted(policy, o.workloads);
    const current = deletionRound(ap) ?? { round: 1, stamp: deletedAt, workloads: targets.map(workloadId), pods: [] };
    for (const w of current.workloads.map(parseWorkloadId)) if (w) steps.push({ op: 'restartWorkload', ...w, stamp: current.stamp });
    const using = ap ? podsUsing(o.pods ?? [], profile.name) : [];
    if (using.length > 0) {
      const targetIds = new Set(targets.map(workloadId));
      const stampSec = seconds(current.stamp);
      const fresh = using.filter((p) => {
        if (!p.workload) return false;
        const sec = seconds(p.created);
        return targetIds.has(workloadId({ ...p.workload, namespace: p.namespace })) && (sec > stampSec || (sec === stampSec && !current.pods.includes(podId(p))));
      });
      const waitedMs = o.now.getTime() - Date.parse(deletedAt);
      if (fresh.length > 0 && current.round < MAX_DELETION_RESTARTS) {
        const next: DeletionRound = {
          round: current.round + 1,
          stamp: o.now.toISOString(),
          workloads: [...new Set(fresh.map((p) => workloadId({ ...(p.workload as { kind: string; name: string }), namespace: p.namespace })))].sort(),
          pods: fresh.map(podId).slice(0, 20),
        };
        steps.push({ op: 'updateArmorProfile', object: withDeletionRound(ap as ArmorProfile, next), clearNodeEntries: false });
        for (const w of next.workloads.map(parseWorkloadId))
          if (w) steps.push({ op: 'restartWorkload', ...w, stamp: next.stamp, announce: { ...fields, namespace: w.namespace, workload: w.name, kind: w.kind, round: next.round } });
        steps.push({
          op: 'event',
          type: 'Warning',
          reason: 'RestartRepeated',
          message: `new pods ${fresh.map(podId).slice(0, 10).join(', ')} still use profile ${profile.name} of the deleted policy: restarted ${next.workloads.join(', ')} again (round ${next.round} of ${MAX_DELETION_RESTARTS})`,
        });
        steps.push(deletingStatus(policy, profile.name, using, next.round, o.now));
        return { steps, requeueAfterMs: DELETION_RECHECK_MS };
      }
      if (waitedMs < (opts.deletionWaitMs ?? DEFAULT_DELETION_WAIT_MS)) {
        steps.push(deletingStatus(policy, profile.name, using, current.round, o.now));
        return { steps, requeueAfterMs: DELETION_RECHECK_MS };
      }
      steps.push({
        op: 'event',
        type: 'Warning',
        reason: 'PodsStillReference',
        message: `gave up waiting after ${Math.round(waitedMs / 1000)} s: pods ${using.map(podId).slice(0, 10).join(', ')} still use profile ${profile.name}; it is removed, and their containers cannot start again with it (delete or restart them)`,
      });
      steps.push({ op: 'log', msg: 'deleting a profile pods still use', fields: { ...fields, pods: using.map(podId).slice(0, 10) } });
    }
  }
  if (ap) steps.push(...deleteArmorProfile(ap));
  for (const m of o.models ?? []) {
    if (m.metadata.name !== profile.name)
      steps.push({
        op: 'delete',
        kind: 'ArmorProfileModel',
        namespace: profile.namespace,
        name: m.metadata.name ?? '',
      });
  }
  const next = withoutFinalizer(policy, POLICY_FINALIZER);
  if (next) steps.push({ op: 'replacePolicy', object: next });
  steps.push({ op: 'log', msg: 'policy deleted; ArmorProfile removed', fields });
  return { steps };
}

/** The status of a deletion that waits for pods: condition Deleting, an Event when it starts waiting. */
function deletingStatus(policy: AnyPolicy, profile: string, using: readonly PodRef[], rounds: number, now: Date): Step {
  const listed = using.slice(0, 10).map(podId).join(', ') + (using.length > 10 ? ` and ${using.length - 10} more` : '');
  const message = `ArmorProfile ${profile} is kept until no pod uses it (the nodes would delete its Seccomp file and unload its profiles): ${listed}; workloads restarted ${rounds} time${rounds === 1 ? '' : 's'}`;
  const previous = policy.status?.conditions ?? [];
  const old = previous.find((c) => c.type === CONDITION_DELETING);
  const condition = { type: CONDITION_DELETING, status: 'True', reason: 'WaitingForPods', message, lastTransitionTime: old?.lastTransitionTime ?? now.toISOString() };
  if (old?.message === message) return { op: 'log', msg: 'waiting for pods to stop using the profile', fields: { policy: policy.metadata.name, namespace: policy.metadata.namespace, profile, pods: using.length } };
  const status: PolicyStatus = {
    profileName: profile,
    ready: false,
    ...(policy.status ?? {}),
    conditions: [...previous.filter((c) => c.type !== CONDITION_DELETING), condition],
  };
  // one Event when the wait starts, not one per pod that comes and goes
  return { op: 'writeStatus', status, events: old ? [] : [{ type: 'Normal', reason: 'WaitingForPods', message }] };
}

function deleteArmorProfile(ap: ArmorProfile): Step[] {
  const released = withoutFinalizer(ap, AP_FINALIZER);
  return [
    ...(released ? [{ op: 'replaceArmorProfile', object: released } as const] : []),
    {
      op: 'delete',
      kind: 'ArmorProfile',
      namespace: ap.metadata.namespace ?? '',
      name: ap.metadata.name ?? '',
    },
  ];
}

/** The restartable workloads the policy selects, from those read in its scope. */
function targeted(
  policy: AnyPolicy,
  workloads: readonly WorkloadRef[] | undefined,
): {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}[] {
  if (!isWorkloadKind(policy.spec.target.kind)) return [];
  const out: { kind: WorkloadKind; namespace: string; name: string }[] = [];
  for (const w of workloads ?? []) {
    if (targetsWorkload(policy, w) && isWorkloadKind(w.kind))
      out.push({ kind: w.kind, namespace: w.namespace, name: w.name });
  }
  return out;
}

/** The policy asks for its workloads to be restarted and this generation's restart is not done. */
function restartWanted(policy: AnyPolicy, ap: ArmorProfile | undefined): boolean {
  const gen = String(policy.metadata.generation ?? 1);
  return (
    Boolean(policy.spec.updateExistingWorkloads) &&
    isWorkloadKind(policy.spec.target.kind) &&
    ap?.metadata.annotations?.[ANN_RESTARTED] !== gen
  );
}

/**
 * The restart stamp of this generation. It is chosen once per generation and stored on the
 * ArmorProfile before any workload is touched, so a retry after a crash patches the same
 * value: no second rollout.
 */
function restartStamp(
  policy: AnyPolicy,
  ap: ArmorProfile | undefined,
  now: Date,
): { stamp: string; annotation: string } {
  const gen = String(policy.metadata.generation ?? 1);
  const prev = ap?.metadata.annotations?.[ANN_RESTART];
  const at = prev?.startsWith(`${gen}@`) ? prev.slice(gen.length + 1) : now.toISOString();
  return { stamp: at, annotation: `${gen}@${at}` };
}

type Failure = { reason: string; message: string };

function describeErrors(err: unknown): string {
  const errors = (err as { errors?: { path?: string; message?: string }[] }).errors;
  if (Array.isArray(errors) && errors.length > 0)
    return errors.map((e) => (e.path ? `${e.path}: ${e.message ?? ''}` : (e.message ?? ''))).join('; ');
  return (err as Error).message ?? String(err);
}

function withMode(policy: AnyPolicy, mode: string): AnyPolicy {
  return { ...policy, spec: { ...policy.spec, policy: { ...policy.spec.policy, mode } } } as AnyPolicy;
}

/** A live policy: validate, compile, converge the ArmorProfile, restart, report. */
function planLive(
  o: Observed,
  policy: AnyPolicy,
  profile: { namespace: string; name: string },
  opts: PlanOptions,
): Plan {
  const { now } = o;
  const ap = o.armorProfile;
  const name = profile.name;
  const generation = policy.metadata.generation ?? 1;
  const update = generation > 1;
  const steps: Step[] = [];
  let outcome: Outcome;
  let requeueAfterMs: number | undefined;

  const reject = (f: Failure): Outcome => ({
    kind: 'rejected',
    reason: f.reason,
    message: f.message,
    exists: ap !== undefined,
    update,
  });
  // The API server has already pruned unknown fields; what is left is checked as the webhook checks it.
  const vopts = { productNamespace: opts.productNamespace, unknownFields: 'ignore' as const };
  // An older policy owns this profile name or BPF id (the webhook was bypassed): write nothing
  // the agents would load under the older policy's name or id, and say so.
  const collision = olderCollision(policy, o.policies, opts.productNamespace);
  const v = collision
    ? undefined
    : ap
      ? validatePolicyUpdate(appliedPolicy(policy, ap), policy, vopts)
      : validatePolicy(policy, vopts);
  if (collision || !v) {
    outcome = reject({ reason: collision?.reason ?? 'Forbidden', message: collision?.message ?? 'not validated' });
  } else if (!v.ok) {
    outcome = reject({
      reason: 'Forbidden',
      message: v.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
    });
  } else {
    let modeling: ModelingDecision | undefined;
    let compileFrom: AnyPolicy = policy;
    let model: ArmorProfileModel | undefined;
    let failure: Failure | undefined;
    const annotations: Record<string, string> = { [ANN_POLICY_GENERATION]: String(generation) };

    if (v.mode === 'BehaviorModeling') {
      const start = modelingStart(ap, ap?.metadata.annotations?.[ANN_MODE], now);
      annotations[ANN_MODELING_START] = start;
      // Whether the run is over depends on the merged model: create it, then plan with the one we got.
      if (!o.model)
        return {
          steps: [{ op: 'createModel', object: emptyModel(policy, name, profile.namespace) }],
          replan: true,
        };
      const r = planModel(o, o.model, policy, profile, start, v.enforcers, opts);
      steps.push(...r.steps);
      modeling = r.decision;
      if (r.failure) failure = r.failure;
      if (modeling.recheckMs !== undefined) requeueAfterMs = modeling.recheckMs;
      // A finished run keeps the profile in place but stops confining: the user moves the
      // policy to DefenseInDepth over the model next, with no restart needed.
      if (modeling.state === 'completed') compileFrom = withMode(policy, 'AlwaysAllow');
    } else if (usesBehaviorModel(policy)) {
      model = o.model;
      if (!model?.metadata.annotations?.[ANN_MODEL_BUILT]) {
        failure = {
          reason: 'ModelNotReady',
          message: `DefenseInDepth with profileType BehaviorModel needs the behaviour model ${profile.namespace}/${name}; run the policy in BehaviorModeling mode first`,
        };
      }
    }

    let compiled: CompiledPolicy | undefined;
    if (!failure) {
      try {
        const copts: CompilePolicyOptions = {
          productNamespace: opts.productNamespace,
          unknownFields: 'ignore',
          ...(model ? { model } : {}),
        };
        const first = compilePolicy(compileFrom, copts);
        // toServices / toPods: the addresses the cluster holds now, compiled in (egress.ts)
        compiled = first.bpfSelectors
          ? compilePolicy(compileFrom, { ...copts, bpf: { resolvedDestinations: resolveEgress(first.bpfSelectors, o.egress ?? EMPTY_EGRESS_VIEW) } })
          : first;
      } catch (err) {
        failure = {
          reason: (err as { errors?: unknown }).errors ? 'Forbidden' : 'CompileError',
          message: describeErrors(err),
        };
      }
    }

    if (failure || !compiled) {
      outcome = reject(failure ?? { reason: 'CompileError', message: 'compilation produced nothing' });
    } else {
      const restart = restartWanted(policy, ap) ? restartStamp(policy, ap, now) : undefined;
      if (restart) annotations[ANN_RESTART] = restart.annotation;
      const desired = decorateArmorProfile(
        policy,
        toArmorProfile(compileFrom, compiled, opts.productNamespace),
        annotations,
      );
      if (modeling)
        desired.spec.behaviorModeling = {
          enable: modeling.enable,
          duration: policy.spec.policy.modelingOptions?.duration ?? 0,
        };
      const converge = armorProfileSteps(ap, desired);
      steps.push(...converge.steps);
      if (!converge.after) return { steps };
      let after = converge.after;
      if (restart) {
        const targets = targeted(policy, o.workloads);
        for (const w of targets) {
          steps.push({
            op: 'restartWorkload',
            ...w,
            stamp: restart.stamp,
            announce: { policy: policy.metadata.name, namespace: w.namespace, kind: w.kind, name: w.name },
          });
        }
        if (targets.length > 0) {
          steps.push({
            op: 'event',
            type: 'Normal',
            reason: 'WorkloadsRestarted',
            message: `restarted ${targets.map((w) => `${w.kind} ${w.namespace}/${w.name}`).join(', ')}`,
          });
        }
        steps.push({ op: 'markRestarted', generation: String(generation) });
        after = markRestarted(after, String(generation));
      }
      outcome = {
        kind: 'applied',
        ap: after,
        update,
        ...(modeling ? { modeling: { state: modeling.state, message: modeling.message } } : {}),
      };
    }
  }

  const others = sameTargetKind(policy, o.policies);
  const overlaps = others.length <= 1 ? [] : findOverlaps(policy, others, o.allWorkloads ?? []);
  steps.push(statusStep({ profileName: name, previous: policy.status, outcome, overlaps, now }));
  return requeueAfterMs !== undefined ? { steps, requeueAfterMs } : { steps };
}

/** The status step for this basis: the status, its transition Events, and whether it changed. */
export function statusStep(basis: StatusBasis): Extract<Step, { op: 'status' }> {
  const { status, events } = computeStatus(
    basis.profileName,
    basis.previous,
    basis.outcome,
    basis.overlaps,
    basis.now,
  );
  return { op: 'status', basis, status, events, changed: !statusEqual(basis.previous, status) };
}

/** Does this ArmorProfile carry other node entries than the ones the status was computed from? */
export function nodeEntriesDiffer(a: ArmorProfile, b: ArmorProfile): boolean {
  return !deepEqual(clean(a.status ?? null), clean(b.status ?? null));
}

/** The ArmorProfile with this generation's restart recorded. */
export function markRestarted(ap: ArmorProfile, generation: string): ArmorProfile {
  return {
    ...ap,
    metadata: {
      ...ap.metadata,
      annotations: { ...(ap.metadata.annotations ?? {}), [ANN_RESTARTED]: generation },
    },
  };
}

/** The ArmorProfile with the agents' per-node entries cleared (they are about the previous profile). */
export function withoutNodeEntries(ap: ArmorProfile): ArmorProfile {
  return { ...ap, status: { ...ap.status, conditions: [], currentNumberLoaded: 0 } };
}

/**
 * Converge the ArmorProfile to `desired`: create it, or change what we own of the existing one;
 * a profile change clears the agents' now stale per-node entries. `after`: the ArmorProfile as
 * these steps leave it, or undefined when they end in a failure. Also used by the executor for
 * an ArmorProfile that a create found already there.
 */
export function armorProfileSteps(
  existing: ArmorProfile | undefined,
  desired: ArmorProfile,
): { steps: Step[]; after?: ArmorProfile } {
  if (!existing) return { steps: [{ op: 'createArmorProfile', object: desired }], after: desired };
  if (existing.metadata.deletionTimestamp) {
    // Someone deleted the ArmorProfile of a live policy: let that deletion finish (agents see
    // it and unload), then the retry creates it afresh from the policy.
    const released = withoutFinalizer(existing, AP_FINALIZER);
    return {
      steps: [
        ...(released ? [{ op: 'replaceArmorProfile', object: released } as const] : []),
        {
          op: 'fail',
          code: 'VARMOR_ERR_PLAN_PROFILE_BEING_DELETED',
          message: `ArmorProfile ${existing.metadata.namespace}/${existing.metadata.name} was being deleted; re-creating it`,
        },
      ],
    };
  }
  const next = convergeMeta(existing, desired, ['spec']);
  if (!next) return { steps: [], after: existing };
  const clearNodeEntries =
    !deepEqual(existing.spec.profile, desired.spec.profile) && (existing.status?.conditions?.length ?? 0) > 0;
  return {
    steps: [{ op: 'updateArmorProfile', object: next, clearNodeEntries }],
    after: clearNodeEntries ? withoutNodeEntries(next) : next,
  };
}

function base64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** BehaviorModeling: where the run stands, and the merged model once every node has uploaded. */
function planModel(
  o: Observed,
  model: ArmorProfileModel,
  policy: AnyPolicy,
  profile: { namespace: string; name: string },
  start: string,
  enforcers: Enforcer[],
  opts: PlanOptions,
): { decision: ModelingDecision; steps: Step[]; failure?: Failure } {
  const { name, namespace: ns } = profile;
  const ap = o.armorProfile;
  const steps: Step[] = [];
  const perNode = (o.models ?? []).filter((m) => m.metadata.name !== name);
  const decision = modelingDecision({
    start,
    durationMinutes: policy.spec.policy.modelingOptions?.duration ?? 0,
    now: o.now,
    expectedNodes: aggregateNodes(ap).nodes,
    uploadedNodes: perNode.map((m) => m.metadata.labels?.[LABEL_NODE] ?? m.metadata.name ?? ''),
    graceMs: opts.modelingGraceMs,
    modelReady: modelBuiltForRun(model.metadata.annotations?.[ANN_MODEL_BUILT], start),
  });
  if (decision.build) {
    const dynamicResult = withAppArmorFallback(
      mergeDynamicResults(perNode.map((m) => m.data?.dynamicResult)),
    );
    const withData: ArmorProfileModel = { ...model, data: { ...model.data, dynamicResult } };
    const usable = modelableEnforcers(dynamicResult, enforcers);
    const missing = enforcers.filter((e) => e !== 'BPF' && !usable.includes(e));
    if (missing.length > 0)
      decision.message += `; no ${missing.join(' or ')} records, so the model has no ${missing.join(' or ')} profile`;
    const mp = modelProfilePolicy(policy, usable);
    let profileData: ArmorProfileModel['data']['profile'];
    if (mp) {
      try {
        const compiled = compilePolicy(mp, {
          productNamespace: opts.productNamespace,
          unknownFields: 'ignore',
          model: withData,
        });
        profileData = {
          name,
          enforcer: mp.spec.policy.enforcer,
          mode: 'DefenseInDepth',
          ...(compiled.appArmor ? { content: base64(compiled.appArmor.profile) } : {}),
          ...(compiled.seccomp ? { seccompContent: JSON.stringify(compiled.seccomp) } : {}),
        };
      } catch (err) {
        return {
          decision: { ...decision, state: 'collecting', build: false },
          steps,
          failure: { reason: 'ModelBuildFailed', message: describeErrors(err) },
        };
      }
    }
    const status: ModelStatus = {
      desiredNumber: aggregateNodes(ap).nodes.length,
      completedNumber: perNode.length,
      ready: true,
    };
    steps.push({
      op: 'buildModel',
      object: {
        ...withData,
        apiVersion: API_VERSION,
        kind: 'ArmorProfileModel',
        metadata: {
          ...model.metadata,
          annotations: { ...(model.metadata.annotations ?? {}), [ANN_MODEL_BUILT]: o.now.toISOString() },
        },
        data: { ...withData.data, ...(profileData ? { profile: profileData } : {}) },
        status,
      },
      status,
    });
    steps.push({
      op: 'log',
      msg: 'behaviour model built',
      fields: { policy: policy.metadata.name, namespace: ns, profile: name, nodes: perNode.length },
    });
  }
  if (decision.state === 'completed') {
    // Merged (now or by an earlier run that crashed before cleaning up): the per-node uploads are spent.
    for (const m of perNode)
      steps.push({ op: 'delete', kind: 'ArmorProfileModel', namespace: ns, name: m.metadata.name ?? '' });
  }
  return { decision, steps };
}
