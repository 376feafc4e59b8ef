// The profiles this node knows, by ArmorProfile identity (namespace/name of the object, with its
// uid and creation time), and which identity holds each profile name and BPF policy id. Profile
// names (`varmor-<ns>-<name>`) collide across namespaces and the 32-bit policy id can be collided
// on purpose, so the name is not an identity: the oldest ArmorProfile holds a name and an id,
// any other claiming them is refused (nothing loaded) until the holder goes. Everything that
// resolves a reference (`localhost/<profile>`, an event's policy id) reaches the holder only.
// Also: policy id -> profile name for late events, and waiting for a profile the informer has not
// delivered yet (the hook can win that race).

import type { NodeProfile } from './decode.js';
import type { ProfileResults } from '../status/entry.js';
import type { BehaviorRecorder } from '../modeling/record.js';

/** The ArmorProfile object (status is written there; deletes name it). */
export interface ProfileTarget {
  namespace: string;
  name: string;
}

/** Why an identity holds nothing here: another, older ArmorProfile holds its name or policy id. */
export interface ProfileConflict {
  reason: 'ProfileNameConflict' | 'PolicyIdConflict';
  /** `namespace/name` of the holder. */
  holder: string;
  message: string;
}

export interface ProfileState {
  /** `namespace/name` of the ArmorProfile object. */
  key: string;
  profile?: NodeProfile;
  decodeError?: string;
  /** The ArmorProfile object whose status carries this node's entry. */
  target: ProfileTarget;
  results: ProfileResults;
  /** Set while another identity holds this profile's name or policy id: nothing of it is loaded. */
  conflict?: ProfileConflict;
  /** BPF tables version loaded on this node, when placed. */
  bpfLoadedVersion?: string;
  recorder?: BehaviorRecorder;
  /** While modelling a profile with the AppArmor enforcer: what its complain-mode profile logged. */
  appArmorRecorder?: BehaviorRecorder;
}

export const targetKey = (t: ProfileTarget): string => `${t.namespace}/${t.name}`;

/** Pure: whether `a` is older than `b` (creationTimestamp, then uid): the older holds. */
export function olderThan(a: NodeProfile, b: NodeProfile): boolean {
  const ca = a.createdAt ?? '';
  const cb = b.createdAt ?? '';
  if (ca !== cb) return ca < cb;
  return a.uid < b.uid;
}

/** Pure: the oldest other profile claiming `p`'s name or policy id, and which of the two it claims. */
export function rivalOf(p: NodeProfile, others: Iterable<ProfileState>, self: ProfileState): { st: ProfileState; reason: ProfileConflict['reason'] } | undefined {
  let best: { st: ProfileState; reason: ProfileConflict['reason'] } | undefined;
  for (const st of others) {
    const o = st.profile;
    if (st === self || !o) continue;
    const reason = o.profileName === p.profileName ? 'ProfileNameConflict' : o.bpfPolicyId === p.bpfPolicyId ? 'PolicyIdConflict' : undefined;
    if (reason && (!best || olderThan(o, best.st.profile!))) best = { st, reason };
  }
  return best;
}

export class ProfileStore {
  private readonly byKey = new Map<string, ProfileState>();
  /** profile name -> the identity holding it. */
  private readonly holders = new Map<string, ProfileState>();
  private readonly policyNames = new Map<number, string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  /** The identity holding `profileName` (what a reference resolves to). */
  get(profileName: string): ProfileState | undefined {
    return this.holders.get(profileName);
  }

  ofTarget(t: ProfileTarget): ProfileState | undefined {
    return this.byKey.get(targetKey(t));
  }

  /** The state of the ArmorProfile `target`, created when new. */
  ensure(target: ProfileTarget): ProfileState {
    const key = targetKey(target);
    let st = this.byKey.get(key);
    if (!st) {
      st = { key, target, results: {} };
      this.byKey.set(key, st);
    }
    return st;
  }

  /** `st` holds its profile's name and id from now on (the caller has displaced any rival). */
  hold(st: ProfileState): void {
    const p = st.profile!;
    for (const [name, h] of this.holders) if (h === st && name !== p.profileName) this.holders.delete(name);
    this.holders.set(p.profileName, st);
    this.policyNames.set(p.bpfPolicyId, p.profileName);
    st.conflict = undefined;
  }

  /** `st` no longer holds anything (refused, or deleted). */
  unhold(st: ProfileState): void {
    for (const [name, h] of this.holders) if (h === st) this.holders.delete(name);
  }

  holds(st: ProfileState): boolean {
    return !!st.profile && this.holders.get(st.profile.profileName) === st;
  }

  delete(st: ProfileState): void {
    this.unhold(st);
    if (this.byKey.get(st.key) === st) this.byKey.delete(st.key);
  }

  /** Names of the profiles held (in force) here. */
  names(): string[] {
    return [...this.holders.keys()];
  }

  /** The held states (what is in force). */
  states(): ProfileState[] {
    return [...new Set(this.holders.values())];
  }

  /** Every identity known, refused ones included. */
  all(): ProfileState[] {
    return [...this.byKey.values()];
  }

  /** The held profile whose BPF policy id is `policyId`. */
  withPolicy(policyId: number): ProfileState | undefined {
    return this.states().find((s) => s.profile?.bpfPolicyId === policyId);
  }

  policyName(policyId: number): string | undefined {
    return this.policyNames.get(policyId);
  }

  /** The state of the profile an event's policy id names (undefined once the profile is gone). */
  ofPolicyName(policyId: number): ProfileState | undefined {
    const name = this.policyNames.get(policyId);
    return name ? this.holders.get(name) : undefined;
  }

  /** Wakes whoever waits for `profileName` (it was just applied). */
  arrived(profileName: string): void {
    for (const w of this.waiters.get(profileName) ?? []) w();
    this.waiters.delete(profileName);
  }

  /** The holder of `profileName` once it has a decoded profile, or whatever is known after `ms`. */
  waitFor(profileName: string, ms: number): Promise<ProfileState | undefined> {
    const st = this.holders.get(profileName);
    if (st?.profile || ms <= 0) return Promise.resolve(st);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        resolve(this.holders.get(profileName));
      };
      const t = setTimeout(() => {
        const list = this.waiters.get(profileName)?.filter((w) => w !== done) ?? [];
        if (list.length) this.waiters.set(profileName, list);
        else this.waiters.delete(profileName);
        resolve(this.holders.get(profileName));
      }, ms);
      this.waiters.set(profileName, [...(this.waiters.get(profileName) ?? []), done]);
    });
  }
}
