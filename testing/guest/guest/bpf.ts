// The chain under test, inside the guest: a VarmorPolicy's enhanceProtect goes through the real
// BPF compiler (profiler/bpf) into tables, the real addon loads them into the kernel, and a
// fresh cgroup is bound to the policy. Each case gets its own policy and cgroup, so cases
// cannot see each other's rules.

import { BpfEnforcer, type BindOptions, type BpfEvent, type BpfMode } from '../../../native/index.js';
import { compileBpf } from '../../../profiler/bpf/compile.js';
import { bpfPolicyId } from '../../../profiler/names.js';
import type { EnhanceProtect } from '../../../profiler/api/types.js';
import type { CompileInput } from '../../../profiler/compiled.js';
import { resolveEgress } from '../../../profiler/egress.js';
import { GUEST_CLUSTER_VIEW } from '../rule-attacks.js';
import { attempt, makeCgroup, type Cgroup } from './lib.js';

/** Tables for one policy, as the controller would produce them (enforcer BPF, EnhanceProtect). */
export function tablesFor(profileName: string, enhanceProtect: EnhanceProtect): { policyId: number; tables: Uint8Array } {
  const policyId = bpfPolicyId(profileName);
  const input: CompileInput = {
    profileName,
    bpfPolicyId: policyId,
    mode: 'EnhanceProtect',
    enforcers: ['BPF'],
    policy: { enforcer: 'BPF', mode: 'EnhanceProtect', enhanceProtect },
  };
  const first = compileBpf(input);
  // Service and Pod rules: the addresses of the guest's stand-in cluster, compiled in as the controller does
  if (!first.selectors) return { policyId, tables: first.tables };
  const { tables } = compileBpf(input, { resolvedDestinations: resolveEgress(first.selectors, GUEST_CLUSTER_VIEW) });
  return { policyId, tables };
}

export interface Protected {
  policyId: number;
  cg: Cgroup;
}

/** One vprobe action's outcome inside a policy's cgroup and outside every policy. */
export interface Pair {
  inside: string;
  outside: string;
}

export class Fixture {
  readonly enforcer: BpfEnforcer;
  /** A cgroup bound to nothing: the "same action outside" of every case. */
  readonly outside: Cgroup;

  constructor(mode: BpfMode = 'enforce') {
    this.enforcer = new BpfEnforcer({ mode });
    this.enforcer.attach();
    this.outside = makeCgroup('outside');
  }

  /**
   * Loads the policy `varmor-guest-<name>` and binds a new cgroup `p-<name>` to it. The policy is
   * `privileged` unless the case says otherwise, so that containerd's baseline (compiled into
   * every other EnhanceProtect policy) does not mix into what the case is about.
   */
  protect(name: string, enhanceProtect: EnhanceProtect, opts: BindOptions = {}): Protected {
    const { policyId, tables } = tablesFor(`varmor-guest-${name}`, { privileged: true, ...enhanceProtect });
    this.enforcer.loadPolicy(policyId, tables);
    const cg = makeCgroup(`p-${name}`);
    this.enforcer.bindCgroup(cg.id, policyId, opts);
    return { policyId, cg };
  }

  /** Runs the same vprobe action inside `insideCg` (a policy's cgroup) and in `outside`. */
  async both(insideCg: string, args: string[]): Promise<Pair> {
    return { inside: await attempt(args, insideCg), outside: await attempt(args, this.outside.path) };
  }

  events(): BpfEvent[] {
    return this.enforcer.readEvents();
  }

  detach(): void {
    this.enforcer.detach();
  }
}
