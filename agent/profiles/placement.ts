// Profile placement: puts each enforcer's part of a profile where the kernel or the kubelet takes
// it, and withdraws it. Seccomp files and AppArmor profiles go on every node ahead of any pod:
// the kubelet resolves a Localhost seccomp profile and checks that an AppArmor profile is loaded
// when it creates the container, without waiting for us, so placing them only once a pod lands
// would race it (CreateContainerError, or a pod rejected). Both are cheap (a small file; a kernel
// profile the parser caches). BPF tables, the costly part (kernel map entries, a per-node
// capacity), are placed only while a targeted container runs here or is about to (pod watch,
// hook), and withdrawn with the last one.

import type { SeccompLoader } from '../loaders/seccomp.js';
import type { AppArmorLoader } from '../loaders/apparmor.js';
import type { BpfHandle } from '../loaders/bpf.js';
import { emptyTables, encodeTables, type Logger, VT_MODE_RECORD } from '../../profiler/node.js';
import type { AgentMetrics } from '../metrics.js';
import type { NodeProfile } from './decode.js';
import type { ProfileState, ProfileStore } from './store.js';
import type { EnforcerResult, ProfileResults } from '../status/entry.js';
import type { NodeReport } from '../status/report.js';
import type { BoundCounter } from '../binding/registry.js';
import { BpfQuotaError, EnforcerUnavailableError, errMsg } from '../errors.js';
// VT_MODE_RECORD: report every hooked event as allowed, deny nothing.

/** The BPF tables to load for a profile: its own, or record-only ones for a modelled AppArmor/Seccomp profile. */
export function bpfTablesOf(p: NodeProfile): Uint8Array {
  return p.bpfTables ?? encodeTables(emptyTables(p.bpfPolicyId, VT_MODE_RECORD));
}

/** Profile modes that deny nothing: the audit-only programs serve them as well as the LSM ones. */
const RECORDING_MODES = new Set(['AlwaysAllow', 'BehaviorModeling']);

/** The status of BPF tables in force here: loaded when the programs enforce, or when the profile's
 * mode denies nothing and the audit programs record it; else why not. */
export function bpfPlacedResult(bpf: Pick<BpfHandle, 'mode' | 'unavailable'>, profileMode?: string): EnforcerResult {
  if (bpf.mode === 'enforce') return { state: 'loaded' };
  if (bpf.mode === 'audit' && profileMode && RECORDING_MODES.has(profileMode)) return { state: 'loaded', detail: 'audit programs (this mode denies nothing)' };
  return { state: 'unavailable', reason: bpf.unavailable ?? 'BPF LSM unavailable; audit only' };
}

/**
 * Seccomp files whose profile the API server no longer has, or no longer gives a Seccomp part. A
 * profile that exists but failed to decode keeps its previous file in force.
 */
export function staleSeccompProfiles(files: readonly string[], stateOf: (profileName: string) => ProfileState | undefined): string[] {
  return files.filter((name) => {
    const st = stateOf(name);
    return !st || (st.profile && st.profile.seccomp === undefined && !st.decodeError);
  });
}

/** A failed BPF result; a quota refusal has its own condition reason. */
export function failedResult(e: unknown): EnforcerResult {
  return e instanceof BpfQuotaError ? { state: 'failed', message: errMsg(e), reason: 'BpfQuotaExceeded' } : { state: 'failed', message: errMsg(e) };
}

/** What the binder, adoption and modelling ask of BPF placement. */
export interface BpfPlacement {
  /** Loads the profile's tables unless this version is loaded already; throws when the addon refuses. */
  loadBpfTables(st: ProfileState): void;
  /** The BPF result to report after loading now: placed, or failed with the addon's message. */
  placeBpfNow(st: ProfileState): EnforcerResult;
  removeBpfPolicy(policyId: number): void;
  /** The BPF result for a profile whose tables are placed (its mode: what the programs must do). */
  placedResult(st: ProfileState): EnforcerResult;
}

export interface ProfilePlacerDeps {
  seccomp: Pick<SeccompLoader, 'write' | 'remove' | 'list' | 'pathOf'>;
  appArmor: Pick<AppArmorLoader, 'unavailableReason' | 'load' | 'unload'>;
  bpf: BpfHandle;
  log: Logger;
  metrics: Pick<AgentMetrics, 'loads'>;
  profiles: ProfileStore;
  containers: BoundCounter;
  report: NodeReport;
}

export class ProfilePlacer implements BpfPlacement {
  constructor(private readonly d: ProfilePlacerDeps) {}

  /** Places what this node places of `st.profile` (just applied, replacing `previous`); never throws. */
  async place(st: ProfileState, previous: NodeProfile | undefined): Promise<ProfileResults> {
    const p = st.profile!;
    const results: ProfileResults = {};
    if (p.seccomp !== undefined) results.Seccomp = this.loadSeccomp(p);
    else if (previous?.seccomp !== undefined) this.d.seccomp.remove(p.profileName);
    if (p.appArmor) results.AppArmor = await this.loadAppArmor(p);
    if (p.bpfTables) results.BPF = this.placeBpf(st);
    return results;
  }

  /** The profile is gone: its Seccomp file and AppArmor profile go, unless kept (BPF: see removeBpfPolicy). */
  async unplace(profileName: string, keep: { seccomp?: boolean; appArmor?: boolean } = {}): Promise<void> {
    if (!keep.seccomp) this.d.seccomp.remove(profileName);
    if (keep.appArmor) return;
    try {
      await this.d.appArmor.unload(profileName);
    } catch (e) {
      this.d.log.warn('apparmor unload failed', { profile: profileName, error: errMsg(e) });
    }
  }

  /** Removes Seccomp files of profiles the API server no longer has (call after the first sync). */
  removeStaleSeccompFiles(): string[] {
    const stale = staleSeccompProfiles(this.d.seccomp.list(), (name) => this.d.profiles.get(name));
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
      const st = this.d.profiles.get(name);
      if (!st?.profile?.bpfTables || st.bpfLoadedVersion === st.profile.version) continue;
      st.results.BPF = this.placeBpfNow(st);
      this.d.report.publish(st);
    }
  }

  /** A pod left this node: withdraw tables no container here is bound to any more. */
  release(profileNames: string[]): void {
    for (const name of profileNames) {
      const st = this.d.profiles.get(name);
      const p = st?.profile;
      if (!st || !p || st.bpfLoadedVersion === undefined || st.recorder || this.d.containers.boundCount(p.bpfPolicyId) > 0) continue;
      this.removeBpfPolicy(p.bpfPolicyId);
      st.results.BPF = { state: 'notPlaced' };
      this.d.report.publish(st);
    }
  }

  placedResult(st: ProfileState): EnforcerResult {
    return bpfPlacedResult(this.d.bpf, st.profile?.mode);
  }

  placeBpfNow(st: ProfileState): EnforcerResult {
    try {
      this.loadBpfTables(st);
      return this.placedResult(st);
    } catch (e) {
      return failedResult(e);
    }
  }

  loadBpfTables(st: ProfileState): void {
    const p = st.profile!;
    if (st.bpfLoadedVersion === p.version) return;
    // Refused before the addon sees it: the kernel maps are shared, one policy must not fill them.
    if (p.bpfQuotaExcess) {
      this.d.metrics.loads.inc({ enforcer: 'BPF', result: 'error' });
      const err = new BpfQuotaError(p.profileName, p.bpfQuotaExcess);
      this.d.log.error('bpf policy not loaded', { profile: p.profileName, namespace: p.namespace, policyId: p.bpfPolicyId, code: err.code, error: err.message });
      throw err;
    }
    try {
      // Atomic in the addon: a failure leaves the previous tables in force.
      this.d.bpf.backend!.loadPolicy(p.bpfPolicyId, bpfTablesOf(p));
    } catch (e) {
      this.d.metrics.loads.inc({ enforcer: 'BPF', result: 'error' });
      this.d.log.error('bpf policy not loaded', { profile: p.profileName, policyId: p.bpfPolicyId, error: errMsg(e) });
      throw e;
    }
    st.bpfLoadedVersion = p.version;
    this.d.metrics.loads.inc({ enforcer: 'BPF', result: 'ok' });
    this.d.log.info('bpf policy loaded', { profile: p.profileName, policyId: p.bpfPolicyId, version: p.version });
    this.d.report.gauges();
  }

  removeBpfPolicy(policyId: number): void {
    try {
      this.d.bpf.backend?.removePolicy(policyId);
    } catch (e) {
      this.d.log.warn('bpf policy removal failed', { policyId, error: errMsg(e) });
    }
    for (const st of this.d.profiles.states()) if (st.profile?.bpfPolicyId === policyId) st.bpfLoadedVersion = undefined;
    this.d.report.gauges();
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
    // Over quota it can be placed nowhere: say so now, not when the first pod fails.
    if (p.bpfQuotaExcess) return failedResult(new BpfQuotaError(p.profileName, p.bpfQuotaExcess));
    const placed = st.bpfLoadedVersion !== undefined || this.d.containers.boundCount(p.bpfPolicyId) > 0;
    if (!placed) return { state: 'notPlaced' };
    return this.placeBpfNow(st);
  }
}
