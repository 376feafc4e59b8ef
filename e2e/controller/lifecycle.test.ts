// The controller against a real kube-apiserver: a policy's life from creation to deletion, its
// status as nodes report, rejected changes, rollout restarts and overlapping policies.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Registry } from 'prom-client';
import type { AnyPolicy, ArmorProfile, PolicySpec } from '../../profiler/api/types.js';
import { compilePolicy } from '../../profiler/compile.js';
import { toArmorProfile } from '../../profiler/armorprofile.js';
import { validatePolicyUpdate } from '../../profiler/validate/index.js';
import { startController, type ControllerHandle } from '../../controller/index.js';
import { AP_FINALIZER, POLICY_FINALIZER, RESTARTED_AT_ANNOTATION } from '../../profiler/index.js';

import {
  PRODUCT_NS,
  clusterPolicy,
  createDeployment,
  editPolicy,
  eventsFor,
  getAp,
  getPolicy,
  memoryLogger,
  policy,
  reportAsAgent,
  startEnv,
  unavailableReason,
  waitUntil,
  type Env,
} from '../../testing/apiserver/harness.js';

const reason = unavailableReason();
if (reason) console.warn(`controller e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;
// Each step waits on a real API server (and, in places, a child process) on a busy 2-core machine.
jest.setTimeout(90_000);

const spec = (target: PolicySpec['target'], extra: Partial<PolicySpec> = {}): PolicySpec => ({
  target,
  policy: {
    enforcer: 'AppArmorBPFSeccomp',
    mode: 'EnhanceProtect',
    enhanceProtect: { hardeningRules: ['disallow-mount'] },
  },
  ...extra,
});

function condition(p: AnyPolicy | undefined, type: string) {
  return p?.status?.conditions?.find((c) => c.type === type);
}

suite(`policy controller lifecycle${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let env: Env;
  let ctl: ControllerHandle;
  const log = memoryLogger();
  const registry = new Registry();

  beforeAll(async () => {
    env = await startEnv(['shop']);
    ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'lifecycle',
      leaderElection: false,
      log,
      resyncSeconds: 5,
      registry,
    });
  }, 120_000);

  afterAll(async () => {
    await ctl?.stop();
    await env?.stop();
    const errors = log.lines.filter((l) => l.level === 'error');
    if (errors.length > 0) console.warn(JSON.stringify(errors, null, 1));
  }, 60_000);

  const web = policy('web', spec({ kind: 'Deployment', name: 'web' }));

  it('a new policy becomes an ArmorProfile and reaches Ready once a node reports', async () => {
    const created = await env.client.create<AnyPolicy>('VarmorPolicy', web);
    const ap = await waitUntil('the ArmorProfile', () => getAp(env, 'shop', 'varmor-shop-web'));
    // Exactly what the profiler compiles for this policy, decorated with our metadata.
    const expected = toArmorProfile(
      created,
      compilePolicy(created, { productNamespace: PRODUCT_NS, unknownFields: 'ignore' }),
      PRODUCT_NS,
    );
    expect(ap.spec).toEqual(JSON.parse(JSON.stringify(expected.spec)));
    expect(ap.metadata.finalizers).toContain(AP_FINALIZER);
    expect(ap.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'VarmorPolicy',
        name: 'web',
        uid: created.metadata.uid,
        controller: true,
      }),
    ]);

    const pending = await waitUntil('phase Pending', async () => {
      const p = await getPolicy(env, web);
      return p?.status?.phase === 'Pending' && p;
    });
    expect(pending.metadata.finalizers).toContain(POLICY_FINALIZER);
    expect(pending.status).toMatchObject({ profileName: 'varmor-shop-web', ready: false });
    expect(condition(pending, 'Created')).toMatchObject({ status: 'True' });
    expect(condition(pending, 'Ready')).toMatchObject({ status: 'False', reason: 'WaitingForNodes' });

    await reportAsAgent(env, 'shop', 'varmor-shop-web', {
      nodeName: 'node-1',
      status: 'True',
      reason: 'EnforcerUnavailable',
      message: 'AppArmor: kernel has no AppArmor; Seccomp, BPF loaded',
    });
    const ready = await waitUntil('ready', async () => {
      const p = await getPolicy(env, web);
      return p?.status?.ready === true && p;
    });
    expect(ready.status?.phase).toBe('Protecting');
    expect(condition(ready, 'Ready')).toMatchObject({ status: 'True', reason: 'EnforcerUnavailable' });
    expect(condition(ready, 'Ready')?.message).toContain('node-1: AppArmor: kernel has no AppArmor');

    const events = await waitUntil('events', async () => {
      const e = await eventsFor(env, 'shop', 'web');
      return e.some((x) => x.reason === 'PhaseProtecting') && e;
    });
    expect(events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['ProfileCreated', 'PhasePending', 'PhaseProtecting']),
    );
  });

  it('a new policy the API server accepts but the rules refuse gets no ArmorProfile and says why', async () => {
    // DefenseInDepth cannot be combined with BPF: valid to the CRD schema, refused by the semantic rules.
    const bad = policy('bad', {
      target: { kind: 'Deployment', name: 'bad' },
      policy: {
        enforcer: 'AppArmorBPF',
        mode: 'DefenseInDepth',
        defenseInDepth: { appArmor: { profileType: 'Custom', customProfile: 'file,' } },
      },
    });
    await env.client.create<AnyPolicy>('VarmorPolicy', bad);
    const p = await waitUntil('phase Error', async () => {
      const x = await getPolicy(env, bad);
      return x?.status?.phase === 'Error' && x;
    });
    expect(condition(p, 'Created')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(condition(p, 'Created')?.message).toMatch(/spec\.policy/);
    expect(await getAp(env, 'shop', 'varmor-shop-bad')).toBeUndefined();
    await env.client.delete('VarmorPolicy', 'shop', 'bad');
    await waitUntil('the refused policy to go', async () => (await getPolicy(env, bad)) === undefined);
  });

  it('a node that fails to load turns the policy to Error with its message', async () => {
    await reportAsAgent(env, 'shop', 'varmor-shop-web', {
      nodeName: 'node-2',
      status: 'False',
      reason: 'LoadFailed',
      message: 'apparmor_parser: syntax error at line 3',
    });
    const p = await waitUntil('phase Error', async () => {
      const x = await getPolicy(env, web);
      return x?.status?.phase === 'Error' && x;
    });
    expect(p.status?.ready).toBe(false);
    expect(condition(p, 'Ready')?.message).toContain('node-2: apparmor_parser: syntax error at line 3');
    await reportAsAgent(env, 'shop', 'varmor-shop-web', { nodeName: 'node-2', status: 'True' });
    await waitUntil('ready again', async () => (await getPolicy(env, web))?.status?.ready === true);
  });

  it('an update changes the profile; the nodes must report the new one before it is Ready again', async () => {
    const before = (await getAp(env, 'shop', 'varmor-shop-web'))!;
    const updated = await editPolicy(env, web, (s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disallow-mount', 'disable-cap-all'] } },
    }));
    const expected = toArmorProfile(
      updated,
      compilePolicy(updated, { productNamespace: PRODUCT_NS, unknownFields: 'ignore' }),
      PRODUCT_NS,
    );
    const after = await waitUntil('the profile to change', async () => {
      const ap = await getAp(env, 'shop', 'varmor-shop-web');
      return ap && JSON.stringify(ap.spec) !== JSON.stringify(before.spec) && ap;
    });
    expect(after.spec).toEqual(JSON.parse(JSON.stringify(expected.spec)));
    expect(after.spec.profile).not.toEqual(before.spec.profile);
    const p = await waitUntil('Updated condition', async () => {
      const x = await getPolicy(env, web);
      return condition(x, 'Updated')?.status === 'True' && x;
    });
    expect(p.status?.ready).toBe(false);
    await reportAsAgent(env, 'shop', 'varmor-shop-web', { nodeName: 'node-1', status: 'True' });
    await waitUntil(
      'ready after the update',
      async () => (await getPolicy(env, web))?.status?.ready === true,
    );
  });

  it('an invalid change is refused: by validatePolicyUpdate, and by the controller when it gets through', async () => {
    const cur = (await getPolicy(env, web))!;
    const moved = {
      ...cur,
      spec: { ...cur.spec, target: { kind: 'Deployment', name: 'other' } },
    } as AnyPolicy;
    const v = validatePolicyUpdate(cur, moved);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.map((e) => e.path)).toContain('spec.target');

    // No validating webhook runs here, so the API server stores the change: the controller must refuse it.
    const apBefore = (await getAp(env, 'shop', 'varmor-shop-web'))!;
    await editPolicy(env, web, (s) => ({ ...s, target: { kind: 'Deployment', name: 'other' } }));
    const p = await waitUntil('phase Error', async () => {
      const x = await getPolicy(env, web);
      return x?.status?.phase === 'Error' && x;
    });
    expect(condition(p, 'Updated')).toMatchObject({ status: 'False', reason: 'Forbidden' });
    expect(condition(p, 'Updated')?.message).toContain('spec.target');
    const apAfter = (await getAp(env, 'shop', 'varmor-shop-web'))!;
    expect(apAfter.spec).toEqual(apBefore.spec);
    const events = await eventsFor(env, 'shop', 'web');
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Forbidden' }));

    // Undoing the change brings it back.
    await editPolicy(env, web, (s) => ({ ...s, target: { kind: 'Deployment', name: 'web' } }));
    await waitUntil(
      'Protecting again',
      async () => (await getPolicy(env, web))?.status?.phase === 'Protecting',
    );
  });

  it('updateExistingWorkloads restarts the targeted Deployments on create, update and delete, and nothing else', async () => {
    await createDeployment(env, 'shop', 'api', { app: 'api' });
    await createDeployment(env, 'shop', 'bystander', { app: 'bystander' });
    const stampOf = async (name: string) =>
      (await env.apps.readNamespacedDeployment({ namespace: 'shop', name })).spec?.template.metadata
        ?.annotations?.[RESTARTED_AT_ANNOTATION];
    const api = policy(
      'api',
      spec(
        { kind: 'Deployment', selector: { matchLabels: { app: 'api' } } },
        { updateExistingWorkloads: true },
      ),
    );
    await env.client.create<AnyPolicy>('VarmorPolicy', api);
    const first = await waitUntil('the first restart', () => stampOf('api'));
    expect(await stampOf('bystander')).toBeUndefined();
    const events = await waitUntil('restart event', async () => {
      const e = await eventsFor(env, 'shop', 'api');
      return e.some((x) => x.reason === 'WorkloadsRestarted') && e;
    });
    expect(events.find((e) => e.reason === 'WorkloadsRestarted')?.message).toContain('Deployment shop/api');

    await editPolicy(env, api, (s) => ({
      ...s,
      policy: { ...s.policy, enhanceProtect: { hardeningRules: ['disable-cap-all'] } },
    }));
    const second = await waitUntil('the restart for the update', async () => {
      const s = await stampOf('api');
      return s !== first && s;
    });
    expect(Date.parse(second)).toBeGreaterThanOrEqual(Date.parse(first));

    await env.client.delete('VarmorPolicy', 'shop', 'api');
    const third = await waitUntil('the restart for the deletion', async () => {
      const s = await stampOf('api');
      return s !== second && s;
    });
    expect(third).toBeTruthy();
    await waitUntil('the policy to go', async () => (await getPolicy(env, api)) === undefined);
    expect(await stampOf('bystander')).toBeUndefined();
  });

  it('updateExistingWorkloads never touches bare Pods', async () => {
    // No controller-manager runs here to create the namespace's default ServiceAccount.
    await env.core.createNamespacedServiceAccount({
      namespace: 'shop',
      body: { metadata: { name: 'default' } },
    });
    const pod = await env.core.createNamespacedPod({
      namespace: 'shop',
      body: {
        metadata: { name: 'lonely', labels: { app: 'lonely' } },
        spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'busybox' }] },
      },
    });
    const p = policy('lonely', spec({ kind: 'Pod', name: 'lonely' }, { updateExistingWorkloads: true }));
    await env.client.create<AnyPolicy>('VarmorPolicy', p);
    // The restart step runs before the status write of the same reconcile: once the status is there, it has passed.
    await waitUntil('status Pending', async () => (await getPolicy(env, p))?.status?.phase === 'Pending');
    const after = await env.core.readNamespacedPod({ namespace: 'shop', name: 'lonely' });
    expect(after.metadata?.resourceVersion).toBe(pod.metadata?.resourceVersion);
    expect((await eventsFor(env, 'shop', 'lonely')).map((e) => e.reason)).not.toContain('WorkloadsRestarted');
    await env.client.delete('VarmorPolicy', 'shop', 'lonely');
    await waitUntil('the policy to go', async () => (await getPolicy(env, p)) === undefined);
    expect(
      (await env.core.readNamespacedPod({ namespace: 'shop', name: 'lonely' })).metadata?.resourceVersion,
    ).toBe(pod.metadata?.resourceVersion);
  });

  it('an ArmorProfile deleted by hand under a live policy is re-created', async () => {
    const before = (await getAp(env, 'shop', 'varmor-shop-web'))!;
    await env.client.delete('ArmorProfile', 'shop', 'varmor-shop-web');
    const again = await waitUntil('a new ArmorProfile', async () => {
      const ap = await getAp(env, 'shop', 'varmor-shop-web');
      return ap && ap.metadata.uid !== before.metadata.uid && !ap.metadata.deletionTimestamp && ap;
    });
    expect(again.spec).toEqual(before.spec);
    expect(again.metadata.finalizers).toEqual([AP_FINALIZER]);
  });

  it('the ArmorProfile of a policy that is gone without its finalizer is removed', async () => {
    // A policy whose finalizer was stripped by hand leaves its ArmorProfile behind.
    const ghost = policy('ghost', spec({ kind: 'Deployment', name: 'ghost' }));
    await env.client.create<AnyPolicy>('VarmorPolicy', ghost);
    await waitUntil('the ghost ArmorProfile', () => getAp(env, 'shop', 'varmor-shop-ghost'));
    await ctl.stop();
    const cur = (await getPolicy(env, ghost))!;
    await env.client.replace<AnyPolicy>('VarmorPolicy', {
      ...cur,
      metadata: { ...cur.metadata, finalizers: [] },
    });
    await env.client.delete('VarmorPolicy', 'shop', 'ghost');
    await waitUntil('the ghost policy to go', async () => (await getPolicy(env, ghost)) === undefined);
    expect(await getAp(env, 'shop', 'varmor-shop-ghost')).toBeDefined();
    ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'lifecycle',
      leaderElection: false,
      log,
      resyncSeconds: 5,
    });
    await waitUntil(
      'the orphan to be removed',
      async () => (await getAp(env, 'shop', 'varmor-shop-ghost')) === undefined,
    );
  });

  it('a deleted policy takes its ArmorProfile with it and its finalizer lets go', async () => {
    await env.client.delete('VarmorPolicy', 'shop', 'web');
    await waitUntil('the policy to go', async () => (await getPolicy(env, web)) === undefined);
    await waitUntil(
      'the ArmorProfile to go',
      async () => (await getAp(env, 'shop', 'varmor-shop-web')) === undefined,
    );
  });

  it('two policies targeting the same workload are reported on both, until one goes', async () => {
    const a = policy('dup-a', spec({ kind: 'Deployment', name: 'cart' }));
    const b = policy('dup-b', spec({ kind: 'Deployment', selector: { matchLabels: { app: 'cart' } } }));
    await createDeployment(env, 'shop', 'cart', { app: 'cart' });
    await env.client.create<AnyPolicy>('VarmorPolicy', a);
    await env.client.create<AnyPolicy>('VarmorPolicy', b);
    const ca = await waitUntil('dup-a conflicted', async () =>
      condition(await getPolicy(env, a), 'Conflicted'),
    );
    const cb = await waitUntil('dup-b conflicted', async () =>
      condition(await getPolicy(env, b), 'Conflicted'),
    );
    expect(ca).toMatchObject({ status: 'True', reason: 'TargetOverlap' });
    expect(ca.message).toContain('VarmorPolicy/shop/dup-b (Deployment shop/cart)');
    expect(cb.message).toContain('VarmorPolicy/shop/dup-a (Deployment shop/cart)');
    for (const n of ['dup-a', 'dup-b']) {
      await waitUntil(`TargetOverlap event on ${n}`, async () =>
        (await eventsFor(env, 'shop', n)).some((e) => e.type === 'Warning' && e.reason === 'TargetOverlap'),
      );
    }
    await env.client.delete('VarmorPolicy', 'shop', 'dup-b');
    await waitUntil('dup-a no longer conflicted', async () => {
      const p = await getPolicy(env, a);
      return p?.status !== undefined && condition(p, 'Conflicted') === undefined;
    });
    await env.client.delete('VarmorPolicy', 'shop', 'dup-a');
  });

  it('a cluster policy gets its ArmorProfile in the product namespace', async () => {
    const cp = clusterPolicy('agents', {
      target: { kind: 'DaemonSet', selector: { matchLabels: { tier: 'node-agent' } } },
      policy: { enforcer: 'AppArmor', mode: 'RuntimeDefault' },
    });
    await env.client.create<AnyPolicy>('VarmorClusterPolicy', cp);
    const ap = await waitUntil('the cluster ArmorProfile', () =>
      getAp(env, PRODUCT_NS, 'varmor-cluster-varmor-agents'),
    );
    expect((ap as ArmorProfile).metadata.ownerReferences ?? []).toEqual([]);
    await reportAsAgent(env, PRODUCT_NS, 'varmor-cluster-varmor-agents', {
      nodeName: 'node-1',
      status: 'True',
    });
    await waitUntil('cluster policy ready', async () => (await getPolicy(env, cp))?.status?.ready === true);
    await env.client.delete('VarmorClusterPolicy', undefined, 'agents');
    await waitUntil(
      'the cluster ArmorProfile to go',
      async () => (await getAp(env, PRODUCT_NS, 'varmor-cluster-varmor-agents')) === undefined,
    );
  });
  it('counts its reconciles in the Prometheus registry it was given', async () => {
    const text = await registry.metrics();
    const ok = /varmor_controller_reconciles_total\{result="success"\} (\d+)/.exec(text);
    expect(Number(ok?.[1])).toBeGreaterThan(0);
    expect(text).toContain('varmor_controller_reconcile_duration_seconds_bucket');
    expect(text).toMatch(/varmor_controller_is_leader 1/);
  });
});
