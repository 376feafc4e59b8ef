// One reconcile of one policy: read the policy, its ArmorProfile and (when modelling) its
// models; compute what should exist; converge with idempotent writes; then write the status
// and the Events of its transitions. Level-triggered: whatever happened before (a crash
// between two writes, a missed watch event), running it again reaches the same state.

import type { AnyPolicy, ArmorProfile, ArmorProfileModel, Enforcer } from '../profiler/api/types.js';
import { API_VERSION } from '../profiler/api/types.js';
import type { CompiledPolicy } from '../profiler/compiled.js';
import { compilePolicy, type CompilePolicyOptions } from '../profiler/compile.js';
import { toArmorProfile } from '../profiler/armorprofile.js';
import { validatePolicy, validatePolicyUpdate } from '../profiler/validate/index.js';
import { profileName } from '../profiler/names.js';
import type { Clock } from './clock.js';
import {
  ANN_MODE,
  ANN_RESTART,
  ANN_RESTARTED,
  ANN_POLICY_GENERATION,
  AP_FINALIZER,
  POLICY_FINALIZER,
  convergeMeta,
  decorateArmorProfile,
  deepEqual,
  emptyModel,
  appliedPolicy,
  withFinalizer,
  withoutFinalizer,
} from './desired.js';
import { isConflict, isForbidden, isNotFound } from './errors.js';
import type { KubeClient } from './kube.js';
import type { Logger } from './log.js';
import {
  ANN_MODELING_START,
  LABEL_MODEL_OF,
  LABEL_NODE,
  mergeDynamicResults,
  modelableEnforcers,
  modelBuiltForRun,
  modelingStart,
  modelingDecision,
  modelProfilePolicy,
  usesBehaviorModel,
  withAppArmorFallback,
  type ModelingDecision,
} from './modeling.js';
import { aggregateNodes, computeStatus, statusEqual, type Outcome } from './status.js';
import {
  findOverlaps,
  isWorkloadKind,
  parsePolicyKey,
  targetsWorkload,
  type WorkloadRef,
} from './targets.js';

import { ANN_MODEL_BUILT, LABEL_POLICY_KIND, LABEL_POLICY_NAME, LABEL_POLICY_NAMESPACE } from '../profiler/api/well-known.js';

export { ANN_MODEL_BUILT };
export const EVENT_COMPONENT = 'varmor-controller';

export interface ReconcilerOptions {
  client: KubeClient;
  productNamespace: string;
  clock: Clock;
  log: Logger;
  /** All policies the informers know, for the overlap check. */
  listPolicies: () => AnyPolicy[];
  /** Wait this long past a modelling deadline for nodes that have not uploaded. */
  modelingGraceMs: number;
}

export interface ReconcileResult {
  /** Reconcile again after this long (modelling deadlines). */
  requeueAfterMs?: number;
}

type CompileFailure = { reason: string; message: string };

function describeErrors(err: unknown): string {
  const errors = (err as { errors?: { path?: string; message?: string }[] }).errors;
  if (Array.isArray(errors) && errors.length > 0)
    return errors.map((e) => (e.path ? `${e.path}: ${e.message ?? ''}` : (e.message ?? ''))).join('; ');
  return (err as Error).message ?? String(err);
}

function base64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export class Reconciler {
  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const ref = parsePolicyKey(key);
    const c = this.o.client;
    const policy = await c.get<AnyPolicy>(ref.kind, ref.namespace, ref.name);
    const name = profileName(ref, this.o.productNamespace);
    const apNs = ref.namespace ?? this.o.productNamespace;
    if (!policy) {
      await this.removeOrphan(ref.kind, ref.namespace, ref.name, apNs, name);
      return {};
    }
    if (policy.metadata.deletionTimestamp) {
      await this.finalize(policy, apNs, name);
      return {};
    }
    const withF = withFinalizer(policy, POLICY_FINALIZER);
    const cur = withF ? await c.replace<AnyPolicy>(policy.kind, withF) : policy;
    return this.sync(cur, apNs, name);
  }

  private async sync(policy: AnyPolicy, apNs: string, name: string): Promise<ReconcileResult> {
    const c = this.o.client;
    const now = this.o.clock.now();
    let ap = await c.get<ArmorProfile>('ArmorProfile', apNs, name);
    const generation = policy.metadata.generation ?? 1;
    const update = generation > 1;
    let outcome: Outcome;
    let requeueAfterMs: number | undefined;

    const reject = (f: CompileFailure): Outcome => ({
      kind: 'rejected',
      reason: f.reason,
      message: f.message,
      exists: ap !== undefined,
      update,
    });
    // The API server has already pruned unknown fields; what is left is checked as the webhook checks it.
    const vopts = { productNamespace: this.o.productNamespace, unknownFields: 'ignore' as const };
    const v = ap
      ? validatePolicyUpdate(appliedPolicy(policy, ap), policy, vopts)
      : validatePolicy(policy, vopts);
    if (!v.ok) {
      outcome = reject({
        reason: 'Forbidden',
        message: v.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      });
    } else {
      const enforcers = v.enforcers;
      let modeling: ModelingDecision | undefined;
      let compileFrom: AnyPolicy = policy;
      let model: ArmorProfileModel | undefined;
      let failure: CompileFailure | undefined;
      const annotations: Record<string, string> = { [ANN_POLICY_GENERATION]: String(generation) };

      if (v.mode === 'BehaviorModeling') {
        const start = modelingStart(ap, ap?.metadata.annotations?.[ANN_MODE], now);
        annotations[ANN_MODELING_START] = start;
        const r = await this.model(policy, apNs, name, ap, start, enforcers, now);
        modeling = r.decision;
        if (r.failure) failure = r.failure;
        if (modeling.recheckMs !== undefined) requeueAfterMs = modeling.recheckMs;
        // A finished run keeps the profile in place but stops confining: the user moves the
        // policy to DefenseInDepth over the model next, with no restart needed.
        if (modeling.state === 'completed') compileFrom = withMode(policy, 'AlwaysAllow');
      } else if (usesBehaviorModel(policy)) {
        model = await c.get<ArmorProfileModel>('ArmorProfileModel', apNs, name);
        if (!model?.metadata.annotations?.[ANN_MODEL_BUILT]) {
          failure = {
            reason: 'ModelNotReady',
            message: `DefenseInDepth with profileType BehaviorModel needs the behaviour model ${apNs}/${name}; run the policy in BehaviorModeling mode first`,
          };
        }
      }

      let compiled: CompiledPolicy | undefined;
      if (!failure) {
        try {
          const opts: CompilePolicyOptions = {
            productNamespace: this.o.productNamespace,
            unknownFields: 'ignore',
            ...(model ? { model } : {}),
          };
          compiled = compilePolicy(compileFrom, opts);
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
        const restart = this.restartPlan(policy, ap, now);
        if (restart.annotation) annotations[ANN_RESTART] = restart.annotation;
        const desired = decorateArmorProfile(
          policy,
          toArmorProfile(compileFrom, compiled, this.o.productNamespace),
          annotations,
        );
        if (modeling)
          desired.spec.behaviorModeling = {
            enable: modeling.enable,
            duration: policy.spec.policy.modelingOptions?.duration ?? 0,
          };
        ap = await this.applyArmorProfile(ap, desired);
        if (restart.due) ap = await this.restartWorkloads(policy, ap, restart.stamp, String(generation));
        outcome = {
          kind: 'applied',
          ap,
          update,
          ...(modeling ? { modeling: { state: modeling.state, message: modeling.message } } : {}),
        };
      }
    }

    const overlaps = await this.overlaps(policy);
    const { status, events } = computeStatus(name, policy.status, outcome, overlaps, now);
    if (!statusEqual(policy.status, status)) {
      await c.replaceStatus<AnyPolicy>(policy.kind, { ...policy, status });
      for (const e of events) await this.event(policy, e.type, e.reason, e.message, now);
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /** Create or converge the ArmorProfile; a profile change clears the agents' now stale per-node entries. */
  private async applyArmorProfile(
    existing: ArmorProfile | undefined,
    desired: ArmorProfile,
  ): Promise<ArmorProfile> {
    const c = this.o.client;
    if (!existing) {
      try {
        return await c.create<ArmorProfile>('ArmorProfile', desired);
      } catch (err) {
        // Created by an earlier run whose reply we never saw (or by a racing replica): converge it instead.
        if (!isConflict(err)) throw err;
        const again = await c.get<ArmorProfile>(
          'ArmorProfile',
          desired.metadata.namespace,
          desired.metadata.name ?? '',
        );
        if (!again) throw err;
        existing = again;
      }
    }
    if (existing.metadata.deletionTimestamp) {
      // Someone deleted the ArmorProfile of a live policy: let that deletion finish (agents see
      // it and unload), then the retry creates it afresh from the policy.
      const released = withoutFinalizer(existing, AP_FINALIZER);
      if (released) await c.replace<ArmorProfile>('ArmorProfile', released);
      throw new Error(
        `ArmorProfile ${existing.metadata.namespace}/${existing.metadata.name} was being deleted; re-creating it`,
      );
    }
    const next = convergeMeta(existing, desired, ['spec']);
    if (!next) return existing;
    const written = await c.replace<ArmorProfile>('ArmorProfile', next);
    if (
      !deepEqual(existing.spec.profile, desired.spec.profile) &&
      (written.status?.conditions?.length ?? 0) > 0
    ) {
      try {
        // Guarded by the resourceVersion of our own write: if an agent has reported since, its
        // entry is about the new profile and must stay, so a 409 means "leave it".
        return await c.replaceStatus<ArmorProfile>('ArmorProfile', {
          ...written,
          status: { ...written.status, conditions: [], currentNumberLoaded: 0 },
        });
      } catch (err) {
        if (isForbidden(err)) {
          this.o.log.warn('cannot clear stale node entries: no update permission on armorprofiles/status', {
            profile: written.metadata.name,
          });
        } else if (!isConflict(err)) {
          throw err;
        }
      }
    }
    return written;
  }

  /** Due: a restart of the policy's workloads for this generation has not been done yet. */
  private restartPlan(
    policy: AnyPolicy,
    ap: ArmorProfile | undefined,
    now: Date,
  ): { due: boolean; stamp: string; annotation?: string } {
    const gen = String(policy.metadata.generation ?? 1);
    if (!policy.spec.updateExistingWorkloads || !isWorkloadKind(policy.spec.target.kind))
      return { due: false, stamp: '' };
    if (ap?.metadata.annotations?.[ANN_RESTARTED] === gen) return { due: false, stamp: '' };
    // The stamp is chosen once per generation and stored before any workload is touched, so a
    // retry after a crash patches the same value: no second rollout.
    const prev = ap?.metadata.annotations?.[ANN_RESTART];
    const at = prev?.startsWith(`${gen}@`) ? prev.slice(gen.length + 1) : now.toISOString();
    return { due: true, stamp: at, annotation: `${gen}@${at}` };
  }

  private async targetedWorkloads(policy: AnyPolicy): Promise<WorkloadRef[]> {
    const kind = policy.spec.target.kind;
    if (!isWorkloadKind(kind)) return [];
    const ns = policy.kind === 'VarmorPolicy' ? (policy.metadata.namespace ?? 'default') : undefined;
    const all = await this.o.client.listWorkloads(kind, ns);
    return all.filter((w) => targetsWorkload(policy, w));
  }

  private async restartWorkloads(
    policy: AnyPolicy,
    ap: ArmorProfile,
    stamp: string,
    gen: string,
  ): Promise<ArmorProfile> {
    const c = this.o.client;
    const targets = await this.targetedWorkloads(policy);
    for (const w of targets) {
      if (!isWorkloadKind(w.kind)) continue;
      if (await c.restartWorkload(w.kind, w.namespace, w.name, stamp)) {
        this.o.log.info('restarted workload', {
          policy: policy.metadata.name,
          namespace: w.namespace,
          kind: w.kind,
          name: w.name,
        });
      }
    }
    if (targets.length > 0) {
      await this.event(
        policy,
        'Normal',
        'WorkloadsRestarted',
        `restarted ${targets.map((w) => `${w.kind} ${w.namespace}/${w.name}`).join(', ')}`,
        this.o.clock.now(),
      );
    }
    return c.replace<ArmorProfile>('ArmorProfile', {
      ...ap,
      metadata: { ...ap.metadata, annotations: { ...(ap.metadata.annotations ?? {}), [ANN_RESTARTED]: gen } },
    });
  }

  private async model(
    policy: AnyPolicy,
    ns: string,
    name: string,
    ap: ArmorProfile | undefined,
    start: string,
    enforcers: Enforcer[],
    now: Date,
  ): Promise<{ decision: ModelingDecision; failure?: CompileFailure }> {
    const c = this.o.client;
    let model = await c.get<ArmorProfileModel>('ArmorProfileModel', ns, name);
    if (!model) {
      try {
        model = await c.create<ArmorProfileModel>('ArmorProfileModel', emptyModel(policy, name, ns));
      } catch (err) {
        if (!isConflict(err)) throw err;
        model = await c.get<ArmorProfileModel>('ArmorProfileModel', ns, name);
        if (!model) throw err;
      }
    }
    const perNode = (
      await c.list<ArmorProfileModel>('ArmorProfileModel', ns, `${LABEL_MODEL_OF}=${name}`)
    ).filter((m) => m.metadata.name !== name);
    const decision = modelingDecision({
      start,
      durationMinutes: policy.spec.policy.modelingOptions?.duration ?? 0,
      now,
      expectedNodes: aggregateNodes(ap).nodes,
      uploadedNodes: perNode.map((m) => m.metadata.labels?.[LABEL_NODE] ?? m.metadata.name ?? ''),
      graceMs: this.o.modelingGraceMs,
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
      let profile: ArmorProfileModel['data']['profile'];
      if (mp) {
        try {
          const compiled = compilePolicy(mp, {
            productNamespace: this.o.productNamespace,
            unknownFields: 'ignore',
            model: withData,
          });
          profile = {
            name,
            enforcer: mp.spec.policy.enforcer,
            mode: 'DefenseInDepth',
            ...(compiled.appArmor ? { content: base64(compiled.appArmor.profile) } : {}),
            ...(compiled.seccomp ? { seccompContent: JSON.stringify(compiled.seccomp) } : {}),
          };
        } catch (err) {
          return {
            decision: { ...decision, state: 'collecting', build: false },
            failure: { reason: 'ModelBuildFailed', message: describeErrors(err) },
          };
        }
      }
      const status = {
        desiredNumber: aggregateNodes(ap).nodes.length,
        completedNumber: perNode.length,
        ready: true,
      };
      const built = await c.replace<ArmorProfileModel>('ArmorProfileModel', {
        ...withData,
        apiVersion: API_VERSION,
        kind: 'ArmorProfileModel',
        metadata: {
          ...model.metadata,
          annotations: { ...(model.metadata.annotations ?? {}), [ANN_MODEL_BUILT]: now.toISOString() },
        },
        data: { ...withData.data, ...(profile ? { profile } : {}) },
        status,
      });
      await this.writeModelStatus(built, status);
      this.o.log.info('behaviour model built', {
        policy: policy.metadata.name,
        namespace: ns,
        profile: name,
        nodes: perNode.length,
      });
    }
    if (decision.state === 'completed') {
      // Merged (now or by an earlier run that crashed before cleaning up): the per-node uploads are spent.
      for (const m of perNode) await c.delete('ArmorProfileModel', ns, m.metadata.name ?? '');
    }
    return { decision };
  }

  /** Models whose CRD has a status subresource ignore `status` in a main-resource write. */
  private async writeModelStatus(
    model: ArmorProfileModel,
    status: NonNullable<ArmorProfileModel['status']>,
  ): Promise<void> {
    try {
      await this.o.client.replaceStatus<ArmorProfileModel>('ArmorProfileModel', { ...model, status });
    } catch (err) {
      // The build is recorded by annotation; the status is for people, so a missing permission is not fatal.
      if (isForbidden(err))
        this.o.log.warn('cannot write the model status: no update permission on armorprofilemodels/status', {
          model: model.metadata.name,
        });
      else if (!isNotFound(err)) throw err;
    }
  }

  private async overlaps(policy: AnyPolicy) {
    const others = this.o.listPolicies().filter((p) => p.spec?.target?.kind === policy.spec.target.kind);
    if (others.length <= 1) return [];
    const workloads = isWorkloadKind(policy.spec.target.kind)
      ? await this.o.client.listWorkloads(policy.spec.target.kind)
      : [];
    return findOverlaps(policy, others, workloads);
  }

  /** Deletion: roll the workloads (so new pods run without the profile), drop the ArmorProfile, let go. */
  private async finalize(policy: AnyPolicy, apNs: string, name: string): Promise<void> {
    if (!policy.metadata.finalizers?.includes(POLICY_FINALIZER)) return;
    const c = this.o.client;
    if (policy.spec.updateExistingWorkloads) {
      // The deletion timestamp is the stamp: a retry after a crash writes the same value.
      const stamp = policy.metadata.deletionTimestamp ?? this.o.clock.now().toISOString();
      for (const w of await this.targetedWorkloads(policy)) {
        if (isWorkloadKind(w.kind)) await c.restartWorkload(w.kind, w.namespace, w.name, stamp);
      }
    }
    await this.deleteArmorProfile(apNs, name);
    for (const m of await c.list<ArmorProfileModel>('ArmorProfileModel', apNs, `${LABEL_MODEL_OF}=${name}`)) {
      if (m.metadata.name !== name) await c.delete('ArmorProfileModel', apNs, m.metadata.name ?? '');
    }
    const next = withoutFinalizer(policy, POLICY_FINALIZER);
    if (next) await c.replace<AnyPolicy>(policy.kind, next);
    this.o.log.info('policy deleted; ArmorProfile removed', {
      kind: policy.kind,
      namespace: policy.metadata.namespace,
      policy: policy.metadata.name,
      profile: name,
    });
  }

  private async deleteArmorProfile(ns: string, name: string): Promise<void> {
    const c = this.o.client;
    const ap = await c.get<ArmorProfile>('ArmorProfile', ns, name);
    if (!ap) return;
    const next = withoutFinalizer(ap, AP_FINALIZER);
    if (next) await c.replace<ArmorProfile>('ArmorProfile', next);
    await c.delete('ArmorProfile', ns, name);
  }

  /** The policy is gone without our finalizer having run (deleted while no controller ran with it). */
  private async removeOrphan(
    kind: string,
    ns: string | undefined,
    policyName: string,
    apNs: string,
    name: string,
  ): Promise<void> {
    const ap = await this.o.client.get<ArmorProfile>('ArmorProfile', apNs, name);
    const l = ap?.metadata.labels ?? {};
    if (!ap || l[LABEL_POLICY_KIND] !== kind || l[LABEL_POLICY_NAME] !== policyName) return;
    if (ns !== undefined && l[LABEL_POLICY_NAMESPACE] !== ns) return;
    this.o.log.info('removing the ArmorProfile of a deleted policy', {
      kind,
      namespace: ns,
      policy: policyName,
      profile: name,
    });
    await this.deleteArmorProfile(apNs, name);
  }

  private async event(
    policy: AnyPolicy,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    now: Date,
  ): Promise<void> {
    try {
      await this.o.client.createEvent(
        {
          apiVersion: API_VERSION,
          kind: policy.kind,
          name: policy.metadata.name ?? '',
          ...(policy.kind === 'VarmorPolicy' ? { namespace: policy.metadata.namespace } : {}),
          uid: policy.metadata.uid,
        },
        type,
        reason,
        message,
        now,
        EVENT_COMPONENT,
      );
    } catch (err) {
      // Events are best effort: losing one must not fail (and so repeat) the reconcile.
      this.o.log.warn('could not record an event', {
        policy: policy.metadata.name,
        reason,
        error: (err as Error).message,
      });
    }
  }
}

function withMode(policy: AnyPolicy, mode: string): AnyPolicy {
  return { ...policy, spec: { ...policy.spec, policy: { ...policy.spec.policy, mode } } } as AnyPolicy;
}
