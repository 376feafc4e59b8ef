// The policies in force, indexed so that finding the ones that target a Pod costs a few map
// lookups per workload and per Pod label, whatever the number of policies: a target by name is
// found by (kind, name), a selector by one label it requires (its first matchLabels pair); only
// selectors that require no label (matchExpressions only) are asked every time. vArmor walks every
// policy for every Pod.
//
// A policy targets a Pod when the first of the Pod's workloads (podWorkloads: the Pod, its
// controller, a ReplicaSet's Deployment) of the policy's target kind has the target's name, or
// when the policy's selector matches the Pod's labels.

import type { MatchPolicy } from './policies.js';
import type { Workload } from './workloads.js';

interface KindPolicies {
  byName: Map<string, MatchPolicy[]>;
  /** label key -> label value -> selector policies requiring that label. */
  byLabel: Map<string, Map<string, MatchPolicy[]>>;
  /** Selectors requiring no particular label. */
  unindexed: MatchPolicy[];
}

/** The policies of one scope (a namespace, or cluster-wide), by target kind. */
class Scope {
  private readonly kinds = new Map<string, KindPolicies>();

  add(p: MatchPolicy): void {
    let k = this.kinds.get(p.targetKind);
    if (!k) this.kinds.set(p.targetKind, (k = { byName: new Map(), byLabel: new Map(), unindexed: [] }));
    if (p.targetName !== undefined) push(k.byName, p.targetName, p);
    else if (p.selector === undefined) return; // targets nothing (the profiler requires name or selector)
    else if (p.requiredLabel) {
      const [key, value] = p.requiredLabel;
      let values = k.byLabel.get(key);
      if (!values) k.byLabel.set(key, (values = new Map()));
      push(values, value, p);
    } else k.unindexed.push(p);
  }

  /** Appends the policies of this scope that target the Pod, in priority order. */
  match(workloads: readonly Workload[], labels: Readonly<Record<string, string>>, out: MatchPolicy[]): void {
    const start = out.length;
    for (let i = 0; i < workloads.length; i++) {
      const w = workloads[i];
      if (seenKind(workloads, i)) continue; // the first workload of a kind decides, as podWorkloads orders them
      const k = this.kinds.get(w.kind);
      if (!k) continue;
      const named = k.byName.get(w.name);
      if (named) for (const p of named) out.push(p);
      if (k.byLabel.size) {
        for (const key in labels) {
          if (!Object.prototype.hasOwnProperty.call(labels, key)) continue;
          const list = k.byLabel.get(key)?.get(labels[key]);
          if (list) for (const p of list) if (p.selector!(labels)) out.push(p);
        }
      }
      for (const p of k.unindexed) if (p.selector!(labels)) out.push(p);
    }
    if (out.length - start > 1) {
      const found = out.splice(start).sort(byRank);
      for (const p of found) out.push(p);
    }
  }
}

function push<K>(map: Map<K, MatchPolicy[]>, key: K, p: MatchPolicy): void {
  const list = map.get(key);
  if (list) list.push(p);
  else map.set(key, [p]);
}

function seenKind(workloads: readonly Workload[], i: number): boolean {
  for (let j = 0; j < i; j++) if (workloads[j].kind === workloads[i].kind) return true;
  return false;
}

const byRank = (a: MatchPolicy, b: MatchPolicy) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0);

/** Immutable: sources build a new index on change. */
export class PolicyIndex {
  private readonly namespaces = new Map<string, Scope>();
  private readonly cluster = new Scope();
  private readonly all: MatchPolicy[];
  readonly size: number;

  constructor(policies: Iterable<MatchPolicy>) {
    this.all = [...policies].sort(byRank);
    for (const p of this.all) {
      if (p.kind === 'VarmorClusterPolicy') this.cluster.add(p);
      else {
        const ns = p.namespace ?? '';
        let scope = this.namespaces.get(ns);
        if (!scope) this.namespaces.set(ns, (scope = new Scope()));
        scope.add(p);
      }
    }
    this.size = this.all.length;
  }

  static readonly empty = new PolicyIndex([]);

  /**
   * The policies that target a Pod of `namespace` with these workloads and labels, in priority
   * order (policies.ts): cluster-wide ones first (every cluster rank sorts before every namespaced
   * one), then the namespace's own.
   */
  match(namespace: string, workloads: readonly Workload[], labels: Readonly<Record<string, string>>): MatchPolicy[] {
    const out: MatchPolicy[] = [];
    this.cluster.match(workloads, labels, out);
    this.namespaces.get(namespace)?.match(workloads, labels, out);
    return out;
  }

  /** Every policy, in priority order. */
  list(): MatchPolicy[] {
    return [...this.all];
  }
}
