// Test support: ArmorProfile objects as the controller writes them (CONTRACTS.md), built from
// parts: a Seccomp profile JSON, BPF tables from the profiler's encoder.

import { API_VERSION, type ArmorProfile, type Enforcer } from '../../profiler/api/types.js';
import { bpfPolicyId } from '../../profiler/names.js';
import { emptyTables, encodeTables, type Tables } from '../../profiler/bpf/encode.js';
import { formatEnforcers } from '../../profiler/validate/enforcer.js';

export const DENY_MKDIR = JSON.stringify({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
});

export { VT_MODE_ENFORCE, VT_MODE_RECORD } from '../../profiler/bpf/layout.js';

export function bpfTables(profileName: string, mode: number, edit?: (t: Tables) => void): string {
  const t = emptyTables(bpfPolicyId(profileName), mode);
  edit?.(t);
  return Buffer.from(encodeTables(t)).toString('base64');
}

export function armorProfile(opts: {
  profileName: string;
  namespace?: string;
  enforcers: Enforcer[];
  mode?: string;
  seccomp?: string;
  bpf?: string;
  appArmor?: string;
  generation?: number;
  behaviorModeling?: { enable: boolean; duration: number };
  /** Identity: another ArmorProfile with the same profile name differs by uid and creation time. */
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}): ArmorProfile {
  return {
    apiVersion: API_VERSION,
    kind: 'ArmorProfile',
    metadata: {
      name: opts.profileName,
      namespace: opts.namespace ?? 'default',
      uid: opts.uid ?? `uid-${opts.profileName}`,
      generation: opts.generation ?? 1,
      ...(opts.creationTimestamp ? { creationTimestamp: opts.creationTimestamp } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: {
      profile: {
        name: opts.profileName,
        enforcer: formatEnforcers(opts.enforcers),
        mode: opts.mode ?? 'EnhanceProtect',
        seccompContent: opts.seccomp,
        bpfContent: opts.bpf,
        content: opts.appArmor !== undefined ? Buffer.from(opts.appArmor).toString('base64') : undefined,
        bpfPolicyId: bpfPolicyId(opts.profileName),
      },
      target: { kind: 'Pod', selector: { matchLabels: { app: 'x' } } },
      behaviorModeling: opts.behaviorModeling,
    },
  };
}
