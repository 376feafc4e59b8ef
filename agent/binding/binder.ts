// Container binding: a workload container's cgroup id -> the BPF policy of its profile. The OCI
// hook binds at createRuntime (the container waits for the answer; the bind is armed at its first
// execve) and unbinds at poststop; the runtime scan (reconcile.ts) and pin adoption (adopt.ts)
// bind what the hook did not see. When the last container of a policy goes, its tables go too.
// A binding is made only when authorize.ts allows it (the profile's namespace, the webhook's
// signature); a refused BPF binding keeps the container from starting, a refused record-only one
// just records nothing. An ephemeral container (no references of its own) is bound like its
// target, which only the Pod's spec names (pods.ts).

import type { HookDecision } from '../hook/server.js';
import type { HookRequest, OciState } from '../hook/request.js';
import type { CgroupResolver } from '../cgroup/resolve.js';
import type { BpfHandle } from '../loaders/bpf.js';
import { DEFAULT_PRODUCT_NAMESPACE, type Logger } from '../../profiler/node.js';
import type { AgentMetrics } from '../metrics.js';
import type { ProfileStore } from '../profiles/store.js';
import type { BpfPlacement } from '../profiles/placement.js';
import type { NodeReport } from '../status/report.js';
import type { ContainerRecord, ContainerRegistry } from './registry.js';
import { bpfTargetOf, containerRecordOf } from './plan.js';
import { bindingRefusal, namespaceRefusal } from './authorize.js';
import type { PodLookup } from './pods.js';
import { containerIdentity, podHasBpfRefs } from '../core/targets.js';
import { AgentError, BindingRefusedError, errMsg } from '../errors.js';
import { failedResult } from '../profiles/placement.js';
import { podAddressesOf } from './pod-addresses.js';

/** Warning Events on a Pod (best effort: the sink logs its own failures). */
export interface PodEventSink {
  warn(pod: { namespace: string; name: string; uid?: string }, reason: string, message: string): void;
}

/** Where the container's cgroup is named: the hook's cgroup path, or the OCI spec's cgroupsPath. */
export type CgroupHint = { path?: string; cgroupsPath?: string };

export interface ContainerBinderDeps {
  nodeName: string;
  bpf: BpfHandle;
  cgroups: Pick<CgroupResolver, 'ofPid'>;
  log: Logger;
  metrics: Pick<AgentMetrics, 'hookSeconds' | 'hookRequests'>;
  profiles: ProfileStore;
  containers: ContainerRegistry;
  placement: BpfPlacement;
  report: NodeReport;
  /** How long the hook waits for an ArmorProfile the informer has not delivered yet. */
  profileWaitMs?: number;
  productNamespace?: string;
  bindingKey?: Buffer;
  pods?: PodLookup;
  podWaitMs?: number;
  podEvents?: PodEventSink;
}

export class ContainerBinder {
  constructor(private readonly d: ContainerBinderDeps) {}

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
    const rec = await this.admit(state.id, state.pid, state.annotations, { path: cgroupPath }, this.d.podWaitMs ?? 2000);
    if (!rec) return { ok: true };
    return this.bind(rec, true);
  }

  private onStop(state: OciState): HookDecision {
    const rec = this.d.containers.get(state.id);
    if (rec) this.forget(rec);
    return { ok: true };
  }

  /**
   * Records a workload container that carries a varmor annotation (or is an ephemeral container
   * of a pod that does); null for anything else. Throws when a container of a pod with BPF
   * references cannot be placed in its pod's spec (the hook then refuses it: fail closed).
   */
  async admit(id: string, pid: number, annotations: Record<string, string>, hint?: CgroupHint, podWaitMs = 0): Promise<ContainerRecord | null> {
    let rec = containerRecordOf(id, pid, annotations, Date.now());
    if (!rec) {
      const as = await this.ephemeralTarget(annotations, podWaitMs);
      if (as) rec = containerRecordOf(id, pid, annotations, Date.now(), as);
    }
    if (!rec) return null;
    const existing = this.d.containers.get(id);
    if (existing && existing.pid === pid) return existing;
    if (pid > 0) rec.cgroupId = this.d.cgroups.ofPid(pid, hint).id;
    if (existing) this.forget(existing);
    this.d.containers.add(rec);
    this.d.log.info('container seen', {
      ...containerFields(rec),
      cgroupId: rec.cgroupId?.toString(),
      profile: rec.profileName,
      ...(rec.signedAs !== rec.containerName ? { ephemeralTarget: rec.signedAs } : {}),
    });
    return rec;
  }

  /**
   * For a container without references of its own in a pod with BPF references: its target when
   * the Pod lists it in spec.ephemeralContainers, null when it is a regular container. Without a
   * pod watch (tests of other parts) nothing can be decided and nothing is bound, as before.
   */
  private async ephemeralTarget(annotations: Record<string, string>, waitMs: number): Promise<string | null> {
    const ident = containerIdentity(annotations);
    if (ident.type === 'sandbox' || !ident.name || !this.d.pods || !podHasBpfRefs(annotations)) return null;
    const role = await this.d.pods.roleOf(ident.podNamespace, ident.podName, ident.name, waitMs);
    if (role.kind === 'ephemeral') return role.target;
    if (role.kind === 'regular') return null;
    throw new AgentError(
      'VARMOR_ERR_AGENT_CONTAINER_UNKNOWN',
      `container ${ident.podNamespace}/${ident.podName}/${ident.name}: not in its pod's spec as this node's pod watch knows it, and the pod references BPF profiles: refused (an ephemeral container is bound like its target)`,
    );
  }

  /** Reports a refused binding once per reason (log + Warning Event); a BPF one keeps the container from starting. */
  private refuse(rec: ContainerRecord, profile: string, why: string, failClosed: boolean): HookDecision {
    const err = new BindingRefusedError(rec.containerName, profile, `BindingRefused: container ${rec.podNamespace}/${rec.podName}/${rec.containerName} not bound to ${profile}: ${why}`);
    if (rec.refusal !== err.message) {
      rec.refusal = err.message;
      this.d.log.warn('binding refused', {
        code: err.code,
        ...containerFields(rec),
        profile,
        enforcer: failClosed ? 'BPF' : 'record-only',
        reason: why,
      });
      this.d.podEvents?.warn({ namespace: rec.podNamespace, name: rec.podName, uid: rec.podUid }, 'BindingRefused', err.message);
    }
    return failClosed ? { ok: false, reason: err.message } : { ok: true };
  }

  private get productNamespace(): string {
    return this.d.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE;
  }

  /**
   * After a restart: whether `rec`'s pinned binding to `policyId` may be kept. Only when it is
   * what bind() would make now; when the profile is not known (any more), as the old agent left it.
   */
  keepsPinned(rec: ContainerRecord, policyId: number): boolean {
    const name = this.bpfTarget(rec);
    const p = name ? this.d.profiles.get(name)?.profile : undefined;
    if (!p) return true;
    return p.bpfPolicyId === policyId && !bindingRefusal(p, rec, { productNamespace: this.productNamespace, key: this.d.bindingKey });
  }

  /** Whether a pod of `podNamespace` may use `profileName` at all (placing its tables ahead of the pod). */
  mayUse(profileName: string, podNamespace: string): boolean {
    const p = this.d.profiles.get(profileName)?.profile;
    return !!p && !namespaceRefusal(p, podNamespace, this.productNamespace);
  }

  /** The profile whose BPF policy the container is bound to, if any (see bpfTargetOf). */
  bpfTarget(rec: ContainerRecord): string | undefined {
    return bpfTargetOf(rec.targets, (name) => !!this.d.profiles.get(name)?.recorder);
  }

  /** Binds the container's cgroup to its policy, placing the tables first; from the hook, armed at the next execve. */
  async bind(rec: ContainerRecord, fromHook: boolean): Promise<HookDecision> {
    const name = this.bpfTarget(rec);
    if (!name || rec.cgroupId === undefined) return { ok: true };
    const bpf = this.d.bpf.backend;
    if (!bpf) {
      // This kernel cannot run our BPF at all; the profile's status says so. Refusing every
      // container here would take the node down for a protection it cannot give.
      return { ok: true };
    }
    const st = await this.d.profiles.waitFor(name, fromHook && rec.targets.BPF ? (this.d.profileWaitMs ?? 5000) : 0);
    if (!st?.profile || (!st.profile.bpfTables && !st.recorder)) {
      return { ok: false, reason: `ArmorProfile for ${name} (BPF) is not known on node ${this.d.nodeName}` };
    }
    const p = st.profile;
    const why = bindingRefusal(p, rec, { productNamespace: this.productNamespace, key: this.d.bindingKey });
    if (why) return this.refuse(rec, name, why, !!rec.targets.BPF);
    try {
      this.d.placement.loadBpfTables(st);
    } catch (e) {
      st.results.BPF = failedResult(e);
      this.d.report.publish(st);
      return { ok: false, reason: `loading BPF policy ${name}: ${errMsg(e)}` };
    }
    try {
      // From the hook: armed at the container's next execve, so runc's own setup (mounts,
      // pivot_root, capability drop) is not judged by the workload's rules; the entrypoint is.
      // pod-self rules compare with the pod's own addresses, read from the container's network
      // namespace now, whatever the policy holds today: an update that adds such a rule applies to
      // the running container too
      const selfAddresses = rec.pid > 0 ? podAddressesOf(rec.pid) : [];
      bpf.bindCgroup(rec.cgroupId, p.bpfPolicyId, { ...(fromHook ? { armOnExec: true } : {}), selfAddresses });
    } catch (e) {
      return { ok: false, reason: `binding cgroup ${rec.cgroupId} to ${name}: ${errMsg(e)}` };
    }
    rec.boundPolicy = p.bpfPolicyId;
    this.d.log.info('container bound', {
      ...containerFields(rec),
      profile: name,
      policyId: p.bpfPolicyId,
      cgroupId: rec.cgroupId.toString(),
      via: fromHook ? 'hook' : 'reconcile',
    });
    if (st.results.BPF?.state !== 'loaded' || this.d.bpf.mode !== 'enforce') {
      st.results.BPF = this.d.placement.placedResult(st);
      this.d.report.publish(st);
    }
    this.d.report.gauges();
    return { ok: true };
  }

  unbind(rec: ContainerRecord): void {
    if (rec.boundPolicy === undefined || rec.cgroupId === undefined) return;
    try {
      this.d.bpf.backend?.unbindCgroup(rec.cgroupId);
    } catch (e) {
      this.d.log.warn('unbind failed', { containerId: rec.containerId, error: errMsg(e) });
    }
    rec.boundPolicy = undefined;
  }

  /** Unbinds every container bound to the policy (its profile is gone, or its modelling run ended). */
  unbindPolicy(policyId: number): void {
    for (const rec of this.d.containers.boundTo(policyId)) this.unbind(rec);
  }

  /** The container is gone: unbind, and withdraw its BPF policy if nothing else here uses it. */
  forget(rec: ContainerRecord): void {
    const policy = rec.boundPolicy;
    this.unbind(rec);
    this.d.containers.delete(rec);
    this.d.log.info('container gone', containerFields(rec));
    if (policy !== undefined && this.d.containers.boundCount(policy) === 0) {
      const st = this.d.profiles.withPolicy(policy);
      if (st?.recorder) return; // still modelling: keep the record-mode tables until the run ends
      this.d.placement.removeBpfPolicy(policy);
      if (st?.profile) {
        st.results.BPF = { state: 'notPlaced' };
        this.d.report.publish(st);
      }
    }
    this.d.report.gauges();
  }
}

/** The fields that name a container in every log line about it. */
function containerFields(rec: ContainerRecord): Record<string, string> {
  return { containerId: rec.containerId, container: rec.containerName, pod: rec.podName, namespace: rec.podNamespace };
}
