// The node agent's core, put together from one part per concern: profiles in (from the API
// server), containers in (from the OCI hook and the runtime), loaders and BPF bindings out, status
// per profile. Level-triggered: the hook path binds at once (a container waits for it), and
// reconcileContainers() converges the bindings with what the runtime reports, which is also how a
// restarted agent rebuilds its state.
//
//   profiles/store.ts      what the node knows of each profile     binding/registry.ts  the containers
//   profiles/placement.ts  Seccomp, AppArmor, BPF tables in/out    binding/binder.ts    cgroup -> policy
//   binding/reconcile.ts   convergence with the runtime            binding/adopt.ts     pins of a previous agent
//   events/pump.ts         violations                              modeling/session.ts  behaviour records
//   status/report.ts       status entries and gauges
//
// This class only wires them and holds the order of each operation.

import type { HookDecision } from './hook/server.js';
import type { HookRequest } from './hook/request.js';
import type { BpfHandle } from './loaders/bpf.js';
import type { NodeProfile } from './profiles/decode.js';
import type { Logger } from '../profiler/node.js';
import type { AgentMetrics } from './metrics.js';
import type { ContainerSource } from './runtime/source.js';
import { ProfileStore, type ProfileTarget } from './profiles/store.js';
import { ProfilePlacer, type ProfilePlacerDeps } from './profiles/placement.js';
import { ContainerRegistry, type ContainerRecord } from './binding/registry.js';
import { ContainerBinder, type ContainerBinderDeps } from './binding/binder.js';
import { reconcileContainers, type ReconcileResult } from './binding/reconcile.js';
import { adoptPinnedBindings } from './binding/adopt.js';
import { EventPump } from './events/pump.js';
import { ModelingSessions, type ModelSink } from './modeling/session.js';
import { NodeReport, type StatusSink } from './status/report.js';

export interface NodeAgentDeps {
  nodeName: string;
  seccomp: ProfilePlacerDeps['seccomp'];
  appArmor: ProfilePlacerDeps['appArmor'];
  bpf: BpfHandle;
  cgroups: ContainerBinderDeps['cgroups'];
  runtime: ContainerSource;
  log: Logger;
  metrics: AgentMetrics;
  status?: StatusSink;
  models?: ModelSink;
  /** How long the hook waits for an ArmorProfile the informer has not delivered yet. */
  profileWaitMs?: number;
}

export class NodeAgent {
  private readonly profiles = new ProfileStore();
  private readonly containers = new ContainerRegistry();
  private readonly report: NodeReport;
  private readonly placer: ProfilePlacer;
  private readonly binder: ContainerBinder;
  private readonly events: EventPump;
  private readonly modeling: ModelingSessions;

  constructor(private readonly d: NodeAgentDeps) {
    const { profiles, containers } = this;
    const { log, metrics, bpf } = d;
    this.report = new NodeReport({ nodeName: d.nodeName, status: d.status, metrics, profiles, containers });
    const report = this.report;
    this.placer = new ProfilePlacer({ seccomp: d.seccomp, appArmor: d.appArmor, bpf, log, metrics, profiles, containers, report });
    const placement = this.placer;
    this.binder = new ContainerBinder({ nodeName: d.nodeName, bpf, cgroups: d.cgroups, log, metrics, profiles, containers, placement, report, profileWaitMs: d.profileWaitMs });
    this.events = new EventPump({ bpf, log, metrics, profiles, containers });
    this.modeling = new ModelingSessions({ log, models: d.models, profiles, containers, binder: this.binder, placement, drainEvents: () => this.events.pump() });
  }

  get enforcing(): boolean {
    return this.events.enforcing;
  }

  // ---- profiles ---------------------------------------------------------------------------

  /** An ArmorProfile appeared or changed. Loads what this node places; never throws. */
  async applyProfile(p: NodeProfile): Promise<void> {
    const st = this.profiles.ensure(p.profileName, { namespace: p.namespace, name: p.objectName });
    const previous = st.profile;
    st.profile = p;
    st.decodeError = undefined;
    this.profiles.notePolicyName(p.bpfPolicyId, p.profileName);
    st.results = await this.placer.place(st, previous);
    this.modeling.sync(st, previous);
    this.report.publish(st);
    this.profiles.arrived(p.profileName);
  }

  /** The ArmorProfile could not be decoded: reported False, whatever was loaded before stays. */
  rejectProfile(target: ProfileTarget, profileName: string, message: string): void {
    const st = this.profiles.ensure(profileName, target);
    st.decodeError = message;
    this.d.log.warn('profile rejected', { profile: profileName, namespace: target.namespace, error: message });
    this.report.publish(st);
  }

  async removeProfile(profileName: string): Promise<void> {
    const st = this.profiles.get(profileName);
    if (!st) return;
    const p = st.profile;
    this.profiles.delete(profileName);
    if (p) {
      await this.modeling.finish(st, p);
      await this.placer.unplace(profileName);
      if (st.bpfLoadedVersion !== undefined) {
        this.binder.unbindPolicy(p.bpfPolicyId);
        this.placer.removeBpfPolicy(p.bpfPolicyId);
      }
    }
    this.d.log.info('profile removed', { profile: profileName });
    this.report.gauges();
  }

  /** Removes Seccomp files of profiles the API server no longer has (call after the first sync). */
  removeStaleSeccompFiles(): string[] {
    return this.placer.removeStaleSeccompFiles();
  }

  /** A pod referencing these BPF profiles was scheduled here: place their tables now. */
  prewarm(profileNames: string[]): void {
    this.placer.prewarm(profileNames);
  }

  /** A pod left this node: withdraw tables no container here is bound to any more. */
  release(profileNames: string[]): void {
    this.placer.release(profileNames);
  }

  profileNames(): string[] {
    return this.profiles.names();
  }

  // ---- containers -------------------------------------------------------------------------

  /** The OCI hook: bind before the first instruction (createRuntime), unbind at poststop. */
  handleHook(req: HookRequest): Promise<HookDecision> {
    return this.binder.handleHook(req);
  }

  /** Converges with the runtime (binding/reconcile.ts). */
  reconcileContainers(): Promise<ReconcileResult> {
    const { d, containers, binder, report } = this;
    return reconcileContainers({ bpf: d.bpf, runtime: d.runtime, log: d.log, containers, binder, report });
  }

  /** After a restart: adopts the pinned bindings of running containers (binding/adopt.ts). */
  adoptPinnedBindings(): Promise<number> {
    const { d, profiles, containers, binder, report } = this;
    return adoptPinnedBindings({ bpf: d.bpf, runtime: d.runtime, log: d.log, profiles, containers, binder, placement: this.placer, report });
  }

  containerRecords(): ContainerRecord[] {
    return this.containers.all();
  }

  // ---- events -----------------------------------------------------------------------------

  /** Drains the ring buffer: violations to the log and metrics, behaviour to the recorders. */
  pumpEvents(max = 4096): number {
    return this.events.pump(max);
  }
}
