// The profiles this node knows, by profile name: the decoded ArmorProfile (or why it failed to
// decode), what each enforcer's placement gave, the BPF tables version loaded here and the
// behaviour recorder while modelling. Also BPF policy id -> profile name (events carry only the
// id), and waiting for a profile the informer has not delivered yet (the hook can win that race).

import type { NodeProfile } from './decode.js';
import type { ProfileResults } from '../status/entry.js';
import type { BehaviorRecorder } from '../modeling/record.js';

export interface ProfileTarget {
  namespace: string;
  name: string;
}

export interface ProfileState {
  profile?: NodeProfile;
  decodeError?: string;
  /** The ArmorProfile object whose status carries this node's entry. */
  target: ProfileTarget;
  results: ProfileResults;
  /** BPF tables version loaded on this node, when placed. */
  bpfLoadedVersion?: string;
  recorder?: BehaviorRecorder;
}

export class ProfileStore {
  private readonly profiles = new Map<string, ProfileState>();
  private readonly policyNames = new Map<number, string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  get(profileName: string): ProfileState | undefined {
    return this.profiles.get(profileName);
  }

  /** The state of `profileName`, created when new; its target follows the latest object. */
  ensure(profileName: string, target: ProfileTarget): ProfileState {
    let st = this.profiles.get(profileName);
    if (!st) {
      st = { target, results: {} };
      this.profiles.set(profileName, st);
    }
    st.target = target;
    return st;
  }

  delete(profileName: string): void {
    this.profiles.delete(profileName);
  }

  names(): string[] {
    return [...this.profiles.keys()];
  }

  states(): ProfileState[] {
    return [...this.profiles.values()];
  }

  /** The known profile whose BPF policy id is `policyId`. */
  withPolicy(policyId: number): ProfileState | undefined {
    return this.states().find((s) => s.profile?.bpfPolicyId === policyId);
  }

  /** Remembered past the profile's removal, so late events of its policy still carry a name. */
  notePolicyName(policyId: number, profileName: string): void {
    this.policyNames.set(policyId, profileName);
  }

  policyName(policyId: number): string | undefined {
    return this.policyNames.get(policyId);
  }

  /** The state of the profile an event's policy id names (undefined once the profile is gone). */
  ofPolicyName(policyId: number): ProfileState | undefined {
    const name = this.policyNames.get(policyId);
    return name ? this.profiles.get(name) : undefined;
  }

  /** Wakes whoever waits for `profileName` (it was just applied). */
  arrived(profileName: string): void {
    for (const w of this.waiters.get(profileName) ?? []) w();
    this.waiters.delete(profileName);
  }

  /** The profile's state once it has a decoded profile, or whatever is known after `ms`. */
  waitFor(profileName: string, ms: number): Promise<ProfileState | undefined> {
    const st = this.profiles.get(profileName);
    if (st?.profile) return Promise.resolve(st);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        resolve(this.profiles.get(profileName));
      };
      const t = setTimeout(() => {
        const list = this.waiters.get(profileName)?.filter((w) => w !== done) ?? [];
        if (list.length) this.waiters.set(profileName, list);
        else this.waiters.delete(profileName);
        resolve(this.profiles.get(profileName));
      }, ms);
      this.waiters.set(profileName, [...(this.waiters.get(profileName) ?? []), done]);
    });
  }
}
