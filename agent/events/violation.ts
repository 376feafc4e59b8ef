// A BPF ring-buffer event as a structured violation record (the fields vArmor's violation log
// has, with the API's names): which pod and container, which profile, what was attempted, what
// happened. Pure; the pump logs it.

import type { BpfEvent } from '../loaders/bpf.js';
import { capabilityName, eventKind, filePermissions } from './names.js';

export interface ContainerRef {
  containerId: string;
  containerName: string;
  podName: string;
  podNamespace: string;
  podUid: string;
  profileName?: string;
}

/** Where a violation happened, in the violation log's words (empty when the container is not known here). */
export interface ViolationWhere {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  containerId: string;
}

export function violationWhere(ref: ContainerRef | undefined): ViolationWhere {
  return {
    namespace: ref?.podNamespace ?? '',
    pod: ref?.podName ?? '',
    podUid: ref?.podUid ?? '',
    container: ref?.containerName ?? '',
    containerId: ref?.containerId ?? '',
  };
}

export interface ViolationRecord {
  enforcer: 'BPF';
  action: 'DENIED' | 'AUDIT' | 'ALLOWED';
  /** Whether the kernel actually blocked it (false in audit-only mode: "would deny"). */
  enforced: boolean;
  profileName: string;
  policyId: number;
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  containerId: string;
  cgroupId: string;
  pid: number;
  rule: { operation: string; hook: string; path?: string; permissions?: string[]; capability?: string; address?: string; port?: number };
}

export function violationRecord(ev: BpfEvent, ref: ContainerRef | undefined, profileOfPolicy: (id: number) => string | undefined, enforcing: boolean): ViolationRecord {
  const kind = eventKind(ev.hook);
  const rule: ViolationRecord['rule'] = { operation: kind, hook: ev.hook };
  if (ev.path) rule.path = ev.path;
  if (kind === 'file' || kind === 'exec') rule.permissions = filePermissions(ev.detail);
  if (kind === 'capability') rule.capability = capabilityName(ev.detail);
  if (ev.address) rule.address = ev.address;
  if (ev.port) rule.port = ev.port;
  const action = ev.decision === 'denied' ? 'DENIED' : ev.decision === 'audit' ? 'AUDIT' : 'ALLOWED';
  return {
    enforcer: 'BPF',
    action,
    enforced: action === 'DENIED' && enforcing,
    profileName: ref?.profileName ?? profileOfPolicy(ev.policyId) ?? `policy-${ev.policyId}`,
    policyId: ev.policyId,
    namespace: ref?.podNamespace ?? '',
    pod: ref?.podName ?? '',
    podUid: ref?.podUid ?? '',
    container: ref?.containerName ?? '',
    containerId: ref?.containerId ?? '',
    cgroupId: ev.cgroupId.toString(),
    pid: ev.pid,
    rule,
  };
}
