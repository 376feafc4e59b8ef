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
import { olderThan, type ProfileState, ProfileStore, type ProfileTarget, rivalOf } from './profiles/store.js';
import { ProfilePlacer, type ProfilePlacerDeps } from './profiles/placement.js';
import { ContainerRegistry, type ContainerRecord } from './binding/registry.js';
import { ContainerBinder, type ContainerBinderDeps } from './binding/binder.js';
import { reconcileContainers, type ReconcileResult } from './binding/reconcile.js';
import { adoptPinnedBindings } from './binding/adopt.js';
import { EventPump } from './events/pump.js';
import { SyscallRecording } from './modeling/syscalls.js';
import { ModelingSessions, type ModelSink } from './modeling/session.js';
import { NodeReport, type StatusSink } from './status/report.js';
import type { PodLookup } from './binding/pods.js';
import type { PodEventSink } from './binding/binder.js';

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
  /** The product's namespace: ArmorProfiles of cluster policies live there (default DEFAULT_PRODUCT_NAMESPACE). */
  productNamespace?: string;
  /** The webhook's binding key (profiler/binding.ts); without it only the namespace rule applies. */
  bindingKey?: Buffer;
  /** The node's pods (pod watch): decides ephemeral containers. */
  pods?: PodLookup;
  /** How long the hook waits for the pod watch to know a container's pod. */
  podWaitMs?: number;
  /** Warning Events on Pods (a refused binding). */
  podEvents?: PodEventSink;
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
    this.binder = new ContainerBinder({
      nodeName: d.nodeName,
      bpf,
      cgroups: d.cgroups,
      log,
      metrics,
      profiles,
      containers,
      placement,
      report,
      profileWaitMs: d.profileWaitMs,
      productNamespace: d.productNamespace,
      bindingKey: d.bindingKey,
      pods: d.pods,
      podWaitMs: d.podWaitMs,
      podEvents: d.podEvents,
    });
    this.events = new EventPump({
      bpf,
      log,
      metrics,
      profiles,
      containers,
      // /proc while the process lives; it has usually exited by the time its audit record is
      // read, and then the addon's tracker remembers its cgroup at its last fork or exec
      cgroupOf: (pid) => {
        try {
          return d.cgroups.ofPid(pid).id;
        } catch {
          return bpf.backend?.cgroupOfPid?.(pid);
        }
      },
    });
    const syscalls = new SyscallRecording(() => bpf.backend);
    this.modeling = new ModelingSessions({ log, models: d.models, profiles, containers, binder: this.binder, placement, drainEvents: () => this.events.pump(), syscalls });
  }

  get enforcing(): boolean {
    return this.events.enforcing;
  }

  // ---- profiles ---------------------------------------------------------------------------

  /**
   * An ArmorProfile appeared or changed. Loads what this node places, unless an older ArmorProfile
   * holds its profile name or BPF policy id (then nothing of it is loaded, and its entry says
   * why); an older one arriving after a younger displaces it. Never throws.
   */
  async applyProfile(p: NodeProfile): Promise<void> {
    const st = this.profiles.ensure({ namespace: p.namespace, name: p.objectName });
    const held = this.profiles.holds(st);
    const previous = held ? st.profile : undefined;
    st.profile = p;
    st.decodeError = undefined;
    const rival = rivalOf(p, this.profiles.all(), st);
    if (rival && olderThan(rival.st.profile!, p)) {
      if (held && previous) await this.withdraw(st, previous);
      this.refuse(st, rival.st, rival.reason);
      this.profiles.arrived(p.profileName);
      return;
    }
    for (const other of this.profiles.all()) {
      const o = other.profile;
      if (other === st || !o || !this.profiles.holds(other)) continue;
      const sameName = o.profileName === p.profileName;
      if (!sameName && o.bpfPolicyId !== p.bpfPolicyId) continue;
      await this.withdraw(other, o, sameName ? p : undefined);
      this.refuse(other, st, sameName ? 'ProfileNameConflict' : 'PolicyIdConflict');
    }
    if (previous && previous.profileName !== p.profileName) await this.withdraw(st, previous);
    this.profiles.hold(st);
    st.results = await this.placer.place(st, previous);
    this.modeling.sync(st, previous);
    this.report.publish(st);
    this.profiles.arrived(p.profileName);
  }

  /**
   * Takes back what `st` has in force as `p`: its BPF bindings and tables, its modelling run, its
   * Seccomp file and AppArmor profile, except those `successor` (the same name) replaces in place
   * (removing them first would open a window where the kubelet finds no profile).
   */
  private async withdraw(st: ProfileState, p: NodeProfile, successor?: NodeProfile): Promise<void> {
    if (st.recorder) {
      st.recorder = undefined;
      this.d.log.warn('behaviour modelling dropped', { namespace: p.namespace, profile: p.profileName });
    }
    await this.placer.unplace(p.profileName, { seccomp: successor?.seccomp !== undefined, appArmor: !!successor?.appArmor });
    if (st.bpfLoadedVersion !== undefined || this.containers.boundCount(p.bpfPolicyId) > 0) {
      this.binder.unbindPolicy(p.bpfPolicyId);
      this.placer.removeBpfPolicy(p.bpfPolicyId);
    }
    st.bpfLoadedVersion = undefined;
    this.profiles.unhold(st);
  }

  /** `st` holds nothing here while `holder` exists: reported Ready=False, naming the holder. */
  private refuse(st: ProfileState, holder: ProfileState, reason: 'ProfileNameConflict' | 'PolicyIdConflict'): void {
    const p = st.profile!;
    const what = reason === 'ProfileNameConflict' ? `profile name ${p.profileName}` : `BPF policy id ${p.bpfPolicyId} (of profile ${p.profileName})`;
    st.conflict = { reason, holder: holder.key, message: `${what} is held by the older ArmorProfile ${holder.key}; nothing of ${st.key} is loaded on this node` };
    st.results = {};
    this.profiles.unhold(st);
    this.d.log.warn('profile refused', { namespace: p.namespace, profile: p.profileName, policyId: p.bpfPolicyId, reason, holder: holder.key });
    this.report.publish(st);
  }

  /** The ArmorProfile could not be decoded: reported False, whatever was loaded before stays. */
  rejectProfile(target: ProfileTarget, profileName: string, message: string): void {
    const st = this.profiles.ensure(target);
    st.decodeError = message;
    this.d.log.warn('profile rejected', { profile: profileName, namespace: target.namespace, error: message });
    this.report.publish(st);
  }

  /**
   * The ArmorProfile `target` is gone: unloads what THAT identity holds (a refused one holds
   * nothing), then the oldest identity it kept out takes its name or id.
   */
  async removeProfile(target: ProfileTarget): Promise<void> {
    const st = this.profiles.ofTarget(target);
    if (!st) return;
    const held = this.profiles.holds(st);
    const p = st.profile;
    this.profiles.delete(st);
    if (held && p) {
      await this.modeling.finish(st, p);
      await this.placer.unplace(p.profileName);
      if (st.bpfLoadedVersion !== undefined || this.containers.boundCount(p.bpfPolicyId) > 0) {
        this.binder.unbindPolicy(p.bpfPolicyId);
        this.placer.removeBpfPolicy(p.bpfPolicyId);
      }
      const waiting = this.profiles.all().filter((o) => o.conflict?.holder === st.key && o.profile);
      waiting.sort((a, b) => (olderThan(a.profile!, b.profile!) ? -1 : 1));
      for (const o of waiting) await this.applyProfile(o.profile!);
    }
    this.d.log.info('profile removed', { profile: p?.profileName, namespace: target.namespace, object: target.name, held });
    this.report.gauges();
  }

  /** Removes Seccomp files of profiles the API server no longer has (call after the first sync). */
  removeStaleSeccompFiles(): string[] {
    return this.placer.removeStaleSeccompFiles();
  }

  /**
   * A pod of `podNamespace` referencing these BPF profiles was scheduled here: place their tables
   * now, those it may use only (another namespace's reference must not cost this node capacity).
   */
  prewarm(profileNames: string[], podNamespace: string): void {
    this.placer.prewarm(profileNames.filter((n) => this.binder.mayUse(n, podNamespace)));
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

  /** Seccomp violations of containers here, from the kernel log's audit records. */
  pumpKernelLog(reader: { poll(fn: (message: string) => void): number }): number {
    return this.events.pumpKernelLog(reader);
  }
}
