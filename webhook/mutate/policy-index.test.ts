import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, LabelSelector } from '../../profiler/api/types.js';
import { preparePolicy, type MatchPolicy } from './policies.js';
import { PolicyIndex } from './policy-index.js';
import type { Pod } from './types.js';
import { podWorkloads, type Workload } from './workloads.js';

// The obvious definition, asked of every policy in priority order: the index must agree with it.
function oracle(all: MatchPolicy[], namespace: string, workloads: readonly Workload[], labels: Record<string, string>): string[] {
  const targets = (p: MatchPolicy) => {
    for (const w of workloads) {
      if (w.kind !== p.targetKind) continue;
      if (p.targetName !== undefined) return w.name === p.targetName;
      return p.selector !== undefined && p.selector(labels);
    }
    return false;
  };
  return all.filter((p) => (p.namespace === undefined || p.namespace === namespace) && targets(p)).map((p) => p.id);
}

/** mulberry32: a seeded generator, so a failure names a reproducible case. */
function rng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  return { next, pick };
}

const KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job'];
const KEYS = ['app', 'tier', 'env'];
const VALUES = ['a', 'b', 'c'];
const NAMES = ['web', 'db', 'web-5d4f', 'api'];
const NAMESPACES = ['team-a', 'team-b'];

function randomSelector(r: ReturnType<typeof rng>): LabelSelector {
  const sel: LabelSelector = {};
  const pairs = Math.floor(r.next() * 3);
  if (pairs) sel.matchLabels = Object.fromEntries(Array.from({ length: pairs }, () => [r.pick(KEYS), r.pick(VALUES)]));
  const exprs = Math.floor(r.next() * 3);
  if (exprs)
    sel.matchExpressions = Array.from({ length: exprs }, () => {
      const operator = r.pick(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
      return operator === 'In' || operator === 'NotIn' ? { key: r.pick(KEYS), operator, values: [r.pick(VALUES), r.pick(VALUES)] } : { key: r.pick(KEYS), operator };
    });
  return sel;
}

function randomPolicies(r: ReturnType<typeof rng>, n: number): MatchPolicy[] {
  return Array.from({ length: n }, (_, i) => {
    const target = r.next() < 0.3 ? { kind: r.pick(KINDS), name: r.pick(NAMES) } : { kind: r.pick(KINDS), selector: randomSelector(r) };
    const spec = { target: r.next() < 0.3 ? { ...target, containers: ['app'] } : target, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } };
    const policy: AnyPolicy =
      r.next() < 0.4
        ? { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name: `c${i}` }, spec }
        : { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', metadata: { name: `p${i}`, namespace: r.pick(NAMESPACES) }, spec };
    return preparePolicy(policy, ['BPF']);
  });
}

function randomPod(r: ReturnType<typeof rng>): Pod {
  const labels: Record<string, string> = {};
  for (const k of KEYS) if (r.next() < 0.6) labels[k] = r.pick(VALUES);
  const owner = r.pick([undefined, 'ReplicaSet', 'StatefulSet', 'Job', 'Pod']);
  const metadata: Pod['metadata'] = { name: r.pick(NAMES), labels };
  if (owner === 'ReplicaSet') {
    labels['pod-template-hash'] = '5d4f';
    metadata.ownerReferences = [{ kind: 'ReplicaSet', name: r.pick(['web-5d4f', 'db-5d4f', 'web']), controller: r.next() < 0.8 }];
  } else if (owner) metadata.ownerReferences = [{ kind: owner, name: r.pick(NAMES), controller: true }];
  return { metadata, spec: { containers: [{ name: 'app' }] } };
}

describe('PolicyIndex.match', () => {
  it('finds exactly the policies the plain definition finds, in priority order (3,000 random cases)', () => {
    const r = rng(20261129);
    for (let round = 0; round < 30; round++) {
      const policies = randomPolicies(r, 1 + Math.floor(r.next() * 60));
      const index = new PolicyIndex(policies);
      const all = index.list();
      for (let i = 0; i < 100; i++) {
        const pod = randomPod(r);
        const namespace = r.pick([...NAMESPACES, 'other']);
        const workloads = podWorkloads(pod);
        const labels = pod.metadata!.labels!;
        const context = `round ${round}, pod ${JSON.stringify(pod.metadata)}, namespace ${namespace}`;
        expect({ context, ids: index.match(namespace, workloads, labels).map((p) => p.id) }).toEqual({ context, ids: oracle(all, namespace, workloads, labels) });
      }
    }
  });

  it('asks only the selectors indexed under a label the Pod has, and those that require none', () => {
    const asked: string[] = [];
    const policies = ['x', 'y', 'z'].map((app) => {
      const p = preparePolicy(
        { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name: app }, spec: { target: { kind: 'Pod', selector: { matchLabels: { app } } }, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } } },
        ['BPF'],
      );
      const selector = p.selector!;
      return { ...p, selector: (l: Readonly<Record<string, string>>) => (asked.push(app), selector(l)) };
    });
    const index = new PolicyIndex(policies);
    expect(index.match('ns', [{ kind: 'Pod', name: 'p' }], { app: 'y', other: 'x' }).map((p) => p.name)).toEqual(['y']);
    expect(asked).toEqual(['y']);
  });

  it('keeps every policy, in priority order, for list() and size', () => {
    const index = new PolicyIndex(randomPolicies(rng(7), 40));
    const ranks = index.list().map((p) => p.rank);
    expect(ranks).toEqual([...ranks].sort());
    expect(index.size).toBe(40);
  });
});
