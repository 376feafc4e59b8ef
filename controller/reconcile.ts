// One reconcile of one policy, what the work queue calls: read the world (the policy, its
// ArmorProfile, and what plan.ts says it needs besides), plan (pure, plan.ts), execute the plan
// (execute.ts). Level-triggered: whatever happened before (a crash between two writes, a missed
// watch event), running it again reaches the same state.

import { type AnyPolicy, type ArmorProfile, type ArmorProfileModel, LABEL_MODEL_OF, type Logger, type EgressView } from '../profiler/index.js';
import type { Clock } from './clock.js';
import { ControllerError, isForbidden } from './errors.js';
import { EVENT_COMPONENT, execute } from './execute.js';
import type { KubeClient } from './kube.js';
import { planPolicy, profileOf, readsFor, workloadScope, type Observed, type PolicyRef } from './plan.js';
import { isWorkloadKind, parsePolicyKey } from './targets.js';

export { EVENT_COMPONENT };

export interface ReconcilerOptions {
  client: KubeClient;
  productNamespace: string;
  clock: Clock;
  log: Logger;
  /** All policies the informers know, for the overlap check. */
  listPolicies: () => AnyPolicy[];
  /** Wait this long past a modelling deadline for nodes that have not uploaded. */
  modelingGraceMs: number;
  /** A deleted policy's profile waits this long at most for its pods (plan.ts; default 10 minutes). */
  deletionWaitMs?: number;
  /** The Services, EndpointSlices and Pods a policy's egress rules name (egress-watch.ts); none: an empty cluster. */
  egress?: (policy: AnyPolicy) => Promise<EgressView | undefined>;
}

export interface ReconcileResult {
  /** Reconcile again after this long (modelling deadlines). */
  requeueAfterMs?: number;
}

/** A plan replans at most after the finalizer and after the model: a third replan is a bug. */
const MAX_ROUNDS = 3;

export class Reconciler {
  constructor(private readonly o: ReconcilerOptions) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    let world = await this.observe(parsePolicyKey(key));
    const opts = { productNamespace: this.o.productNamespace, modelingGraceMs: this.o.modelingGraceMs, deletionWaitMs: this.o.deletionWaitMs };
    for (let round = 1; ; round++) {
      const plan = planPolicy(world, opts);
      const { policy, armorProfile, model } = world;
      const written = await execute(
        plan,
        { policy, armorProfile, model },
        { client: this.o.client, log: this.o.log, clock: this.o.clock },
      );
      if (!plan.replan)
        return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
      if (round >= MAX_ROUNDS)
        throw new ControllerError('VARMOR_ERR_PLAN_LOOP', `reconcile of ${key} keeps asking to replan`);
      world = { ...world, ...written };
    }
  }

  /** Read what the plan needs: the policy and its ArmorProfile, then what `readsFor` asks for. */
  private async observe(ref: PolicyRef): Promise<Observed> {
    const c = this.o.client;
    const now = this.o.clock.now();
    const profile = profileOf(ref, this.o.productNamespace);
    const policy = await c.get<AnyPolicy>(ref.kind, ref.namespace, ref.name);
    const armorProfile = await c.get<ArmorProfile>('ArmorProfile', profile.namespace, profile.name);
    const policies = policy && !policy.metadata.deletionTimestamp ? this.o.listPolicies() : [];
    const reads = readsFor(policy, armorProfile, policies);
    const world: Observed = { ref, policy, armorProfile, policies, now };
    if (!policy) return world;
    if (this.o.egress && !policy.metadata.deletionTimestamp) world.egress = await this.o.egress(policy);
    const kind = policy.spec.target.kind;
    if (reads.model)
      world.model = await c.get<ArmorProfileModel>('ArmorProfileModel', profile.namespace, profile.name);
    if (reads.models)
      world.models = await c.list<ArmorProfileModel>(
        'ArmorProfileModel',
        profile.namespace,
        `${LABEL_MODEL_OF}=${profile.name}`,
      );
    if (reads.workloads && isWorkloadKind(kind))
      world.workloads = await c.listWorkloads(kind, workloadScope(policy));
    if (reads.allWorkloads && isWorkloadKind(kind)) world.allWorkloads = await c.listWorkloads(kind);
    if (reads.pods) {
      try {
        world.pods = await c.listPods(workloadScope(policy));
      } catch (err) {
        // Without the right to list pods the deletion cannot wait for them: go on as before, and say so.
        if (!isForbidden(err)) throw err;
        this.o.log.warn('cannot list pods: a deleted policy\'s profile is removed without waiting for its pods', { kind: ref.kind, namespace: ref.namespace, policy: ref.name });
      }
    }
    return world;
  }
}
