// The node agent's state machine: profiles in (from the API server), containers in (from the OCI
// hook and the runtime), loaders and BPF bindings out, status per profile. Level-triggered: the
// hook path binds at once (a container waits for it), and reconcileContainers() converges the
// bindings with what the runtime reports, which is also how a restarted agent rebuilds its state.
//
// Placement (per enforcer):
//  - Seccomp and AppArmor are placed on every node ahead of any pod. The kubelet resolves a
//    Localhost seccomp profile and checks that an AppArmor profile is loaded when it creates the
//    container, without waiting for us: placing them only once a pod lands would race the kubelet
//    (CreateContainerError, or a pod rejected for an unloaded AppArmor profile). Both are cheap
//    (a small file; a kernel profile the parser caches).
//  - BPF tables are placed only on nodes where a targeted container starts, at its createRuntime
//    hook (which blocks the start until they are loaded and bound), and removed when the last such
//    container goes. BPF is the costly one (kernel map entries, a per-node capacity).

import type { Enforcer } from '../profiler/api/types.js';
import type { HookDecision } from './hook/server.js';
import type { HookRequest, OciState } from './hook/request.js';
import type { CgroupResolver } from './cgroup/resolve.js';
import type { SeccompLoader } from './loaders/seccomp.js';
import type { AppArmorLoader } from './loaders/apparmor.js';
import type { BpfEvent, BpfHandle } from './loaders/bpf.js';
import type { NodeProfile } from './profiles/decode.js';
import type { Logger } from './log.js';
import type { AgentMetrics } from './metrics.js';
import type { ContainerRef } from './events/violation.js';
import { violationRecord } from './events/violation.js';
import { containerIdentity, containerTargets, type ContainerTargets } from './core/targets.js';
import { nodeCondition, needsEntry, type EnforcerResult, type ProfileResults } from './status/entry.js';
import { EnforcerUnavailableError } from './errors.js';
import { BehaviorRecorder } from './modeling/record.js';
import type { BehaviorData } from '../profiler/api/types.js';
import { emptyTables, encodeTables } from '../profiler/bpf/encode.js';
// VT_MODE_RECORD: report every hooked event as allowed, deny nothing.
import { VT_MODE_RECORD } from '../profiler/bpf/layout.js';


export interface RuntimeContainer {
  id: string;
  running: boolean;
  /** Exited (or unknown to the runtime): its bindings can go. A created, not yet running one stays. */
  exited?: boolean;
  pid: number;
  /** OCI spec annotations: containerd's CRI identity plus our pod annotations (pod_annotations). */
  annotations: Record<string, string>;
  /** OCI spec linux.cgroupsPath (resolves the cgroup when /proc is seen from a private cgroup namespace). */
  cgroupsPath?: string;
}

export interface ContainerSource {
  list(known: ReadonlySet<string>): Promise<RuntimeContainer[]>;
}

export interface ContainerRecord extends ContainerRef {
  pid: number;
  cgroupId?: bigint;
  targets: ContainerTargets;
  /** BPF policy id the cgroup is bound to. */
  boundPolicy?: number;
  /** When the agent learnt of it (a runtime listing older than this must not remove it). */
  seenAt: number;
}

export interface StatusSink {
  set(target: { namespace: string; name: string }, cond: ReturnType<typeof nodeCondition> | null): void;
}

export interface ModelSink {
  upload(profile: NodeProfile, data: { bpf: BehaviorData; dropped: number }): Promise<void>;
}

export interface NodeAgentDeps {
  nodeName: string;
  seccomp: SeccompLoader;
  appArmor: AppArmorLoader;
  bpf: BpfHandle;
  cgroups: CgroupResolver;
  runtime: ContainerSource;
  log: Logger;
  metrics: AgentMetrics;
  status?: StatusSink;
  models?: ModelSink;
  /** How long the hook waits for an ArmorProfile the informer has not delivered yet. */
  profileWaitMs?: number;
}

interface ProfileState {
  profile?: NodeProfile;
  decodeError?: string;
  target: { namespace: string; name: string };
  results: ProfileResults;
  /** BPF tables version loaded on this node, when placed. */
  bpfLoadedVersion?: string;
  recorder?: BehaviorRecorder;
}

const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class NodeAgent {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly byCgroup = new Map<bigint, ContainerRecord>();
  private readonly policyNames = new Map<number, string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(private readonly d: NodeAgentDeps) {}

  get enforcing(): boolean {
    return this.d.bpf.mode === 'enforce';
  }

  // ---- profiles ---------------------------------------------------------------------------

  /** An ArmorProfile appeared or changed. Loads what this node places; never throws. */
  async applyProfile(p: NodeProfile): Promise<void> {
    const st = this.stateOf(p.profileName, { namespace: p.namespace, name: p.objectName });
    const previous = st.profile;
    st.profile = p;
    st.decodeError = undefined;
    this.policyNames.set(p.bpfPolicyId, p.profileName);
    const results: ProfileResults = {};
    if (p.seccomp !== undefined) results.Seccomp = this.loadSeccomp(p);
    else if (previous?.seccomp !== undefined) this.d.seccomp.remove(p.profileName);
    if (p.appArmor) results.AppArmor = await this.loadAppArmor(p);
    if (p.bpfTables) results.BPF = this.placeBpf(st);
    st.results = results;
    this.syncModeling(st, previous);
    this.publish(st);
    for (const w of this.waiters.get(p.profileName) ?? []) w();
    this.waiters.delete(p.profileName);
  }

  /** The ArmorProfile could not be decoded: reported False, whatever was loaded before stays. */
  rejectProfile(target: { namespace: string; name: string }, profileName: string, message: string): void {
    const st = this.stateOf(profileName, target);
    st.decodeError = message;
    this.d.log.warn('profile rejected', { profile: profileName, namespace: target.namespace, error: message });
    this.publish(st);
  }

  async removeProfile(profileName: string): Promise<void> {
    const st = this.profiles.get(profileName);
    if (!st) return;
    const p = st.profile;
    this.profiles.delete(profileName);
    if (p) {
      await this.finishModeling(st, p);
      this.d.seccomp.remove(profileName);
      try {
        await this.d.appArmor.unload(profileName);
      } catch (e) {
        this.d.log.warn('apparmor unload failed', { profile: profileName, error: errMsg(e) });
      }
      if (st.bpfLoadedVersion !== undefined) {
        for (const rec of this.containers.values()) if (rec.boundPolicy === p.bpfPolicyId) this.unbind(rec);
        this.removeBpfPolicy(p.bpfPolicyId);
      }
    }
    this.d.log.info('profile removed', { profile: profileName });
    this.updateGauges();
  }

  /** Removes Seccomp files of profiles the API server no longer has (call after the first sync). */
  removeStaleSeccompFiles(): string[] {
    // A profile that exists but failed to decode keeps its previous file in force.
    const stale = this.d.seccomp.list().filter((name) => {
      const st = this.profiles.get(name);
      return !st || (st.profile && st.profile.seccomp === undefined && !st.decodeError);
    });
    for (const name of stale) {
      this.d.seccomp.remove(name);
      this.d.log.info('stale seccomp profile removed', { profile: name, path: this.d.seccomp.pathOf(name) });
    }
    return stale;
  }

  /** A pod referencing these BPF profiles was scheduled here: place their tables now. */
  prewarm(profileNames: string[]): void {
    if (!this.d.bpf.backend) return;
    for (const name of profileNames) {
      const st = this.profiles.get(name);
      if (!st?.profile?.bpfTables || st.bpfLoadedVersion === st.profile.version) continue;
      try {
        this.loadBpfTables(st);
        st.results.BPF = this.bpfPlacedResult();
      } catch (e) {
        st.results.BPF = { state: 'failed', message: errMsg(e) };
      }
      this.publish(st);
    }
  }

  /** A pod left this node: withdraw tables no container here is bound to any more. */
  release(profileNames: string[]): void {
    for (const name of profileNames) {
      const st = this.profiles.get(name);
      const p = st?.profile;
      if (!st || !p || st.bpfLoadedVersion === undefined || st.recorder || this.boundCount(p.bpfPolicyId) > 0) continue;
      this.removeBpfPolicy(p.bpfPolicyId);
      st.results.BPF = { state: 'notPlaced' };
      this.publish(st);
    }
  }

  profileNames(): string[] {
    return [...this.profiles.keys()];
  }

  private stateOf(profileName: string, target: { namespace: string; name: string }): ProfileState {
    let st = this.profiles.get(profileName);
    if (!st) {
      st = { target, results: {} };
      this.profiles.set(profileName, st);
    }
    st.target = target;
    return st;
  }

  private loadSeccomp(p: NodeProfile): EnforcerResult {
    try {
      const changed = this.d.seccomp.write(p.profileName, p.seccomp!);
      this.d.metrics.loads.inc({ enforcer: 'Seccomp', result: 'ok' });
      if (changed) this.d.log.info('seccomp profile written', { profile: p.profileName, path: this.d.seccomp.pathOf(p.profileName) });
      return { state: 'loaded' };
    } catch (e) {
      this.d.metrics.loads.inc({ enforcer: 'Seccomp', result: 'error' });
      this.d.log.error('seccomp profile not written', { profile: p.profileName, error: errMsg(e) });
      return { state: 'failed', message: errMsg(e) };
    }
  }

  private async loadAppArmor(p: NodeProfile): Promise<EnforcerResult> {
    const reason = this.d.appArmor.unavailableReason();
    if (reason) return { state: 'unavailable', reason };
    try {
      await this.d.appArmor.load(p.profileName, p.appArmor!.profile, p.appArmor!.complain);
      this.d.metrics.loads.inc({ enforcer: 'AppArmor', result: 'ok' });
      this.d.log.info('apparmor profile loaded', { profile: p.profileName, complain: p.appArmor!.complain });
      return { state: 'loaded' };
    } catch (e) {
      if (e instanceof EnforcerUnavailableError) return { state: 'unavailable', reason: e.message };
      this.d.metrics.loads.inc({ enforcer: 'AppArmor', result: 'error' });
      this.d.log.error('apparmor profile not loaded', { profile: p.profileName, error: errMsg(e) });
      return { state: 'failed', message: errMsg(e) };
    }
  }

  /** BPF result for the status; reloads the tables when already placed here and changed. */
  private placeBpf(st: ProfileState): EnforcerResult {
    const p = st.profile!;
    if (!this.d.bpf.backend) return { state: 'unavailable', reason: this.d.bpf.unavailable ?? 'BPF not available' };
    const placed = st.bpfLoadedVersion !== undefined || this.boundCount(p.bpfPolicyId) > 0;
    if (!placed) return { state: 'notPlaced' };
    try {
      this.loadBpfTables(st);
    } catch (e) {
      return { state: 'failed', message: errMsg(e) };
    }
    return this.bpfPlacedResult();
  }

  private bpfPlacedResult(): EnforcerResult {
    if (this.d.bpf.mode === 'enforce') return { state: 'loaded' };
    return { state: 'unavailable', reason: this.d.bpf.unavailable ?? 'BPF LSM unavailable; audit only' };
  }

  private loadBpfTables(st: ProfileState): void {
    const p = st.profile!;
    if (st.bpfLoadedVersion === p.version) return;
    try {
      // Atomic in the addon: a failure leaves the previous tables in force.
      this.d.bpf.backend!.loadPolicy(p.bpfPolicyId, tablesOf(p));
    } catch (e) {
      this.d.metrics.loads.inc({ enforcer: 'BPF', result: 'error' });
      this.d.log.error('bpf policy not loaded', { profile: p.profileName, policyId: p.bpfPolicyId, error: errMsg(e) });
      throw e;
    }
    st.bpfLoadedVersion = p.version;
    this.d.metrics.loads.inc({ enforcer: 'BPF', result: 'ok' });
    this.d.log.info('bpf policy loaded', { profile: p.profileName, policyId: p.bpfPolicyId, version: p.version });
    this.updateGauges();
  }

  private removeBpfPolicy(policyId: number): void {
    try {
      this.d.bpf.backend?.removePolicy(policyId);
    } catch (e) {
      this.d.log.warn('bpf policy removal failed', { policyId, error: errMsg(e) });
    }
    for (const st of this.profiles.values()) if (st.profile?.bpfPolicyId === policyId) st.bpfLoadedVersion = undefined;
    this.updateGauges();
  }

  private publish(st: ProfileState): void {
    if (!this.d.status) return;
    const cond = needsEntry(st.results, st.decodeError) ? nodeCondition(this.d.nodeName, st.results, st.decodeError) : null;
    this.d.status.set(st.target, cond);
    this.updateGauges();
  }

  private waitForProfile(name: string, ms: number): Promise<ProfileState | undefined> {
    const st = this.profiles.get(name);
    if (st?.profile) return Promise.resolve(st);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        resolve(this.profiles.get(name));
      };
      const t = setTimeout(() => {
        const list = this.waiters.get(name)?.filter((w) => w !== done) ?? [];
        if (list.length) this.waiters.set(name, list);
        else this.waiters.delete(name);
        resolve(this.profiles.get(name));
      }, ms);
      this.waiters.set(name, [...(this.waiters.get(name) ?? []), done]);
    });
  }

  // ---- containers -------------------------------------------------------------------------

  /** The OCI hook: bind before the first instruction (createRuntime), unbind at poststop. */
  async handleHook(req: HookRequest): Promise<HookDecision> {
    const started = process.hrtime.bigint();
    let decision: HookDecision;
    try {
      decision = req.stage === 'createRuntime' ? await this.onCreate(req.state, req.cgroupPath) : this.onStop(req.state);
    } catch (e) {
      decision = { ok: false, reason: errMsg(e) };
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.d.metrics.hookSeconds.observe({ stage: req.stage }, seconds);
    this.d.metrics.hookRequests.inc({ stage: req.stage, result: decision.ok ? 'ok' : 'deny' });
    if (!decision.ok) this.d.log.error('hook refused container', { containerId: req.state.id, stage: req.stage, reason: decision.reason });
    return decision;
  }

  private async onCreate(state: OciState, cgroupPath?: string): Promise<HookDecision> {
    const rec = await this.admit(state.id, state.pid, state.annotations, { path: cgroupPath });
    if (!rec) return { ok: true };
    return this.bindRecord(rec, true);
  }

  private onStop(state: OciState): HookDecision {
    const rec = this.containers.get(state.id);
    if (rec) this.forget(rec);
    return { ok: true };
  }

  /** Records a workload container that carries a varmor annotation; null for anything else. */
  private async admit(id: string, pid: number, annotations: Record<string, string>, hint?: { path?: string; cgroupsPath?: string }): Promise<ContainerRecord | null> {
    const ident = containerIdentity(annotations);
    if (ident.type === 'sandbox') return null;
    const targets = containerTargets(annotations, ident.name);
    if (!Object.keys(targets).length) return null;
    const existing = this.containers.get(id);
    if (existing && existing.pid === pid) return existing;
    const rec: ContainerRecord = {
      containerId: id,
      containerName: ident.name,
      podName: ident.podName,
      podNamespace: ident.podNamespace,
      podUid: ident.podUid,
      profileName: targets.BPF ?? targets.AppArmor ?? targets.Seccomp,
      pid,
      targets,
      seenAt: Date.now(),
    };
    if (pid > 0) {
      const loc = this.d.cgroups.ofPid(pid, hint);
      rec.cgroupId = loc.id;
    }
    if (existing) this.forget(existing);
    this.containers.set(id, rec);
    if (rec.cgroupId !== undefined) this.byCgroup.set(rec.cgroupId, rec);
    this.d.log.info('container seen', {
      containerId: id,
      container: rec.containerName,
      pod: rec.podName,
      namespace: rec.podNamespace,
      cgroupId: rec.cgroupId?.toString(),
      profile: rec.profileName,
    });
    return rec;
  }

  /**
   * The BPF policy a container's cgroup is bound to: its BPF profile, or, for a container
   * modelled by an AppArmor/Seccomp-only profile, that profile's record-only tables (the audit
   * programs then report what it does).
   */
  private bpfTarget(rec: ContainerRecord): string | undefined {
    if (rec.targets.BPF) return rec.targets.BPF;
    for (const n of [rec.targets.AppArmor, rec.targets.Seccomp]) if (n && this.profiles.get(n)?.recorder) return n;
    return undefined;
  }

  private async bindRecord(rec: ContainerRecord, fromHook: boolean): Promise<HookDecision> {
    const name = this.bpfTarget(rec);
    if (!name || rec.cgroupId === undefined) return { ok: true };
    const bpf = this.d.bpf.backend;
    if (!bpf) {
      // This kernel cannot run our BPF at all; the profile's status says so. Refusing every
      // container here would take the node down for a protection it cannot give.
      return { ok: true };
    }
    const st = await this.waitForProfile(name, fromHook && rec.targets.BPF ? (this.d.profileWaitMs ?? 5000) : 0);
    if (!st?.profile || (!st.profile.bpfTables && !st.recorder)) {
      return { ok: false, reason: `ArmorProfile for ${name} (BPF) is not known on node ${this.d.nodeName}` };
    }
    const p = st.profile;
    try {
      this.loadBpfTables(st);
    } catch (e) {
      st.results.BPF = { state: 'failed', message: errMsg(e) };
      this.publish(st);
      return { ok: false, reason: `loading BPF policy ${name}: ${errMsg(e)}` };
    }
    try {
      // From the hook: armed at the container's next execve, so runc's own setup (mounts,
      // pivot_root, capability drop) is not judged by the workload's rules; the entrypoint is.
      bpf.bindCgroup(rec.cgroupId, p.bpfPolicyId, fromHook ? { armOnExec: true } : undefined);
    } catch (e) {
      return { ok: false, reason: `binding cgroup ${rec.cgroupId} to ${name}: ${errMsg(e)}` };
    }
    rec.boundPolicy = p.bpfPolicyId;
    this.d.log.info('container bound', {
      containerId: rec.containerId,
      container: rec.containerName,
      pod: rec.podName,
      namespace: rec.podNamespace,
      profile: name,
      policyId: p.bpfPolicyId,
      cgroupId: rec.cgroupId.toString(),
      via: fromHook ? 'hook' : 'reconcile',
    });
    if (st.results.BPF?.state !== 'loaded' || this.d.bpf.mode !== 'enforce') {
      st.results.BPF = this.bpfPlacedResult();
      this.publish(st);
    }
    this.updateGauges();
    return { ok: true };
  }

  private unbind(rec: ContainerRecord): void {
    if (rec.boundPolicy === undefined || rec.cgroupId === undefined) return;
    try {
      this.d.bpf.backend?.unbindCgroup(rec.cgroupId);
    } catch (e) {
      this.d.log.warn('unbind failed', { containerId: rec.containerId, error: errMsg(e) });
    }
    rec.boundPolicy = undefined;
  }

  /** The container is gone: unbind, and withdraw its BPF policy if nothing else here uses it. */
  private forget(rec: ContainerRecord): void {
    const policy = rec.boundPolicy;
    this.unbind(rec);
    this.containers.delete(rec.containerId);
    if (rec.cgroupId !== undefined && this.byCgroup.get(rec.cgroupId) === rec) this.byCgroup.delete(rec.cgroupId);
    this.d.log.info('container gone', { containerId: rec.containerId, container: rec.containerName, pod: rec.podName, namespace: rec.podNamespace });
    if (policy !== undefined && this.boundCount(policy) === 0) {
      const st = [...this.profiles.values()].find((s) => s.profile?.bpfPolicyId === policy);
      if (st?.recorder) return; // still modelling: keep the record-mode tables until the run ends
      this.removeBpfPolicy(policy);
      if (st?.profile) {
        st.results.BPF = { state: 'notPlaced' };
        this.publish(st);
      }
    }
    this.updateGauges();
  }

  private boundCount(policyId: number): number {
    let n = 0;
    for (const r of this.containers.values()) if (r.boundPolicy === policyId) n++;
    return n;
  }

  /**
   * Converges with the runtime: binds running targeted containers that are not bound (agent
   * restart, containers started while the hook was not configured), forgets containers the
   * runtime no longer runs, and removes kernel bindings no running container owns.
   */
  async reconcileContainers(): Promise<{ bound: number; removed: number; stale: number }> {
    const listedAt = Date.now();
    const list = await this.d.runtime.list(new Set(this.containers.keys()));
    const running = new Map(list.filter((c) => c.running).map((c) => [c.id, c]));
    let bound = 0;
    let removed = 0;
    let stale = 0;
    for (const c of running.values()) {
      let rec = this.containers.get(c.id);
      if (!rec) {
        try {
          rec = (await this.admit(c.id, c.pid, c.annotations, { cgroupsPath: c.cgroupsPath })) ?? undefined;
        } catch (e) {
          this.d.log.warn('container not resolved', { containerId: c.id, error: errMsg(e) });
          continue;
        }
      }
      if (rec && this.bpfTarget(rec) && rec.boundPolicy === undefined) {
        const d = await this.bindRecord(rec, false);
        if (d.ok && rec.boundPolicy !== undefined) bound++;
        else if (!d.ok) this.d.log.error('container not bound', { containerId: c.id, reason: d.reason });
      }
    }
    // Created-but-not-started containers are between their createRuntime hook and start: keep them.
    const live = new Set(list.filter((c) => !c.exited).map((c) => c.id));
    for (const rec of [...this.containers.values()]) {
      if (!live.has(rec.containerId) && rec.seenAt < listedAt) {
        this.forget(rec);
        removed++;
      }
    }
    const bpf = this.d.bpf.backend;
    if (bpf) {
      for (const [cgroupId] of bpf.bindings()) {
        const rec = this.byCgroup.get(cgroupId);
        if (!rec || rec.boundPolicy === undefined) {
          bpf.unbindCgroup(cgroupId);
          stale++;
        }
      }
    }
    if (bound || removed || stale) this.d.log.info('containers reconciled', { bound, removed, stale });
    this.updateGauges();
    return { bound, removed, stale };
  }

  /**
   * After a restart: the pinned bindings are still in force in the kernel. Adopt the ones whose
   * container still runs (they stay bound throughout: the map entry is never removed), so the
   * following reconcile only removes entries of containers that exited meanwhile.
   */
  async adoptPinnedBindings(): Promise<number> {
    const bpf = this.d.bpf.backend;
    if (!bpf) return 0;
    const pinned = bpf.bindings();
    if (!pinned.size) return 0;
    const list = await this.d.runtime.list(new Set());
    let adopted = 0;
    for (const c of list) {
      if (!c.running || c.pid <= 0) continue;
      let rec: ContainerRecord | null;
      try {
        rec = await this.admit(c.id, c.pid, c.annotations, { cgroupsPath: c.cgroupsPath });
      } catch {
        continue;
      }
      if (!rec || rec.cgroupId === undefined) continue;
      const policy = pinned.get(rec.cgroupId);
      if (policy === undefined) continue;
      rec.boundPolicy = policy;
      adopted++;
    }
    // Tables of adopted policies are in force; mark them placed so profile sync reloads (swaps) them.
    for (const st of this.profiles.values()) {
      if (st.profile && this.boundCount(st.profile.bpfPolicyId) > 0 && (st.profile.bpfTables || st.recorder)) {
        st.bpfLoadedVersion = undefined;
        try {
          this.loadBpfTables(st);
          st.results.BPF = this.bpfPlacedResult();
        } catch (e) {
          st.results.BPF = { state: 'failed', message: errMsg(e) };
        }
        this.publish(st);
      }
    }
    this.d.log.info('pinned bindings adopted', { pinned: pinned.size, adopted });
    this.updateGauges();
    return adopted;
  }

  containerRecords(): ContainerRecord[] {
    return [...this.containers.values()];
  }

  // ---- events and modelling ---------------------------------------------------------------

  /** Drains the ring buffer: violations to the log and metrics, behaviour to the recorders. */
  pumpEvents(max = 4096): number {
    const bpf = this.d.bpf.backend;
    if (!bpf) return 0;
    const events = bpf.readEvents(max);
    for (const ev of events) this.onEvent(ev);
    return events.length;
  }

  private onEvent(ev: BpfEvent): void {
    const name = this.policyNames.get(ev.policyId);
    const st = name ? this.profiles.get(name) : undefined;
    if (st?.recorder) {
      st.recorder.add(ev);
      if (ev.decision === 'allowed') return;
    }
    if (ev.decision === 'allowed') return;
    const rec = this.byCgroup.get(ev.cgroupId);
    const v = violationRecord(ev, rec, (id) => this.policyNames.get(id), this.enforcing);
    this.d.metrics.violations.inc({ enforcer: 'BPF', action: v.action, namespace: v.namespace, profile: v.profileName });
    this.d.log.warn('violation', v);
  }

  private syncModeling(st: ProfileState, previous: NodeProfile | undefined): void {
    const p = st.profile!;
    const want = !!p.behaviorModeling?.enable;
    if (want && !st.recorder) {
      st.recorder = new BehaviorRecorder();
      this.d.log.info('behaviour modelling started', { profile: p.profileName });
    } else if (!want && st.recorder && previous) {
      void this.finishModeling(st, p);
    }
  }

  private async finishModeling(st: ProfileState, p: NodeProfile): Promise<void> {
    const rec = st.recorder;
    if (!rec) return;
    st.recorder = undefined;
    this.pumpEvents();
    const data = rec.data();
    this.d.log.info('behaviour modelling ended', {
      profile: p.profileName,
      files: data.files?.length,
      executions: data.executions?.length,
      dropped: rec.dropped,
    });
    try {
      await this.d.models?.upload(p, { bpf: data, dropped: rec.dropped });
    } catch (e) {
      this.d.log.error('behaviour model upload failed', { profile: p.profileName, error: errMsg(e) });
    }
    if (!p.bpfTables) {
      // Record-only tables of an AppArmor/Seccomp profile: the run is over, unbind and withdraw.
      for (const r of this.containers.values()) if (r.boundPolicy === p.bpfPolicyId) this.unbind(r);
    }
    if (this.boundCount(p.bpfPolicyId) === 0 && st.bpfLoadedVersion !== undefined && this.profiles.get(p.profileName) === st) {
      this.removeBpfPolicy(p.bpfPolicyId);
    }
  }

  private updateGauges(): void {
    const m = this.d.metrics;
    let bound = 0;
    for (const r of this.containers.values()) if (r.boundPolicy !== undefined) bound++;
    m.boundContainers.set(bound);
    let placed = 0;
    m.profiles.reset();
    for (const st of this.profiles.values()) {
      if (st.bpfLoadedVersion !== undefined) placed++;
      for (const [e, r] of Object.entries(st.results) as [Enforcer, EnforcerResult][]) m.profiles.inc({ enforcer: e, state: r.state });
    }
    m.bpfPolicies.set(placed);
  }
}

function tablesOf(p: NodeProfile): Uint8Array {
  return p.bpfTables ?? encodeTables(emptyTables(p.bpfPolicyId, VT_MODE_RECORD));
}
