// The event pump: drains the BPF ring buffer. Events of a modelled profile go to its behaviour
// recorder; anything not allowed is a violation, logged as a structured record and counted.

import type { BpfEvent, BpfHandle } from '../loaders/bpf.js';
import type { Logger } from '../../profiler/node.js';
import type { AgentMetrics } from '../metrics.js';
import type { ProfileStore } from '../profiles/store.js';
import type { ContainerRegistry } from '../binding/registry.js';
import { violationRecord } from './violation.js';
import { parseSeccompAudit, seccompViolation, type SeccompAuditRecord } from './seccomp-audit.js';
import { appArmorBehavior, appArmorViolation, parseAppArmorAudit, profileOfLabel, type AppArmorAuditRecord } from './apparmor-audit.js';
import { syscallTable } from '../modeling/syscalls.js';

/** The syscall table of the audit architecture the kernel printed (AUDIT_ARCH_X86_64, _AARCH64). */
const AUDIT_ARCH: Record<string, string> = { c000003e: 'x64', c00000b7: 'arm64' };

/** Where an event goes: to the recorder while its profile is modelled, to the log when not allowed. Pure. */
export function routeEvent(decision: BpfEvent['decision'], recording: boolean): { record: boolean; report: boolean } {
  return { record: recording, report: decision !== 'allowed' };
}

export interface EventPumpDeps {
  bpf: BpfHandle;
  log: Logger;
  metrics: Pick<AgentMetrics, 'violations'>;
  profiles: ProfileStore;
  containers: ContainerRegistry;
  /** A host pid's cgroup id (Seccomp audit records name the pid only). */
  cgroupOf?: (pid: number) => bigint | undefined;
}

export class EventPump {
  constructor(private readonly d: EventPumpDeps) {}

  /** Whether a denied event was actually blocked (BPF LSM enforcing) or only reported (audit). */
  get enforcing(): boolean {
    return this.d.bpf.mode === 'enforce';
  }

  /** Drains up to `max` events; returns how many there were. */
  pump(max = 4096): number {
    const bpf = this.d.bpf.backend;
    if (!bpf) return 0;
    const events = bpf.readEvents(max);
    for (const ev of events) this.onEvent(ev);
    return events.length;
  }

  /**
   * The kernel log's audit records: Seccomp's (those of a container here are violations) and
   * AppArmor's (those of our profiles: violations, or behaviour while the profile is modelled).
   */
  pumpKernelLog(reader: { poll(fn: (message: string) => void): number }): number {
    return reader.poll((m) => {
      const r = parseSeccompAudit(m);
      if (r) return this.onSeccomp(r);
      const a = parseAppArmorAudit(m);
      if (a) this.onAppArmor(a);
    });
  }

  private onAppArmor(r: AppArmorAuditRecord): void {
    const st = this.d.profiles.get(profileOfLabel(r.label));
    if (!st) return; // a profile of the node's own (a host service's), not ours
    // complain mode while modelling: the record is the recording, not a violation
    if (r.verdict === 'ALLOWED' && st.appArmorRecorder) return st.appArmorRecorder.merge(appArmorBehavior(r));
    const cg = this.d.cgroupOf?.(r.pid);
    const rec = cg === undefined ? undefined : this.d.containers.ofCgroup(cg);
    const v = appArmorViolation(r, rec);
    this.d.metrics.violations.inc({ enforcer: 'AppArmor', action: v.action, namespace: v.namespace, profile: v.profileName });
    this.d.log.warn('violation', v);
  }

  private onSeccomp(r: SeccompAuditRecord): void {
    const cg = this.d.cgroupOf?.(r.pid);
    const rec = cg === undefined ? undefined : this.d.containers.ofCgroup(cg);
    if (!rec) return; // another process of the node (a host service with its own filter), or gone already
    const table = syscallTable(AUDIT_ARCH[r.arch] ?? '');
    const v = seccompViolation(r, rec, rec.targets.Seccomp ?? rec.profileName, table?.[r.syscall]);
    this.d.metrics.violations.inc({ enforcer: 'Seccomp', action: v.action, namespace: v.namespace, profile: v.profileName });
    this.d.log.warn('violation', v);
  }

  private onEvent(ev: BpfEvent): void {
    const recorder = this.d.profiles.ofPolicyName(ev.policyId)?.recorder;
    const route = routeEvent(ev.decision, !!recorder);
    if (route.record) recorder?.add(ev);
    if (!route.report) return;
    const rec = this.d.containers.ofCgroup(ev.cgroupId);
    const v = violationRecord(ev, rec, (id) => this.d.profiles.policyName(id), this.enforcing);
    this.d.metrics.violations.inc({ enforcer: 'BPF', action: v.action, namespace: v.namespace, profile: v.profileName });
    this.d.log.warn('violation', v);
  }
}
