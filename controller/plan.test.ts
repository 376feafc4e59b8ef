import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, ArmorProfile, ArmorProfileModel, PolicySpec } from '../profiler/api/types.js';
import { ANN_MODE, ANN_MODELING_START, ANN_RESTART, ANN_RESTARTED, AP_FINALIZER, LABEL_MODEL_OF, LABEL_NODE, LABEL_POLICY_KIND, LABEL_POLICY_NAME, LABEL_POLICY_NAMESPACE, POLICY_FINALIZER } from '../profiler/index.js';

import { armorProfileSteps, planPolicy, readsFor, type Observed, type Plan, type Step } from './plan.js';
import { ANN_MODEL_BUILT } from '../profiler/api/well-known.js';
import { policySpec } from '../testing/controller/policies.js';
import { findCollidingName } from '../testing/fnv-collide.js';
import { bpfPolicyId, decodeTables, staticEgressView } from '../profiler/index.js';

const now = new Date('2026-12-01T10:00:00.000Z');
const opts = { productNamespace: 'varmor', modelingGraceMs: 120_000 };
const ref = { kind: 'VarmorPolicy' as const, namespace: 'shop', name: 'web' };
const AP_NAME = 'varmor-shop-web';

const spec = policySpec;

function policy(s: PolicySpec = spec(), meta: Partial<AnyPolicy['metadata']> = {}): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      generation: 1,
      finalizers: [POLICY_FINALIZER],
      ...meta,
    },
    spec: s,
  };
}

function observed(o: Partial<Observed> = {}): Observed {
  return { ref, policy: policy(), policies: [], now, ...o };
}

const ops = (p: Plan) => p.steps.map((s) => s.op);
function step<K extends Step['op']>(p: Plan, op: K): Extract<Step, { op: K }> {
  const s = p.steps.find((x) => x.op === op);
  if (!s) throw new Error(`no ${op} step in ${ops(p).join(', ')}`);
  return s as Extract<Step, { op: K }>;
}
const cond = (p: Plan, type: string) => step(p, 'status').status.conditions?.find((c) => c.type === type);

/** The ArmorProfile the plan creates for this policy, as the server would store it. */
function storedAp(p: AnyPolicy, status?: ArmorProfile['status'], o: Partial<Observed> = {}): ArmorProfile {
  const created = step(planPolicy(observed({ policy: p, ...o }), opts), 'createArmorProfile').object;
  return {
    ...created,
    metadata: { ...created.metadata, uid: 'ap-1', resourceVersion: '7' },
    ...(status ? { status } : {}),
  };
}
const loaded = (node: string) => ({ type: 'Ready', nodeName: node, status: 'True' });

describe('planPolicy: a live policy', () => {
  it('adds the finalizer first and asks to plan again with the written policy', () => {
    const p = planPolicy(observed({ policy: policy(spec(), { finalizers: [] }) }), opts);
    expect(ops(p)).toEqual(['replacePolicy']);
    expect(step(p, 'replacePolicy').object.metadata.finalizers).toEqual([POLICY_FINALIZER]);
    expect(p.replan).toBe(true);
  });

  it('creates the ArmorProfile with our finalizer, labels and owner, and reports Pending', () => {
    const p = planPolicy(observed(), opts);
    expect(ops(p)).toEqual(['createArmorProfile', 'status']);
    expect(p.replan).toBeUndefined();
    const ap = step(p, 'createArmorProfile').object;
    expect(ap.metadata).toMatchObject({
      name: AP_NAME,
      namespace: 'shop',
      finalizers: [AP_FINALIZER],
      labels: {
        [LABEL_POLICY_KIND]: 'VarmorPolicy',
        [LABEL_POLICY_NAME]: 'web',
        [LABEL_POLICY_NAMESPACE]: 'shop',
      },
      ownerReferences: [expect.objectContaining({ kind: 'VarmorPolicy', uid: 'u-1', controller: true })],
    });
    expect(ap.metadata.annotations?.[ANN_MODE]).toBe('EnhanceProtect');
    expect(ap.spec.profile.mode).toBe('EnhanceProtect');
    const s = step(p, 'status');
    expect(s.changed).toBe(true);
    expect(s.status).toMatchObject({ profileName: AP_NAME, phase: 'Pending', ready: false });
    expect(s.events.map((e) => e.reason)).toEqual(['ProfileCreated', 'WaitingForNodes', 'PhasePending']);
  });

  it('writes nothing once the ArmorProfile and the status are as they should be', () => {
    const first = planPolicy(
      observed({ armorProfile: storedAp(policy(), { conditions: [loaded('n1')] }) }),
      opts,
    );
    const settled = policy(spec(), {});
    settled.status = step(first, 'status').status;
    const p = planPolicy(
      observed({ policy: settled, armorProfile: storedAp(policy(), { conditions: [loaded('n1')] }) }),
      opts,
    );
    expect(ops(p)).toEqual(['status']);
    expect(step(p, 'status').changed).toBe(false);
    expect(step(p, 'status').status).toMatchObject({ phase: 'Protecting', ready: true });
  });

  it('an update converges the ArmorProfile and clears the node entries about the old profile', () => {
    const ap = storedAp(policy(), { conditions: [loaded('n1')], currentNumberLoaded: 1 });
    const changed = policy(
      spec({
        policy: {
          enforcer: 'AppArmorBPF',
          mode: 'EnhanceProtect',
          enhanceProtect: { hardeningRules: ['disable-cap-all'] },
        },
      }),
      { generation: 2 },
    );
    const p = planPolicy(observed({ policy: changed, armorProfile: ap }), opts);
    expect(ops(p)).toEqual(['updateArmorProfile', 'status']);
    const u = step(p, 'updateArmorProfile');
    expect(u.clearNodeEntries).toBe(true);
    expect(u.object.metadata.resourceVersion).toBe('7');
    expect(u.object.spec.profile).not.toEqual(ap.spec.profile);
    // Computed from the ArmorProfile as the update leaves it: no node has loaded the new profile.
    expect(step(p, 'status').status).toMatchObject({ phase: 'Pending', ready: false });
    expect(cond(p, 'Updated')).toMatchObject({ status: 'True', reason: 'ProfileUpdated' });
  });

  it('a metadata-only change does not clear the node entries', () => {
    const ap = storedAp(policy(), { conditions: [loaded('n1')] });
    ap.metadata.labels = {};
    const u = step(planPolicy(observed({ armorProfile: ap }), opts), 'updateArmorProfile');
    expect(u.clearNodeEntries).toBe(false);
  });

  it('refuses a change of target against the spec the ArmorProfile was built from, and leaves it alone', () => {
    const ap = storedAp(policy());
    const moved = policy(spec({ target: { kind: 'Deployment', name: 'other' } }), { generation: 2 });
    const p = planPolicy(observed({ policy: moved, armorProfile: ap }), opts);
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Updated')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(cond(p, 'Updated')?.message).toContain('spec.target');
    expect(step(p, 'status').status.phase).toBe('Error');
  });

  it('refuses removing an enforcer (immutability) even when the webhook let it through', () => {
    const ap = storedAp(policy());
    const narrowed = policy(
      spec({
        policy: {
          enforcer: 'BPF',
          mode: 'EnhanceProtect',
          enhanceProtect: { hardeningRules: ['disallow-mount'] },
        },
      }),
      { generation: 2 },
    );
    const p = planPolicy(observed({ policy: narrowed, armorProfile: ap }), opts);
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Updated')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(cond(p, 'Updated')?.message).toContain('spec.policy.enforcer');
    expect(step(p, 'status').events).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'Forbidden' }),
    );
  });

  it('a policy the rules refuse gets no ArmorProfile and a status that says why', () => {
    const bad = policy({
      target: { kind: 'Deployment', name: 'web' },
      policy: {
        enforcer: 'AppArmorBPF',
        mode: 'DefenseInDepth',
        defenseInDepth: { appArmor: { profileType: 'Custom', customProfile: 'file,' } },
      },
    });
    const p = planPolicy(observed({ policy: bad }), opts);
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Created')).toMatchObject({ status: 'False', reason: 'Forbidden' });
  });

  it('an ArmorProfile being deleted under a live policy: release our finalizer and fail, to re-create on retry', () => {
    const ap = storedAp(policy());
    ap.metadata.deletionTimestamp = '2026-12-01T09:00:00Z';
    const p = planPolicy(observed({ armorProfile: ap }), opts);
    expect(ops(p)).toEqual(['replaceArmorProfile', 'fail']);
    expect(step(p, 'replaceArmorProfile').object.metadata.finalizers).toEqual([]);
    expect(step(p, 'fail').message).toBe(`ArmorProfile shop/${AP_NAME} was being deleted; re-creating it`);
  });

  it('reports overlapping policies', () => {
    const other = policy(
      spec({ target: { kind: 'Deployment', selector: { matchLabels: { app: 'web' } } } }),
      {
        name: 'other',
      },
    );
    const p = planPolicy(
      observed({
        policies: [policy(), other],
        allWorkloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web', labels: { app: 'web' } }],
      }),
      opts,
    );
    expect(cond(p, 'Conflicted')).toMatchObject({ status: 'True', reason: 'TargetOverlap' });
    expect(cond(p, 'Conflicted')?.message).toContain('VarmorPolicy/shop/other (Deployment shop/web)');
  });
});

describe('planPolicy: egress to Services and Pods', () => {
  const egress = policy(
    spec({
      policy: {
        enforcer: 'BPF',
        mode: 'EnhanceProtect',
        enhanceProtect: { privileged: true, attackProtectionRules: [{ rules: ['block-access-to-kube-apiserver'] }] },
      },
    }),
  );
  const cluster = (endpoint: string): Observed['egress'] =>
    staticEgressView({
      services: [{ namespace: 'default', name: 'kubernetes', labels: {}, clusterIPs: ['10.96.0.1'] }],
      endpointSlices: [{ namespace: 'default', service: 'kubernetes', addresses: [endpoint], ports: [6443] }],
    });
  const addrs = (ap: ArmorProfile) => decodeTables(Buffer.from(ap.spec.profile.bpfContent ?? '', 'base64')).net.map((n) => n.addr);

  it('compiles the addresses the cluster holds into the ArmorProfile', () => {
    const ap = step(planPolicy(observed({ policy: egress, egress: cluster('192.168.1.10') }), opts), 'createArmorProfile').object;
    expect(addrs(ap).sort()).toEqual(['10.96.0.1', '192.168.1.10']);
  });

  it('an endpoint change updates the ArmorProfile; the same cluster writes nothing', () => {
    const ap = storedAp(egress, undefined, { egress: cluster('192.168.1.10') });
    const same = planPolicy(observed({ policy: egress, armorProfile: ap, egress: cluster('192.168.1.10') }), opts);
    expect(ops(same)).not.toContain('updateArmorProfile');
    const moved = planPolicy(observed({ policy: egress, armorProfile: ap, egress: cluster('192.168.1.11') }), opts);
    expect(addrs(step(moved, 'updateArmorProfile').object)).toContain('192.168.1.11');
  });
});

describe('planPolicy: updateExistingWorkloads', () => {
  const workloads = [
    { kind: 'Deployment', namespace: 'shop', name: 'web', labels: { app: 'web' } },
    { kind: 'Deployment', namespace: 'shop', name: 'bystander', labels: { app: 'other' } },
  ];
  const restarting = policy(spec({ updateExistingWorkloads: true }));

  it('stores the stamp on the ArmorProfile, restarts the targeted workloads only, then marks the generation done', () => {
    const p = planPolicy(observed({ policy: restarting, workloads }), opts);
    expect(ops(p)).toEqual(['createArmorProfile', 'restartWorkload', 'event', 'markRestarted', 'status']);
    expect(step(p, 'createArmorProfile').object.metadata.annotations?.[ANN_RESTART]).toBe(
      `1@${now.toISOString()}`,
    );
    expect(step(p, 'restartWorkload')).toMatchObject({
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      stamp: now.toISOString(),
    });
    expect(step(p, 'event')).toMatchObject({
      reason: 'WorkloadsRestarted',
      message: 'restarted Deployment shop/web',
    });
    expect(step(p, 'markRestarted').generation).toBe('1');
  });

  it('a retry of the same generation reuses the stored stamp: no second rollout', () => {
    const ap = storedAp(restarting);
    ap.metadata.annotations = { ...ap.metadata.annotations, [ANN_RESTART]: '1@2026-11-30T00:00:00.000Z' };
    const p = planPolicy(observed({ policy: restarting, workloads, armorProfile: ap }), opts);
    expect(step(p, 'restartWorkload').stamp).toBe('2026-11-30T00:00:00.000Z');
  });

  it('does nothing once the generation is marked restarted, and never for bare Pods', () => {
    const ap = storedAp(restarting);
    ap.metadata.annotations = { ...ap.metadata.annotations, [ANN_RESTARTED]: '1' };
    expect(readsFor(restarting, ap, []).workloads).toBe(false);
    expect(ops(planPolicy(observed({ policy: restarting, armorProfile: ap }), opts))).toEqual(['status']);
    const pod = policy(spec({ target: { kind: 'Pod', name: 'lonely' }, updateExistingWorkloads: true }));
    expect(readsFor(pod, undefined, []).workloads).toBe(false);
    expect(ops(planPolicy(observed({ policy: pod }), opts))).toEqual(['createArmorProfile', 'status']);
  });
});

describe('planPolicy: deletion', () => {
  const deleting = policy(spec({ updateExistingWorkloads: true }), {
    deletionTimestamp: '2026-12-01T09:59:00Z',
  });
  const upload = (name: string): ArmorProfileModel => ({
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'ArmorProfileModel',
    metadata: { name, namespace: 'shop', labels: { [LABEL_MODEL_OF]: AP_NAME } },
    data: {},
  });

  it('restarts with the deletion time, releases and deletes the ArmorProfile and the uploads, then lets go', () => {
    const p = planPolicy(
      observed({
        policy: deleting,
        armorProfile: storedAp(policy()),
        workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }],
        models: [upload(AP_NAME), upload(`${AP_NAME}.n1`)],
      }),
      opts,
    );
    expect(ops(p)).toEqual([
      'restartWorkload',
      'replaceArmorProfile',
      'delete',
      'delete',
      'replacePolicy',
      'log',
    ]);
    expect(step(p, 'restartWorkload').stamp).toBe('2026-12-01T09:59:00Z');
    expect(p.steps.filter((s) => s.op === 'delete')).toEqual([
      { op: 'delete', kind: 'ArmorProfile', namespace: 'shop', name: AP_NAME },
      { op: 'delete', kind: 'ArmorProfileModel', namespace: 'shop', name: `${AP_NAME}.n1` },
    ]);
    expect(step(p, 'replacePolicy').object.metadata.finalizers).toEqual([]);
  });

  it('does nothing without our finalizer', () => {
    const p = planPolicy(
      observed({ policy: { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } } }),
      opts,
    );
    expect(p.steps).toEqual([]);
  });

  it('a policy gone without its finalizer takes only an ArmorProfile labelled as its own', () => {
    const ap = storedAp(policy());
    expect(ops(planPolicy(observed({ policy: undefined, armorProfile: ap }), opts))).toEqual([
      'log',
      'replaceArmorProfile',
      'delete',
    ]);
    const foreign = {
      ...ap,
      metadata: { ...ap.metadata, labels: { ...ap.metadata.labels, [LABEL_POLICY_NAMESPACE]: 'x' } },
    };
    expect(planPolicy(observed({ policy: undefined, armorProfile: foreign }), opts).steps).toEqual([]);
    expect(planPolicy(observed({ policy: undefined }), opts).steps).toEqual([]);
  });
});

describe('planPolicy: BehaviorModeling', () => {
  const modeling = policy({
    target: { kind: 'Deployment', name: 'web' },
    policy: { enforcer: 'AppArmorSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
  });
  const emptyModel: ArmorProfileModel = {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'ArmorProfileModel',
    metadata: { name: AP_NAME, namespace: 'shop', resourceVersion: '3' },
    data: {},
  };
  const upload = (
    node: string,
    dynamicResult: NonNullable<ArmorProfileModel['data']['dynamicResult']>,
  ): ArmorProfileModel => ({
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'ArmorProfileModel',
    metadata: {
      name: `${AP_NAME}.${node}`,
      namespace: 'shop',
      labels: { [LABEL_MODEL_OF]: AP_NAME, [LABEL_NODE]: node },
    },
    data: { dynamicResult },
  });

  it('creates the merged model first and plans again with it', () => {
    const p = planPolicy(observed({ policy: modeling, models: [] }), opts);
    expect(ops(p)).toEqual(['createModel']);
    expect(p.replan).toBe(true);
  });

  it('records until start + duration, and asks to be reconciled at the deadline', () => {
    const p = planPolicy(observed({ policy: modeling, model: emptyModel, models: [] }), opts);
    expect(ops(p)).toEqual(['createArmorProfile', 'status']);
    const ap = step(p, 'createArmorProfile').object;
    expect(ap.spec.behaviorModeling).toEqual({ enable: true, duration: 30 });
    expect(ap.metadata.annotations?.[ANN_MODELING_START]).toBe(now.toISOString());
    expect(p.requeueAfterMs).toBe(30 * 60_000);
    expect(step(p, 'status').status.phase).toBe('Modeling');
  });

  it('once every node has uploaded: merges the records into the model, deletes the uploads, stops confining', () => {
    const start = new Date(now.getTime() - 31 * 60_000).toISOString();
    const ap = storedAp(modeling, { conditions: [loaded('n1'), loaded('n2')] }, { model: emptyModel });
    ap.metadata.annotations = {
      ...ap.metadata.annotations,
      [ANN_MODELING_START]: start,
      [ANN_MODE]: 'BehaviorModeling',
    };
    const p = planPolicy(
      observed({
        policy: modeling,
        armorProfile: ap,
        model: emptyModel,
        models: [
          emptyModel,
          upload('n1', { appArmor: { executions: ['/bin/a'] }, seccomp: { syscalls: ['read'] } }),
          upload('n2', { appArmor: { executions: ['/bin/b'] }, seccomp: { syscalls: ['write'] } }),
        ],
      }),
      opts,
    );
    expect(ops(p)).toEqual(['buildModel', 'log', 'delete', 'delete', 'updateArmorProfile', 'status']);
    const built = step(p, 'buildModel');
    expect(built.object.metadata.resourceVersion).toBe('3');
    expect(built.object.metadata.annotations?.[ANN_MODEL_BUILT]).toBe(now.toISOString());
    expect(built.object.data.dynamicResult).toEqual({
      appArmor: { executions: ['/bin/a', '/bin/b'] },
      seccomp: { syscalls: ['read', 'write'] },
    });
    expect(built.object.data.profile).toMatchObject({
      name: AP_NAME,
      enforcer: 'AppArmorSeccomp',
      mode: 'DefenseInDepth',
    });
    expect(built.status).toEqual({ desiredNumber: 2, completedNumber: 2, ready: true });
    expect(step(p, 'updateArmorProfile').object.spec.profile.mode).toBe('AlwaysAllow');
    expect(step(p, 'updateArmorProfile').object.spec.behaviorModeling?.enable).toBe(false);
    expect(cond(p, 'Modeling')).toMatchObject({ reason: 'Completed' });
  });

  it('DefenseInDepth over a model that is not built yet is an error that says what to do', () => {
    const p = planPolicy(
      observed({
        policy: policy({
          target: { kind: 'Deployment', name: 'web' },
          policy: {
            enforcer: 'Seccomp',
            mode: 'DefenseInDepth',
            defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } },
          },
        }),
        model: emptyModel,
      }),
      opts,
    );
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', reason: 'ModelNotReady' });
  });
});

describe('readsFor and armorProfileSteps', () => {
  it('reads the models only for modelling, the workloads only for a restart or an overlap check', () => {
    expect(readsFor(policy(), undefined, [policy()])).toEqual({
      model: false,
      models: false,
      workloads: false,
      allWorkloads: false,
      pods: false,
    });
    expect(readsFor(policy(), undefined, [policy(), policy(spec(), { name: 'b' })]).allWorkloads).toBe(true);
    expect(readsFor(undefined, undefined, [])).toEqual({
      model: false,
      models: false,
      workloads: false,
      allWorkloads: false,
      pods: false,
    });
  });

  it('an existing ArmorProfile that already matches needs no write', () => {
    const ap = storedAp(policy());
    const desired = step(planPolicy(observed(), opts), 'createArmorProfile').object;
    expect(armorProfileSteps(ap, desired)).toEqual({ steps: [], after: ap });
  });
});

describe('planPolicy: a profile name or BPF id another policy already has (issue 16, item 1)', () => {
  // ns team policy prod-web (older) and ns team-prod policy web (younger): same profile name
  const older = policy(spec(), { name: 'prod-web', namespace: 'team', uid: 'u-old', creationTimestamp: '2026-12-01T09:00:00Z' });
  const younger = policy(spec(), { name: 'web', namespace: 'team-prod', uid: 'u-new', creationTimestamp: '2026-12-01T09:30:00Z' });
  const youngRef = { kind: 'VarmorPolicy' as const, namespace: 'team-prod', name: 'web' };
  const oldRef = { kind: 'VarmorPolicy' as const, namespace: 'team', name: 'prod-web' };

  it('the younger policy gets no ArmorProfile, Ready=False ProfileNameConflict naming the older, and a Warning Event', () => {
    const p = planPolicy({ ref: youngRef, policy: younger, policies: [older, younger], now }, opts);
    expect(ops(p)).toEqual(['status']);
    const ready = cond(p, 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ProfileNameConflict' });
    expect(ready?.message).toContain('profile name varmor-team-prod-web is already used by VarmorPolicy team/prod-web');
    expect(step(p, 'status').events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ProfileNameConflict' }));
  });

  it('an existing ArmorProfile of the younger policy is not updated', () => {
    const ap = storedAp(younger, undefined, { ref: youngRef });
    const changed = policy(spec(), { ...younger.metadata, generation: 2 });
    changed.spec.policy.enforcer = 'AppArmorBPF';
    const p = planPolicy({ ref: youngRef, policy: changed, armorProfile: ap, policies: [older, changed], now }, opts);
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Ready')?.reason).toBe('ProfileNameConflict');
  });

  it('the older policy keeps its profile, and ties on creation time go by uid', () => {
    expect(ops(planPolicy({ ref: oldRef, policy: older, policies: [older, younger], now }, opts))).toEqual(['createArmorProfile', 'status']);
    const sameTime = policy(spec(), { ...younger.metadata, creationTimestamp: older.metadata.creationTimestamp, uid: 'u-a' });
    expect(ops(planPolicy({ ref: youngRef, policy: sameTime, policies: [older, sameTime], now }, opts))).toEqual(['createArmorProfile', 'status']);
  });

  it('a colliding BPF policy id gives PolicyIdConflict', () => {
    const target = bpfPolicyId('varmor-team-prod-web');
    const name = findCollidingName('varmor-attacker-', target) as string;
    const attacker = policy(spec(), { name, namespace: 'attacker', uid: 'u-x', creationTimestamp: '2026-12-01T09:45:00Z' });
    const p = planPolicy({ ref: { kind: 'VarmorPolicy', namespace: 'attacker', name }, policy: attacker, policies: [older, attacker], now }, opts);
    expect(ops(p)).toEqual(['status']);
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', reason: 'PolicyIdConflict' });
    expect(cond(p, 'Ready')?.message).toContain('VarmorPolicy team/prod-web');
  });
});
