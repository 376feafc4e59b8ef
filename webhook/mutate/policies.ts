// Policies prepared for admission: each validated VarmorPolicy / VarmorClusterPolicy becomes a
// MatchPolicy with its selector compiled and its names derived once, and a PolicyIndex holds them
// in priority order, so a request only walks arrays and calls predicates.
//
// Priority, when several policies target the same container (vArmor picks one at random):
//   1. a VarmorPolicy (namespaced) before a VarmorClusterPolicy: the namespace owner's choice wins;
//   2. a target by name before a target by selector (the more specific target);
//   3. a target that lists containers before one for all containers;
//   4. then by namespace and name, alphabetically.
// The losers are reported as conflicts (log line and metric), never silently dropped.

import type { AnyPolicy, Enforcer } from '../../profiler/api/types.js';
import { bpfPolicyId, DEFAULT_PRODUCT_NAMESPACE, profileName, seccompLocalhostProfile } from '../../profiler/names.js';
import { compileSelector, type LabelPredicate } from './selector.js';

export interface MatchPolicy {
  kind: 'VarmorPolicy' | 'VarmorClusterPolicy';
  /** The policy's namespace; undefined for a cluster policy. */
  namespace?: string;
  name: string;
  /** `VarmorPolicy/ns/name` or `VarmorClusterPolicy/name`, for logs and conflict reports. */
  id: string;
  profileName: string;
  /** `localhost/<profileName>`, the value of our annotations. */
  localhostRef: string;
  /** `varmor/<profileName>.json`, the seccompProfile.localhostProfile. */
  seccompPath: string;
  bpfPolicyId: number;
  enforcers: ReadonlySet<Enforcer>;
  mode: string;
  targetKind: string;
  targetName?: string;
  selector?: LabelPredicate;
  /** Named containers; undefined means every regular container. */
  containers?: ReadonlySet<string>;
  /** Sort key, see the priority rules above. */
  rank: string;
}

export interface PrepareOptions {
  productNamespace?: string;
}

/** `policy` must already be validated by the profiler; `enforcers` is what it parsed. */
export function preparePolicy(policy: AnyPolicy, enforcers: readonly Enforcer[], opts: PrepareOptions = {}): MatchPolicy {
  const name = policy.metadata.name ?? '';
  const cluster = policy.kind === 'VarmorClusterPolicy';
  const namespace = cluster ? undefined : (policy.metadata.namespace ?? 'default');
  const pn = profileName({ kind: policy.kind, namespace, name }, opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE);
  const target = policy.spec.target;
  const byName = typeof target.name === 'string' && target.name !== '';
  const containers = target.containers && target.containers.length ? new Set(target.containers) : undefined;
  return {
    kind: policy.kind,
    namespace,
    name,
    id: cluster ? `VarmorClusterPolicy/${name}` : `VarmorPolicy/${namespace}/${name}`,
    profileName: pn,
    localhostRef: `localhost/${pn}`,
    seccompPath: seccompLocalhostProfile(pn),
    bpfPolicyId: bpfPolicyId(pn),
    enforcers: new Set(enforcers),
    mode: policy.spec.policy.mode,
    targetKind: target.kind,
    targetName: byName ? target.name : undefined,
    // vArmor: a target name takes precedence over the selector.
    selector: !byName && target.selector ? compileSelector(target.selector, 'spec.target.selector') : undefined,
    containers,
    rank: [cluster ? 1 : 0, byName ? 0 : 1, containers ? 0 : 1, namespace ?? '', name].join('\u0000'),
  };
}

/** The policies in force, in priority order; immutable: sources build a new index on change. */
export class PolicyIndex {
  private readonly byNamespace = new Map<string, MatchPolicy[]>();
  private readonly cluster: MatchPolicy[] = [];
    readonly size: number;

  constructor(policies: Iterable<MatchPolicy>) {
    const all = [...policies].sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
    for (const p of all) {
      if (p.kind === 'VarmorClusterPolicy') this.cluster.push(p);
      else {
        const list = this.byNamespace.get(p.namespace ?? '') ?? [];
        list.push(p);
        this.byNamespace.set(p.namespace ?? '', list);
      }
    }
    this.size = all.length;
  }

  static readonly empty = new PolicyIndex([]);

  /** Namespaced policies of `namespace`, then cluster policies: already the priority order. */
  candidates(namespace: string): readonly (readonly MatchPolicy[])[] {
    const own = this.byNamespace.get(namespace);
    return own ? [own, this.cluster] : [this.cluster];
  }

  list(): MatchPolicy[] {
    return [...[...this.byNamespace.values()].flat(), ...this.cluster].sort((a, b) => (a.rank < b.rank ? -1 : 1));
  }
}
