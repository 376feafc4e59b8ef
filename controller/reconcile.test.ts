// The reconcile end to end (read, plan, execute) against the in-memory fake of the API server
// (testing/controller/memory-client.ts). The same paths against a real kube-apiserver are in
// e2e/controller/*.test.ts.

import { beforeEach, describe, expect, it } from '@jest/globals';
import type { AnyPolicy, ArmorProfile, ArmorProfileModel, PolicySpec } from '../profiler/api/types.js';
import { ANN_MODEL_BUILT, RESTARTED_AT_ANNOTATION } from '../profiler/api/well-known.js';
import { MemoryKubeClient } from '../testing/controller/memory-client.js';
import { ManualClock } from './clock.js';
import { ANN_RESTART, ANN_RESTARTED, AP_FINALIZER, LABEL_MODEL_OF, LABEL_NODE, POLICY_FINALIZER } from '../profiler/index.js';

import type { Logger } from '../profiler/api/log.js';

import { Reconciler } from './reconcile.js';
import { policySpec } from '../testing/controller/policies.js';

type Line = { level: string; msg: string; fields?: Record<string, unknown> };

const KEY = 'VarmorPolicy/shop/web';
const AP = 'varmor-shop-web';
const T0 = new Date('2026-12-01T10:00:00.000Z');

const spec = policySpec;

let clock: ManualClock;
let kube: MemoryKubeClient;
let lines: Line[];
let reconciler: Reconciler;

beforeEach(() => {
  clock = new ManualClock(T0);
  kube = new MemoryKubeClient(() => clock.now());
  lines = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push({ level, msg, fields });
  const log: Logger = { info: at('info'), warn: at('warn'), error: at('error') };
  reconciler = new Reconciler({
    client: kube,
    productNamespace: 'varmor',
    clock,
    log,
    modelingGraceMs: 120_000,
    listPolicies: () => [
      ...kube.all<AnyPolicy>('VarmorClusterPolicy'),
      ...kube.all<AnyPolicy>('VarmorPolicy'),
    ],
  });
});

const reconcile = (key = KEY) => reconciler.reconcile(key);
const createPolicy = (s: PolicySpec, name = 'web') =>
  kube.seed<AnyPolicy>('VarmorPolicy', {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name, namespace: 'shop' },
    spec: s,
  });
const getPolicy = (name = 'web') => kube.peek<AnyPolicy>('VarmorPolicy', 'shop', name);
const getAp = (name = AP) => kube.peek<ArmorProfile>('ArmorProfile', 'shop', name);
const editPolicy = (edit: (s: PolicySpec) => PolicySpec) =>
  kube.mutate<AnyPolicy>('VarmorPolicy', 'shop', 'web', (p) => ({
    ...p,
    spec: edit(structuredClone(p.spec)),
  }));
const condition = (type: string) => getPolicy()?.status?.conditions?.find((c) => c.type === type);
const writes = () => kube.writes.map((c) => `${c.verb} ${c.kind}${c.name ? ` ${c.name}` : ''}`);
/** THE TEST ACTING AS AN AGENT: this node's entry in the ArmorProfile's status. */
function reportAsAgent(node: string, status: string, name = AP): void {
  kube.mutate<ArmorProfile>('ArmorProfile', 'shop', name, (ap) => {
    const conditions = [
      ...(ap.status?.conditions ?? []).filter((c) => c.nodeName !== node),
      { type: 'Ready', nodeName: node, status },
    ];
    return {
      ...ap,
      status: {
        ...ap.status,
        conditions,
        currentNumberLoaded: conditions.filter((c) => c.status === 'True').length,
      },
    };
  });
}

describe('reconcile: a policy created', () => {
  it('gets its finalizer, an ArmorProfile with ours, and a Pending status with its Events', async () => {
    createPolicy(spec());
    expect(await reconcile()).toEqual({});
    expect(writes()).toEqual([
      'replace VarmorPolicy web',
      'create ArmorProfile varmor-shop-web',
      'replaceStatus VarmorPolicy web',
      'createEvent Event web',
      'createEvent Event web',
      'createEvent Event web',
    ]);
    const p = getPolicy()!;
    expect(p.metadata.finalizers).toEqual([POLICY_FINALIZER]);
    expect(p.status).toMatchObject({ profileName: AP, phase: 'Pending', ready: false });
    const ap = getAp()!;
    expect(ap.metadata.finalizers).toEqual([AP_FINALIZER]);
    expect(ap.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'VarmorPolicy', uid: p.metadata.uid }),
    ]);
    expect(kube.events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'ProfileCreated'],
      ['Normal', 'WaitingForNodes'],
      ['Normal', 'PhasePending'],
    ]);
    expect(kube.events[0]).toMatchObject({
      involvedObject: { kind: 'VarmorPolicy', name: 'web', namespace: 'shop', uid: p.metadata.uid },
      component: 'varmor-controller',
      time: T0.toISOString(),
    });
  });

  it('is idempotent: a second reconcile writes nothing', async () => {
    createPolicy(spec());
    await reconcile();
    kube.resetCalls();
    await reconcile();
    expect(writes()).toEqual([]);
  });

  it('turns Protecting once a node reports the profile loaded', async () => {
    createPolicy(spec());
    await reconcile();
    reportAsAgent('node-1', 'True');
    await reconcile();
    expect(getPolicy()?.status).toMatchObject({ phase: 'Protecting', ready: true });
  });

  it('converges an ArmorProfile that a create finds already there (an earlier run whose reply was lost)', async () => {
    createPolicy(spec());
    await reconcile();
    const ap = getAp()!;
    kube.mutate<ArmorProfile>('ArmorProfile', 'shop', AP, (a) => ({
      ...a,
      metadata: { ...a.metadata, finalizers: [] },
    }));
    await kube.delete('ArmorProfile', 'shop', AP);
    kube.mutate<AnyPolicy>('VarmorPolicy', 'shop', 'web', (p) => ({ ...p, status: undefined }));
    kube.beforeNext('create', 'ArmorProfile', () => {
      kube.seed<ArmorProfile>('ArmorProfile', {
        ...ap,
        metadata: { ...ap.metadata, uid: undefined, resourceVersion: undefined, labels: {} },
        status: { conditions: [{ type: 'Ready', nodeName: 'node-1', status: 'True' }] },
      });
    });
    kube.resetCalls();
    await reconcile();
    expect(writes().slice(0, 3)).toEqual([
      'create ArmorProfile varmor-shop-web',
      'replace ArmorProfile varmor-shop-web',
      'replaceStatus VarmorPolicy web',
    ]);
    expect(getAp()?.metadata.labels).toEqual(ap.metadata.labels);
    // The status describes the ArmorProfile that is there, with its node entry.
    expect(getPolicy()?.status).toMatchObject({ phase: 'Protecting', ready: true });
  });
});

describe('reconcile: a policy updated', () => {
  it('updates the ArmorProfile and clears the node entries about the old profile', async () => {
    createPolicy(spec());
    await reconcile();
    reportAsAgent('node-1', 'True');
    await reconcile();
    const before = getAp()!;
    editPolicy((s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disable-cap-all'] } },
    }));
    kube.resetCalls();
    await reconcile();
    expect(writes().slice(0, 3)).toEqual([
      'replace ArmorProfile varmor-shop-web',
      'replaceStatus ArmorProfile varmor-shop-web',
      'replaceStatus VarmorPolicy web',
    ]);
    const after = getAp()!;
    expect(after.spec.profile).not.toEqual(before.spec.profile);
    expect(after.status).toEqual({ conditions: [], currentNumberLoaded: 0 });
    expect(condition('Updated')).toMatchObject({ status: 'True', reason: 'ProfileUpdated' });
    expect(getPolicy()?.status).toMatchObject({ phase: 'Pending', ready: false });
  });

  it('without permission to clear the node entries, warns and reports what is there', async () => {
    createPolicy(spec());
    await reconcile();
    reportAsAgent('node-1', 'True');
    editPolicy((s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disable-cap-all'] } },
    }));
    kube.failNext('replaceStatus', 'ArmorProfile', 403, 'Forbidden');
    await reconcile();
    expect(lines.map((l) => l.msg)).toContain(
      'cannot clear stale node entries: no update permission on armorprofiles/status',
    );
    expect(getAp()?.status?.conditions).toHaveLength(1);
    expect(getPolicy()?.status).toMatchObject({ phase: 'Protecting', ready: true });
  });

  it('restarts the targeted workloads once per generation, and again on the next change', async () => {
    kube.addWorkload('Deployment', 'shop', 'web', { app: 'web' });
    kube.addWorkload('Deployment', 'shop', 'bystander', { app: 'other' });
    createPolicy(
      spec({
        target: { kind: 'Deployment', selector: { matchLabels: { app: 'web' } } },
        updateExistingWorkloads: true,
      }),
    );
    await reconcile();
    const first = kube.workload('Deployment', 'shop', 'web')!;
    expect(first.templateAnnotations[RESTARTED_AT_ANNOTATION]).toBe(T0.toISOString());
    expect(kube.workload('Deployment', 'shop', 'bystander')?.generation).toBe(1);
    expect(getAp()?.metadata.annotations).toMatchObject({
      [ANN_RESTART]: `1@${T0.toISOString()}`,
      [ANN_RESTARTED]: '1',
    });
    expect(kube.events.find((e) => e.reason === 'WorkloadsRestarted')?.message).toBe(
      'restarted Deployment shop/web',
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'restarted workload',
        fields: { policy: 'web', namespace: 'shop', kind: 'Deployment', name: 'web' },
      }),
    );

    await reconcile();
    expect(kube.workload('Deployment', 'shop', 'web')?.generation).toBe(first.generation);

    clock.advance(60_000);
    editPolicy((s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disable-cap-all'] } },
    }));
    await reconcile();
    const second = kube.workload('Deployment', 'shop', 'web')!;
    expect(second.templateAnnotations[RESTARTED_AT_ANNOTATION]).toBe(clock.now().toISOString());
    expect(second.generation).toBe(first.generation + 1);
    expect(getAp()?.metadata.annotations?.[ANN_RESTARTED]).toBe('2');
  });

  it('a crash after the restart and before it is recorded does not roll the workload twice', async () => {
    kube.addWorkload('Deployment', 'shop', 'web', { app: 'web' });
    createPolicy(spec({ updateExistingWorkloads: true }));
    kube.beforeNext('restartWorkload', undefined, () => kube.failNext('replace', 'ArmorProfile', 500));
    await expect(reconcile()).rejects.toThrow(/injected 500/);
    const stamped = kube.workload('Deployment', 'shop', 'web')!;
    expect(getAp()?.metadata.annotations?.[ANN_RESTARTED]).toBeUndefined();
    clock.advance(60_000);
    await reconcile();
    expect(kube.workload('Deployment', 'shop', 'web')).toEqual(stamped);
    expect(getAp()?.metadata.annotations?.[ANN_RESTARTED]).toBe('1');
  });

  it('refuses an enforcer change that removes AppArmor (immutability) and keeps the ArmorProfile', async () => {
    createPolicy(spec());
    await reconcile();
    const before = getAp()!;
    editPolicy((s) => ({ ...s, policy: { ...s.policy, enforcer: 'BPF' } }));
    kube.resetCalls();
    await reconcile();
    expect(writes().filter((w) => w.includes('ArmorProfile'))).toEqual([]);
    expect(getAp()).toEqual(before);
    expect(condition('Updated')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(condition('Updated')?.message).toContain('spec.policy.enforcer');
    expect(getPolicy()?.status?.phase).toBe('Error');
    expect(kube.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Forbidden' }));
  });

  it('a stale write fails the reconcile (to be retried) and the retry converges', async () => {
    createPolicy(spec());
    await reconcile();
    editPolicy((s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disable-cap-all'] } },
    }));
    kube.failNext('replace', 'ArmorProfile', 409, 'Conflict');
    await expect(reconcile()).rejects.toMatchObject({ status: 409 });
    await reconcile();
    expect(condition('Updated')).toMatchObject({ status: 'True' });
  });

  it('a lost Event does not fail the reconcile', async () => {
    createPolicy(spec());
    kube.failNext('createEvent', undefined, 500);
    await reconcile();
    expect(lines.map((l) => l.msg)).toContain('could not record an event');
    expect(kube.events.map((e) => e.reason)).toEqual(['WaitingForNodes', 'PhasePending']);
  });

  it('an ArmorProfile deleted under a live policy is let go, then re-created', async () => {
    createPolicy(spec());
    await reconcile();
    const uid = getAp()?.metadata.uid;
    await kube.delete('ArmorProfile', 'shop', AP);
    await expect(reconcile()).rejects.toThrow('was being deleted; re-creating it');
    expect(getAp()).toBeUndefined();
    await reconcile();
    expect(getAp()?.metadata.uid).not.toBe(uid);
  });
});

describe('reconcile: a policy deleted', () => {
  it('restarts its workloads, deletes its ArmorProfile and leftover uploads, and releases both finalizers', async () => {
    kube.addWorkload('Deployment', 'shop', 'web', { app: 'web' });
    createPolicy(spec({ updateExistingWorkloads: true }));
    await reconcile();
    kube.seed<ArmorProfileModel>('ArmorProfileModel', {
      apiVersion: 'crd.varmor.org/v1beta1',
      kind: 'ArmorProfileModel',
      metadata: {
        name: `${AP}.node-1`,
        namespace: 'shop',
        labels: { [LABEL_MODEL_OF]: AP, [LABEL_NODE]: 'node-1' },
      },
      data: {},
    });
    clock.advance(60_000);
    await kube.delete('VarmorPolicy', 'shop', 'web');
    const deletedAt = getPolicy()?.metadata.deletionTimestamp;
    kube.resetCalls();
    await reconcile();
    expect(writes()).toEqual([
      'restartWorkload Deployment web',
      'replace ArmorProfile varmor-shop-web',
      'delete ArmorProfile varmor-shop-web',
      'delete ArmorProfileModel varmor-shop-web.node-1',
      'replace VarmorPolicy web',
    ]);
    expect(kube.workload('Deployment', 'shop', 'web')?.templateAnnotations[RESTARTED_AT_ANNOTATION]).toBe(
      deletedAt,
    );
    expect(getPolicy()).toBeUndefined();
    expect(getAp()).toBeUndefined();
    expect(kube.all('ArmorProfileModel')).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain('policy deleted; ArmorProfile removed');
  });

  it('removes the ArmorProfile of a policy that went without its finalizer', async () => {
    createPolicy(spec());
    await reconcile();
    kube.mutate<AnyPolicy>('VarmorPolicy', 'shop', 'web', (p) => ({
      ...p,
      metadata: { ...p.metadata, finalizers: [] },
    }));
    await kube.delete('VarmorPolicy', 'shop', 'web');
    await reconcile();
    expect(getAp()).toBeUndefined();
    expect(lines.map((l) => l.msg)).toContain('removing the ArmorProfile of a deleted policy');
  });
});

describe('reconcile: a policy deleted with updateExistingWorkloads while pods still use its profile (issue 16, item 7)', () => {
  /** A pod of Deployment shop/web (through ReplicaSet web-<hash>), created now, using `profiles`. */
  const pod = (name: string, hash: string, profiles: string[] = [AP]) =>
    kube.addPod({
      namespace: 'shop',
      name,
      created: clock.now().toISOString(),
      phase: 'Running',
      workload: { kind: 'Deployment', name: 'web' },
      profiles,
    });
  const stampOf = () => kube.workload('Deployment', 'shop', 'web')?.templateAnnotations[RESTARTED_AT_ANNOTATION];
  const deleting = (cond = 'Deleting') => getPolicy()?.status?.conditions?.find((c) => c.type === cond);

  beforeEach(async () => {
    kube.addWorkload('Deployment', 'shop', 'web', { app: 'web' });
    createPolicy(spec({ updateExistingWorkloads: true }));
    await reconcile();
    pod('web-aaa-1', 'aaa');
    clock.advance(60_000);
    await kube.delete('VarmorPolicy', 'shop', 'web');
  });

  it('keeps the ArmorProfile (so the agents keep the Seccomp file) until no pod references the profile, and says why', async () => {
    const deletedAt = getPolicy()?.metadata.deletionTimestamp;
    const r = await reconcile();
    expect(stampOf()).toBe(deletedAt);
    expect(getAp()).toBeDefined();
    expect(getAp()?.metadata.deletionTimestamp).toBeUndefined();
    expect(getPolicy()?.metadata.finalizers).toEqual([POLICY_FINALIZER]);
    expect(deleting()).toMatchObject({ status: 'True', reason: 'WaitingForPods' });
    expect(deleting()?.message).toContain('shop/web-aaa-1');
    expect(kube.events.map((e) => e.reason)).toContain('WaitingForPods');
    expect(r.requeueAfterMs).toBeGreaterThan(0);

    // the rollout replaces the pod with one without the profile: now the ArmorProfile goes
    kube.removePod('shop', 'web-aaa-1');
    clock.advance(5_000);
    pod('web-bbb-1', 'bbb', []);
    await reconcile();
    expect(getAp()).toBeUndefined();
    expect(getPolicy()).toBeUndefined();
    expect(stampOf()).toBe(deletedAt); // no second rollout was needed
  });

  it('restarts again a workload whose NEW pods still got the profile (the webhook lagged), at most 3 rounds', async () => {
    await reconcile();
    const first = stampOf();
    kube.removePod('shop', 'web-aaa-1');
    clock.advance(5_000);
    pod('web-bbb-1', 'bbb'); // created after the restart, still referencing: webhook lag
    await reconcile();
    const second = stampOf();
    expect(second).not.toBe(first);
    expect(second).toBe(clock.now().toISOString());
    expect(kube.events.filter((e) => e.reason === 'RestartRepeated')).toHaveLength(1);
    expect(getAp()).toBeDefined();
    // a retry of the same round (crash, requeue) does not roll again
    await reconcile();
    expect(stampOf()).toBe(second);
    for (let round = 3; round <= 5; round++) {
      kube.removePod('shop', `web-${round - 1}`);
      kube.removePod('shop', 'web-bbb-1');
      clock.advance(5_000);
      pod(`web-${round}`, `h${round}`);
      await reconcile();
    }
    expect(kube.events.filter((e) => e.reason === 'RestartRepeated')).toHaveLength(2); // rounds 2 and 3
    expect(deleting()?.message).toContain('restarted 3 times');
    expect(getAp()).toBeDefined();
  });

  it('gives up waiting after the deletion wait (default 10 minutes) with a Warning, and deletes', async () => {
    await reconcile();
    clock.advance(11 * 60_000);
    await reconcile();
    expect(getAp()).toBeUndefined();
    expect(getPolicy()).toBeUndefined();
    expect(kube.events.find((e) => e.reason === 'PodsStillReference')).toMatchObject({ type: 'Warning' });
  });
});

describe('reconcile: BehaviorModeling', () => {
  const upload = (node: string, dynamicResult: NonNullable<ArmorProfileModel['data']['dynamicResult']>) =>
    kube.seed<ArmorProfileModel>('ArmorProfileModel', {
      apiVersion: 'crd.varmor.org/v1beta1',
      kind: 'ArmorProfileModel',
      metadata: {
        name: `${AP}.${node}`,
        namespace: 'shop',
        labels: { [LABEL_MODEL_OF]: AP, [LABEL_NODE]: node },
      },
      data: { dynamicResult },
      storageType: 'CRDInternal',
    });

  it('records, waits for every node, merges their records into the model and completes', async () => {
    createPolicy({
      target: { kind: 'Deployment', name: 'web' },
      policy: { enforcer: 'AppArmorSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
    });
    expect(await reconcile()).toEqual({ requeueAfterMs: 30 * 60_000 });
    expect(writes().slice(0, 3)).toEqual([
      'replace VarmorPolicy web',
      'create ArmorProfileModel varmor-shop-web',
      'create ArmorProfile varmor-shop-web',
    ]);
    expect(getAp()?.spec.behaviorModeling).toEqual({ enable: true, duration: 30 });
    reportAsAgent('node-1', 'True');
    reportAsAgent('node-2', 'True');

    clock.advance(31 * 60_000);
    await reconcile();
    expect(getAp()?.spec.behaviorModeling?.enable).toBe(false);
    expect(condition('Modeling')?.message).toBe('modelling ended; waiting for records from node-1, node-2');

    upload('node-1', {
      appArmor: { executions: ['/usr/sbin/nginx'] },
      seccomp: { syscalls: ['read', 'write'] },
    });
    upload('node-2', {
      appArmor: { capabilities: ['net_bind_service'] },
      seccomp: { syscalls: ['accept4', 'read'] },
    });
    await reconcile();
    const model = kube.peek<ArmorProfileModel>('ArmorProfileModel', 'shop', AP)!;
    expect(model.metadata.annotations?.[ANN_MODEL_BUILT]).toBe(clock.now().toISOString());
    expect(model.data.dynamicResult).toEqual({
      appArmor: { executions: ['/usr/sbin/nginx'], capabilities: ['net_bind_service'] },
      seccomp: { syscalls: ['accept4', 'read', 'write'] },
    });
    expect(model.data.profile).toMatchObject({
      name: AP,
      enforcer: 'AppArmorSeccomp',
      mode: 'DefenseInDepth',
    });
    expect(model.status).toEqual({ desiredNumber: 2, completedNumber: 2, ready: true });
    expect(kube.all<ArmorProfileModel>('ArmorProfileModel').map((m) => m.metadata.name)).toEqual([AP]);
    expect(getAp()?.spec.profile.mode).toBe('AlwaysAllow');
    expect(getPolicy()?.status?.phase).toBe('Completed');

    editPolicy(() => ({
      target: { kind: 'Deployment', name: 'web' },
      policy: {
        enforcer: 'AppArmorSeccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: {
          appArmor: { profileType: 'BehaviorModel' },
          seccomp: { profileType: 'BehaviorModel' },
        },
      },
    }));
    await reconcile();
    expect(getAp()?.spec.profile.mode).toBe('DefenseInDepth');
    expect(JSON.parse(getAp()?.spec.profile.seccompContent ?? '{}').syscalls).toBeDefined();
  });

  it('a run in progress cannot be left', async () => {
    createPolicy({
      target: { kind: 'Deployment', name: 'web' },
      policy: { enforcer: 'Seccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
    });
    await reconcile();
    editPolicy((s) => ({
      ...s,
      policy: {
        enforcer: 'Seccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } },
      },
    }));
    await reconcile();
    await reconcile();
    expect(condition('Updated')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(condition('Updated')?.message).toContain('spec.policy.mode');
    expect(getAp()?.spec.profile.mode).toBe('BehaviorModeling');
  });
});
