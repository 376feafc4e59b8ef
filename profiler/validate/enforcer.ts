// The `policy.enforcer` string as a set of enforcers, and which modes each enforcer supports.
// vArmor spells a combination by concatenating names in one canonical order (AppArmor, BPF,
// Seccomp); we accept exactly those spellings, so a vArmor policy means the same here.

import type { Enforcer, Mode } from '../api/types.js';

export const ENFORCERS: readonly Enforcer[] = ['AppArmor', 'BPF', 'Seccomp'];

/** Every accepted spelling: each non-empty subset of ENFORCERS in canonical order. */
export const ENFORCER_STRINGS: readonly string[] = (() => {
  const out: string[] = [];
  for (let mask = 1; mask < 1 << ENFORCERS.length; mask++) {
    out.push(ENFORCERS.filter((_, i) => mask & (1 << i)).join(''));
  }
  return out.sort((a, b) => a.length - b.length || a.localeCompare(b));
})();

/** `AppArmorBPFSeccomp` -> ['AppArmor', 'BPF', 'Seccomp']; null for anything else. */
export function parseEnforcers(s: string): Enforcer[] | null {
  if (typeof s !== 'string' || !ENFORCER_STRINGS.includes(s)) return null;
  const out: Enforcer[] = [];
  let rest = s;
  for (const e of ENFORCERS) {
    if (rest.startsWith(e)) {
      out.push(e);
      rest = rest.slice(e.length);
    }
  }
  return out;
}

export function formatEnforcers(enforcers: readonly Enforcer[]): string {
  return ENFORCERS.filter((e) => enforcers.includes(e)).join('');
}

/** Why a string is not an enforcer set, for the error message. */
export function explainBadEnforcer(s: string): string {
  if (/NetworkProxy/.test(s)) {
    return `enforcer "${s}" includes NetworkProxy, vArmor's sidecar egress proxy, which varmor-ts does not provide (it is sidecar-free); use BPF egress rules (bpfRawRules.network) instead`;
  }
  const tokens: string[] = s.match(/AppArmor|BPF|Seccomp/g) ?? [];
  if (tokens.length > 0 && tokens.join('') === s && new Set(tokens).size === tokens.length) {
    const canonical = ENFORCERS.filter((e) => tokens.includes(e)).join('');
    return `enforcer "${s}" must list its enforcers in the order AppArmor, BPF, Seccomp: write "${canonical}"`;
  }
  return `unknown enforcer "${s}"; expected one of ${ENFORCER_STRINGS.join(', ')}`;
}

/**
 * Modes per enforcer (vArmor's policy-modes table). DefenseInDepth is refused with BPF, as vArmor
 * refuses it: there is no BPF allow-list profile built from a behaviour model. Everything else
 * is supported by every enforcer (BPF BehaviorModeling records in audit mode).
 */
export const MODE_SUPPORT: Record<Mode, readonly Enforcer[]> = {
  AlwaysAllow: ['AppArmor', 'BPF', 'Seccomp'],
  RuntimeDefault: ['AppArmor', 'BPF', 'Seccomp'],
  EnhanceProtect: ['AppArmor', 'BPF', 'Seccomp'],
  BehaviorModeling: ['AppArmor', 'BPF', 'Seccomp'],
  DefenseInDepth: ['AppArmor', 'Seccomp'],
};

export const MODES: readonly Mode[] = Object.keys(MODE_SUPPORT) as Mode[];

export function isMode(s: unknown): s is Mode {
  return typeof s === 'string' && (MODES as readonly string[]).includes(s);
}
