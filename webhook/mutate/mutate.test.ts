import { describe, expect, it } from '@jest/globals';
import jsonpatch from 'fast-json-patch';
import type { AnyPolicy, Enforcer, Target } from '../../profiler/api/types.js';
import { bpfPolicyId } from '../../profiler/names.js';
import { escapePointer, mutatePod, PolicyIndex, podWorkloads, preparePolicy, serializePatch, type MutationOptions, type Pod } from './index.js';

function policy(name: string, target: Target, enforcer = 'AppArmorBPFSeccomp', namespace?: string): AnyPolicy {
  const spec = { target, policy: { enforcer, mode: 'EnhanceProtect' } };
  return namespace === undefined
    ? { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name }, spec }
    : { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', metadata: { name, namespace }, spec };
}

const ALL: Enforcer[] = ['AppArmor', 'BPF', 'Seccomp'];
function index(...ps: [AnyPolicy, Enforcer[]?][]): PolicyIndex {
  return new PolicyIndex(ps.map(([p, e]) => preparePolicy(p, e ?? ALL)));
}

function pod(extra: Partial<Pod> & { spec?: Partial<Pod['spec']> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    ...extra,
    metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' }, ...(extra.metadata ?? {}) },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...(extra.spec ?? {}) },
  };
}

const OPTED = { 'sandbox.varmor.org/enable': 'true' };

function run(p: Pod, policies: PolicyIndex, options?: MutationOptions, nsLabels: Record<string, string> | undefined = OPTED) {
  const res = mutatePod({ pod: p, namespace: 'team-a', namespaceLabels: nsLabels, policies, options });
  // What the webhook sends is serializePatch's text: it must be JSON.stringify's, byte for byte.
  expect(serializePatch(res.ops)).toBe(JSON.stringify(res.ops));
  const patched = jsonpatch.applyPatch(structuredClone(p), structuredClone(res.ops) as jsonpatch.Operation[], true, false).newDocument as Pod;
  return { res, patched };
}

const byPodLabel = (enforcer = 'AppArmorBPFSeccomp') => policy('web', { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, enforcer, 'team-a');

describe('mutatePod', () => {
  it('writes the AppArmor field, the Seccomp field and the three annotations for one container', () => {
    const { res, patched } = run(pod(), index([byPodLabel()]));
    expect(patched.metadata?.annotations).toEqual({
      'container.apparmor.security.beta.varmor.org/app': 'localhost/varmor-team-a-web',
      'container.seccomp.security.beta.varmor.org/app': 'localhost/varmor-team-a-web',
      'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-team-a-web',
    });
    expect(patched.spec.containers[0].securityContext).toEqual({
      appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' },
      seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-web.json' },
    });
    expect(res.decisions).toEqual([
      { list: 'containers', container: 'app', policy: 'VarmorPolicy/team-a/web', profileName: 'varmor-team-a-web', applied: ['AppArmor', 'Seccomp', 'BPF'], skipped: [] },
    ]);
    // The patch adds whole objects where none existed: one op for annotations, one for securityContext.
    expect(res.ops.map((o) => o.path)).toEqual(['/metadata/annotations', '/spec/containers/0/securityContext']);
  });

  it('is idempotent: the patched Pod gives no operation', () => {
    for (const style of ['field', 'annotation', 'both'] as const) {
      const policies = index([byPodLabel()]);
      const first = run(pod({ spec: { containers: [{ name: 'a' }, { name: 'b', securityContext: { runAsUser: 1 } }] } }), policies, { appArmor: style });
      expect(first.res.ops.length).toBeGreaterThan(0);
      const second = run(first.patched, policies, { appArmor: style });
      expect(second.res.ops).toEqual([]);
      expect(second.patched).toEqual(first.patched);
    }
  });

  it('only writes the enforcers the policy names', () => {
    const { patched } = run(pod(), index([byPodLabel('BPF'), ['BPF']]));
    expect(patched.metadata?.annotations).toEqual({ 'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-team-a-web' });
    expect(patched.spec.containers[0].securityContext).toBeUndefined();
  });

  it('leaves existing fields, other annotations and labels untouched, removes our undecided ones, and escapes JSON-pointer characters', () => {
    const p = pod({
      metadata: { annotations: { 'example.com/a~b': 'keep', 'container.bpf.security.beta.varmor.org/other': 'localhost/x' } },
      spec: { containers: [{ name: 'app', securityContext: { runAsNonRoot: true, capabilities: { drop: ['ALL'] } } }] },
    });
    const { res, patched } = run(p, index([byPodLabel()]));
    expect(res.ops.map((o) => o.path)).toEqual([
      '/metadata/annotations/container.bpf.security.beta.varmor.org~1other',
      '/metadata/annotations/container.apparmor.security.beta.varmor.org~1app',
      '/metadata/annotations/container.seccomp.security.beta.varmor.org~1app',
      '/metadata/annotations/container.bpf.security.beta.varmor.org~1app',
      '/spec/containers/0/securityContext/appArmorProfile',
      '/spec/containers/0/securityContext/seccompProfile',
    ]);
    expect(patched.metadata?.annotations?.['example.com/a~b']).toBe('keep');
    // A pod-authored reference the webhook did not decide (container "other" is not in the Pod) is removed.
    expect(res.ops[0].op).toBe('remove');
    expect(patched.metadata?.annotations?.['container.bpf.security.beta.varmor.org/other']).toBeUndefined();
    expect(patched.spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(patched.metadata?.labels).toEqual({ app: 'web' });
  });

  it('escapes ~ before /', () => {
    expect(escapePointer('a/b~c')).toBe('a~1b~0c');
    expect(escapePointer('~/')).toBe('~0~1');
    expect(escapePointer('plain')).toBe('plain');
  });

  it('covers every regular container, and init and ephemeral containers only when named', () => {
    const p = pod({ spec: { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'init' }], ephemeralContainers: [{ name: 'debug' }] } });
    const all = run(p, index([byPodLabel('BPF'), ['BPF']]));
    expect(all.res.decisions.map((d) => `${d.list}/${d.container}`)).toEqual(['containers/a', 'containers/b']);

    const named = policy('named', { kind: 'Pod', name: 'web', containers: ['b', 'init', 'debug'] }, 'AppArmorSeccomp', 'team-a');
    const { res, patched } = run(p, index([named, ['AppArmor', 'Seccomp']]));
    expect(res.decisions.map((d) => `${d.list}/${d.container}`)).toEqual(['containers/b', 'initContainers/init', 'ephemeralContainers/debug']);
    expect(patched.spec.containers[0].securityContext).toBeUndefined();
    expect(patched.spec.initContainers?.[0].securityContext?.appArmorProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor-team-a-named' });
    expect(patched.spec.ephemeralContainers?.[0].securityContext?.seccompProfile?.localhostProfile).toBe('varmor/varmor-team-a-named.json');
  });

  it('needs the namespace (or the Pod) to opt in, unless told otherwise', () => {
    const policies = index([byPodLabel()]);
    expect(run(pod(), policies, undefined, {}).res).toMatchObject({ optedIn: false, ops: [] });
    expect(mutatePod({ pod: pod(), namespace: 'team-a', namespaceLabels: undefined, policies }).optedIn).toBe(false);
    expect(run(pod(), policies, undefined, { 'sandbox.varmor.org/enable': 'false' }).res.ops).toEqual([]);
    expect(run(pod({ metadata: { labels: { app: 'web', 'sandbox.varmor.org/enable': 'true' } } }), policies, undefined, {}).res.ops.length).toBeGreaterThan(0);
    expect(mutatePod({ pod: pod(), namespace: 'team-a', policies, options: { requireOptIn: false } }).ops.length).toBeGreaterThan(0);
  });

  it('applies a VarmorPolicy only in its own namespace and a VarmorClusterPolicy in any', () => {
    const other = policy('web', { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, 'BPF', 'team-b');
    expect(run(pod(), index([other, ['BPF']])).res.ops).toEqual([]);
    const cluster = policy('web', { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, 'BPF');
    const { patched } = run(pod(), index([cluster, ['BPF']]));
    expect(patched.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']).toBe('localhost/varmor-cluster-varmor-web');
  });

  it('matches Pods of Deployments, StatefulSets, DaemonSets and Jobs through their owner, by name or selector', () => {
    const rsOwned = pod({
      metadata: {
        name: '',
        generateName: 'shop-7d9f8c6b5-',
        labels: { app: 'shop', 'pod-template-hash': '7d9f8c6b5' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-7d9f8c6b5', controller: true }],
      },
    });
    expect(podWorkloads(rsOwned)).toEqual([
      { kind: 'Pod', name: '' },
      { kind: 'ReplicaSet', name: 'shop-7d9f8c6b5' },
      { kind: 'Deployment', name: 'shop' },
    ]);
    const byDeployName = policy('d', { kind: 'Deployment', name: 'shop' }, 'BPF', 'team-a');
    expect(run(rsOwned, index([byDeployName, ['BPF']])).res.decisions).toHaveLength(1);
    const byDeploySelector = policy('d', { kind: 'Deployment', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['shop', 'x'] }] } }, 'BPF', 'team-a');
    expect(run(rsOwned, index([byDeploySelector, ['BPF']])).res.decisions).toHaveLength(1);
    // The same labels on a bare Pod (no owner) do not make it a Deployment's Pod.
    expect(run(pod({ metadata: { labels: { app: 'shop' } } }), index([byDeploySelector, ['BPF']])).res.decisions).toHaveLength(0);
    expect(run(rsOwned, index([policy('d', { kind: 'Deployment', name: 'shop-7d9f8c6b5' }, 'BPF', 'team-a'), ['BPF']])).res.decisions).toHaveLength(0);

    for (const kind of ['StatefulSet', 'DaemonSet', 'Job']) {
      const owned = pod({ metadata: { name: 'db-0', ownerReferences: [{ apiVersion: 'apps/v1', kind, name: 'db', controller: true }] } });
      expect(run(owned, index([policy('s', { kind, name: 'db' }, 'BPF', 'team-a'), ['BPF']])).res.decisions).toHaveLength(1);
      expect(run(owned, index([policy('s', { kind: 'Deployment', name: 'db' }, 'BPF', 'team-a'), ['BPF']])).res.decisions).toHaveLength(0);
    }
    // A ReplicaSet without a Deployment (no pod-template-hash) stays a ReplicaSet.
    const bareRs = pod({ metadata: { ownerReferences: [{ kind: 'ReplicaSet', name: 'rs-abc', controller: true }] } });
    expect(podWorkloads(bareRs).map((w) => w.kind)).toEqual(['Pod', 'ReplicaSet']);
  });

  it('picks one policy per container by documented priority and reports the conflict', () => {
    const clusterByName = policy('c', { kind: 'Pod', name: 'web' }, 'BPF');
    const nsBySelector = policy('z', { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, 'BPF', 'team-a');
    const nsByName = policy('y', { kind: 'Pod', name: 'web' }, 'BPF', 'team-a');
    const nsByNameA = policy('a', { kind: 'Pod', name: 'web' }, 'BPF', 'team-a');
    // Input order must not matter.
    for (const order of [
      [clusterByName, nsBySelector, nsByName, nsByNameA],
      [nsByNameA, nsByName, nsBySelector, clusterByName],
    ]) {
      const { res } = run(pod(), index(...order.map((p): [AnyPolicy, Enforcer[]] => [p, ['BPF']])));
      // vArmor's order: the cluster policy first, then the namespace's by the tie-breaks.
      expect(res.decisions[0].policy).toBe('VarmorClusterPolicy/c');
      expect(res.conflicts).toEqual([
        { container: 'app', winner: 'VarmorClusterPolicy/c', losers: ['VarmorPolicy/team-a/a', 'VarmorPolicy/team-a/y', 'VarmorPolicy/team-a/z'] },
      ]);
    }
    // Policies for different containers of one Pod do not conflict.
    const forA = policy('pa', { kind: 'Pod', name: 'web', containers: ['a'] }, 'BPF', 'team-a');
    const forB = policy('pb', { kind: 'Pod', name: 'web', containers: ['b'] }, 'BPF', 'team-a');
    const { res, patched } = run(pod({ spec: { containers: [{ name: 'a' }, { name: 'b' }] } }), index([forA, ['BPF']], [forB, ['BPF']]));
    expect(res.conflicts).toEqual([]);
    expect(patched.metadata?.annotations).toEqual({
      'container.bpf.security.beta.varmor.org/a': 'localhost/varmor-team-a-pa',
      'container.bpf.security.beta.varmor.org/b': 'localhost/varmor-team-a-pb',
    });
  });

  it("keeps a container's own Unconfined or Localhost profile, replaces RuntimeDefault", () => {
    const p = pod({
      spec: {
        containers: [
          { name: 'unconf', securityContext: { appArmorProfile: { type: 'Unconfined' }, seccompProfile: { type: 'Unconfined' } } },
          { name: 'own', securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'mine' }, seccompProfile: { type: 'Localhost', localhostProfile: 'mine.json' } } },
          { name: 'rd', securityContext: { appArmorProfile: { type: 'RuntimeDefault' }, seccompProfile: { type: 'RuntimeDefault' } } },
          { name: 'priv', securityContext: { privileged: true } },
        ],
      },
    });
    const { res, patched } = run(p, index([byPodLabel()]));
    const [unconf, own, rd, priv] = res.decisions;
    expect(unconf.applied).toEqual(['BPF']);
    expect(unconf.skipped.map((s) => s.reason)).toEqual(['container sets Unconfined', 'container sets Unconfined']);
    expect(own.applied).toEqual(['BPF']);
    expect(own.skipped.map((s) => s.reason)).toEqual(['container sets its own Localhost profile', 'container sets its own Localhost profile']);
    expect(rd.applied).toEqual(['AppArmor', 'Seccomp', 'BPF']);
    expect(priv.applied).toEqual(['AppArmor', 'BPF']);
    expect(priv.skipped).toEqual([{ enforcer: 'Seccomp', reason: 'privileged container' }]);
    expect(patched.spec.containers[0].securityContext).toEqual(p.spec.containers[0].securityContext);
    expect(patched.spec.containers[1].securityContext).toEqual(p.spec.containers[1].securityContext);
    expect(patched.spec.containers[2].securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-web.json' });
    expect(patched.spec.containers[3].securityContext).toEqual({ privileged: true, appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' } });
    expect(patched.metadata?.annotations?.['container.apparmor.security.beta.varmor.org/unconf']).toBeUndefined();
  });

  it('honours a Pod-level Unconfined profile unless the container sets its own', () => {
    const p = pod({
      spec: {
        securityContext: { appArmorProfile: { type: 'Unconfined' }, seccompProfile: { type: 'Unconfined' } },
        containers: [{ name: 'a' }, { name: 'b', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }],
      },
    });
    const { res } = run(p, index([byPodLabel()]));
    expect(res.decisions[0].applied).toEqual(['BPF']);
    expect(res.decisions[0].skipped.map((s) => s.reason)).toEqual(['pod sets Unconfined', 'pod sets Unconfined']);
    expect(res.decisions[1].applied).toEqual(['Seccomp', 'BPF']);
  });

  it('honours the unconfined opt-out annotations and the legacy AppArmor annotation', () => {
    const p = pod({
      metadata: {
        annotations: {
          'container.bpf.security.beta.varmor.org/a': 'unconfined',
          'container.seccomp.security.beta.varmor.org/a': 'unconfined',
          'container.apparmor.security.beta.kubernetes.io/b': 'unconfined',
          'container.apparmor.security.beta.kubernetes.io/c': 'runtime/default',
        },
      },
      spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
    });
    const { res, patched } = run(p, index([byPodLabel()]));
    expect(res.decisions.map((d) => d.applied)).toEqual([['AppArmor'], ['Seccomp', 'BPF'], ['AppArmor', 'Seccomp', 'BPF']]);
    expect(patched.metadata?.annotations?.['container.bpf.security.beta.varmor.org/a']).toBe('unconfined');
    // runtime/default is replaced in the annotation too, so field and annotation agree.
    expect(patched.metadata?.annotations?.['container.apparmor.security.beta.kubernetes.io/c']).toBe('localhost/varmor-team-a-web');
  });

  it('writes the legacy AppArmor annotation instead of the field for clusters before 1.30', () => {
    const { patched } = run(pod(), index([byPodLabel('AppArmor'), ['AppArmor']]), { appArmor: 'annotation' });
    expect(patched.metadata?.annotations).toEqual({
      'container.apparmor.security.beta.varmor.org/app': 'localhost/varmor-team-a-web',
      'container.apparmor.security.beta.kubernetes.io/app': 'localhost/varmor-team-a-web',
    });
    expect(patched.spec.containers[0].securityContext).toBeUndefined();
    const both = run(pod(), index([byPodLabel('AppArmor'), ['AppArmor']]), { appArmor: 'both' }).patched;
    expect(both.spec.containers[0].securityContext?.appArmorProfile?.type).toBe('Localhost');
    expect(both.metadata?.annotations?.['container.apparmor.security.beta.kubernetes.io/app']).toBe('localhost/varmor-team-a-web');
  });

  it('gives Windows Pods only the BPF annotation and creates metadata when the Pod has none', () => {
    const p: Pod = { spec: { os: { name: 'windows' }, containers: [{ name: 'app' }] } };
    const res = mutatePod({ pod: p, namespace: 'team-a', namespaceLabels: OPTED, policies: index([policy('w', { kind: 'Pod', selector: {} }, 'AppArmorBPFSeccomp')]) });
    expect(res.ops).toEqual([{ op: 'add', path: '/metadata', value: { annotations: { 'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-cluster-varmor-w' } } }]);
  });

  it('does nothing for Pods no policy targets', () => {
    const res = run(pod({ metadata: { labels: { app: 'other' } } }), index([byPodLabel()])).res;
    expect(res).toEqual({ ops: [], optedIn: true, decisions: [], conflicts: [] });
  });

  it('derives the BPF policy id from the same profile name the annotation carries', () => {
    const mp = preparePolicy(byPodLabel(), ALL);
    expect(mp.bpfPolicyId).toBe(bpfPolicyId('varmor-team-a-web'));
  });
});
