// Names for the numbers in BPF events (native/varmor_tables.h): file permissions, capabilities,
// socket families. Pure tables.

import { CAPABILITIES } from '../../profiler/node.js';

export function capabilityName(n: number | undefined): string {
  return n !== undefined && CAPABILITIES[n] ? CAPABILITIES[n] : `cap_${n ?? '?'}`;
}

/** VT_PERM_* bits -> vArmor permission words. */
export function filePermissions(mask: number | undefined): string[] {
  const out: string[] = [];
  const m = mask ?? 0;
  if (m & 0x4) out.push('read');
  if (m & 0x2) out.push('write');
  if (m & 0x8) out.push('append');
  if (m & 0x1) out.push('exec');
  return out;
}

export type EventKind = 'file' | 'exec' | 'capability' | 'network' | 'ptrace' | 'mount' | 'other';

/** The addon names hooks after the LSM hook (file_open, bprm_check, capable, socket_connect...). */
export function eventKind(hook: string): EventKind {
  const h = hook.toLowerCase();
  if (h.includes('exec') || h.includes('bprm')) return 'exec';
  if (h.includes('capab')) return 'capability';
  if (h.includes('socket') || h.includes('connect') || h.includes('sockopt')) return 'network';
  if (h.includes('ptrace')) return 'ptrace';
  if (h.includes('mount')) return 'mount';
  if (h.includes('file') || h.includes('path') || h.includes('unlink') || h.includes('rename') || h.includes('link') || h.includes('chmod')) return 'file';
  return 'other';
}
