// BehaviorModeling end to end against a real kube-apiserver: a run that starts, ends when the
// (injected) clock passes modelingOptions.duration, merges the nodes' records into an
// ArmorProfileModel with a profile built from them, and a DefenseInDepth policy that uses it.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Registry } from 'prom-client';
import type { AnyPolicy, ArmorProfileModel } from '../../profiler/api/types.js';
import { compilePolicy } from '../../profiler/compile.js';
import { ManualClock, startController, type ControllerHandle } from '../../controller/index.js';
import { ANN_MODELING_START, ANN_MODEL_BUILT } from '../../profiler/index.js';

import {
  PRODUCT_NS,
  editPolicy,
  getAp,
  getPolicy,
  memoryLogger,
  policy,
  reportAsAgent,
  startEnv,
  unavailableReason,
  uploadRecordsAsAgent,
  waitUntil,
  type Env,
} from '../../testing/apiserver/harness.js';

const reason = unavailableReason();
if (reason) console.warn(`controller modelling e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;
// Each step waits on a real API server (and, in places, a child process) on a busy 2-core machine.
jest.setTimeout(90_000);

suite(`BehaviorModeling${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let env: Env;
  let ctl: ControllerHandle;
  const clock = new ManualClock();
  const log = memoryLogger();
  const registry = new Registry();
  const profile = 'varmor-shop-web';
  const reconciles = async () =>
    Number(
      /varmor_controller_reconciles_total\{result="success"\} (\d+)/.exec(await registry.metrics())?.[1] ?? 0,
    );

  beforeAll(async () => {
    env = await startEnv(['shop']);
    ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'modeling',
      leaderElection: false,
      log,
      clock,
      resyncSeconds: 1,
      modelingGraceSeconds: 600,
      registry,
    });
  }, 120_000);
  afterAll(async () => {
    await ctl?.stop();
    await env?.stop();
  }, 60_000);

  const web = policy('web', {
    target: { kind: 'Deployment', name: 'web' },
    policy: { enforcer: 'AppArmorSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
  });
  const modelingMessage = async () =>
    (await getPolicy(env, web))?.status?.conditions?.find((c) => c.type === 'Modeling')?.message;
  const getModel = (name: string) => env.client.get<ArmorProfileModel>('ArmorProfileModel', 'shop', name);

  it('DefenseInDepth over a model that does not exist yet is an error that says what to do', async () => {
    const p = policy('early', {
      target: { kind: 'Deployment', name: 'early' },
      policy: {
        enforcer: 'Seccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } },
      },
    });
    await env.client.create<AnyPolicy>('VarmorPolicy', p);
    const s = await waitUntil('Error', async () => {
      const x = await getPolicy(env, p);
      return x?.status?.phase === 'Error' && x;
    });
    const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ModelNotReady' });
    expect(ready?.message).toContain('BehaviorModeling');
    expect(await getAp(env, 'shop', 'varmor-shop-early')).toBeUndefined();
  });

  it('a modelling run records for modelingOptions.duration minutes, then ends in an ArmorProfileModel', async () => {
    await env.client.create<AnyPolicy>('VarmorPolicy', web);
    const ap = await waitUntil('the ArmorProfile in modelling', async () => {
      const x = await getAp(env, 'shop', profile);
      return x?.spec.behaviorModeling?.enable === true && x;
    });
    expect(ap.spec.behaviorModeling).toEqual({ enable: true, duration: 30 });
    expect(ap.metadata.annotations?.[ANN_MODELING_START]).toBeTruthy();
    await waitUntil('phase Modeling', async () => (await getPolicy(env, web))?.status?.phase === 'Modeling');
    await waitUntil('the empty model', () => getModel(profile));

    await reportAsAgent(env, 'shop', profile, { nodeName: 'node-1', status: 'True' });
    await reportAsAgent(env, 'shop', profile, { nodeName: 'node-2', status: 'True' });

    const recording = (await getPolicy(env, web))!.status?.conditions?.find((c) => c.type === 'Modeling');
    expect(recording).toMatchObject({ status: 'True', reason: 'Recording' });
    expect(recording?.message).toMatch(/^modelling until /);

    clock.advance(31 * 60_000);
    ctl.resync();
    await waitUntil(
      'the run to end',
      async () => (await getAp(env, 'shop', profile))?.spec.behaviorModeling?.enable === false,
    );
    await waitUntil(
      'waiting for both nodes',
      async () => (await modelingMessage()) === 'modelling ended; waiting for records from node-1, node-2',
    );
    expect((await getPolicy(env, web))?.status?.phase).toBe('Modeling');

    await uploadRecordsAsAgent(env, 'shop', profile, 'node-1', {
      appArmor: {
        files: [{ path: '/etc/nginx/nginx.conf', permissions: ['r'] }],
        executions: ['/usr/sbin/nginx'],
      },
      seccomp: { syscalls: ['read', 'write', 'openat', 'exit_group', 'futex'] },
    });
    await waitUntil(
      'waiting for node-2 only',
      async () => (await modelingMessage()) === 'modelling ended; waiting for records from node-2',
    );
    expect((await getModel(profile))?.metadata.annotations?.[ANN_MODEL_BUILT]).toBeUndefined();
    await uploadRecordsAsAgent(env, 'shop', profile, 'node-2', {
      appArmor: {
        files: [
          { path: '/etc/nginx/nginx.conf', permissions: ['w'] },
          { path: '/var/log/nginx/access.log', permissions: ['a'] },
        ],
        capabilities: ['net_bind_service'],
      },
      seccomp: { syscalls: ['accept4', 'read'] },
    });

    const model = await waitUntil('the model to be built', async () => {
      const m = await getModel(profile);
      return m?.metadata.annotations?.[ANN_MODEL_BUILT] ? m : undefined;
    });
    expect(model.data.dynamicResult).toEqual({
      appArmor: {
        files: [
          { path: '/etc/nginx/nginx.conf', permissions: ['r', 'w'] },
          { path: '/var/log/nginx/access.log', permissions: ['a'] },
        ],
        executions: ['/usr/sbin/nginx'],
        capabilities: ['net_bind_service'],
      },
      seccomp: { syscalls: ['accept4', 'exit_group', 'futex', 'openat', 'read', 'write'] },
    });
    expect(model.data.profile).toMatchObject({
      name: profile,
      enforcer: 'AppArmorSeccomp',
      mode: 'DefenseInDepth',
    });
    const appArmorText = Buffer.from(model.data.profile?.content ?? '', 'base64').toString('utf8');
    expect(appArmorText).toContain('/etc/nginx/nginx.conf');
    const seccomp = JSON.parse(model.data.profile?.seccompContent ?? '{}') as {
      syscalls?: { names: string[]; action: string }[];
    };
    expect(seccomp.syscalls?.flatMap((s) => s.names)).toEqual(expect.arrayContaining(['accept4', 'openat']));

    const done = await waitUntil('phase Completed', async () => {
      const p = await getPolicy(env, web);
      return p?.status?.phase === 'Completed' && p;
    });
    expect(done.status?.profileName).toBe(profile);
    // The per-node uploads are merged and gone.
    const left = await env.client.list<ArmorProfileModel>(
      'ArmorProfileModel',
      'shop',
      `varmor.org/model-of=${profile}`,
    );
    expect(left.map((m) => m.metadata.name)).toEqual([]);
    expect(
      (await env.client.list<ArmorProfileModel>('ArmorProfileModel', 'shop')).map((m) => m.metadata.name),
    ).toEqual([profile]);
    expect((await getAp(env, 'shop', profile))?.spec.profile.mode).toBe('AlwaysAllow');
  });

  it('a DefenseInDepth policy with profileType BehaviorModel compiles from that model', async () => {
    const updated = await editPolicy(env, web, (s) => ({
      ...s,
      policy: {
        enforcer: 'AppArmorSeccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: {
          appArmor: { profileType: 'BehaviorModel' },
          seccomp: { profileType: 'BehaviorModel' },
        },
      },
    }));
    const ap = await waitUntil('the DefenseInDepth profile', async () => {
      const x = await getAp(env, 'shop', profile);
      return x?.spec.profile.mode === 'DefenseInDepth' && x;
    });
    const model = (await getModel(profile))!;
    const expected = compilePolicy(updated, { productNamespace: PRODUCT_NS, unknownFields: 'ignore', model });
    expect(JSON.parse(ap.spec.profile.seccompContent ?? '{}')).toEqual(
      JSON.parse(JSON.stringify(expected.seccomp)),
    );
    expect(Buffer.from(ap.spec.profile.content ?? '', 'base64').toString('utf8')).toBe(
      expected.appArmor?.profile,
    );
    await reportAsAgent(env, 'shop', profile, { nodeName: 'node-1', status: 'True' });
    await waitUntil('Protecting', async () => (await getPolicy(env, web))?.status?.phase === 'Protecting');
  });
  it('records from a node without AppArmor (BPF audit only) still give an AppArmor model profile', async () => {
    const p = policy('bpfonly', {
      target: { kind: 'Deployment', name: 'bpfonly' },
      policy: { enforcer: 'AppArmorBPF', mode: 'BehaviorModeling', modelingOptions: { duration: 5 } },
    });
    const name = 'varmor-shop-bpfonly';
    await env.client.create<AnyPolicy>('VarmorPolicy', p);
    await waitUntil(
      'recording',
      async () => (await getAp(env, 'shop', name))?.spec.behaviorModeling?.enable === true,
    );
    await reportAsAgent(env, 'shop', name, {
      nodeName: 'node-1',
      status: 'True',
      reason: 'EnforcerUnavailable',
      message: 'AppArmor: kernel has no AppArmor; BPF loaded',
    });
    await waitUntil(
      'the node entry to be seen',
      async () => (await getPolicy(env, p))?.status?.ready === true,
    );
    clock.advance(6 * 60_000);
    ctl.resync();
    await waitUntil(
      'the run to end',
      async () => (await getAp(env, 'shop', name))?.spec.behaviorModeling?.enable === false,
    );
    await uploadRecordsAsAgent(env, 'shop', name, 'node-1', {
      bpf: {
        files: [{ path: '/srv/data/index.db', permissions: ['r', 'w'] }],
        executions: ['/usr/bin/server'],
      },
    });
    const model = await waitUntil('the model', async () => {
      const m = await getModel(name);
      return m?.metadata.annotations?.[ANN_MODEL_BUILT] ? m : undefined;
    });
    expect(model.data.dynamicResult?.appArmor).toEqual(model.data.dynamicResult?.bpf);
    expect(model.data.profile).toMatchObject({ enforcer: 'AppArmor', mode: 'DefenseInDepth' });
    expect(model.data.profile?.seccompContent).toBeUndefined();
    expect(Buffer.from(model.data.profile?.content ?? '', 'base64').toString('utf8')).toContain(
      '/srv/data/index.db',
    );
    await waitUntil('Completed', async () => (await getPolicy(env, p))?.status?.phase === 'Completed');
  });

  it('entering BehaviorModeling again starts a new run', async () => {
    const before = (await getAp(env, 'shop', profile))!.metadata.annotations?.[ANN_MODELING_START];
    clock.advance(60_000);
    await editPolicy(env, web, (s) => ({
      ...s,
      policy: { enforcer: 'AppArmorSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 10 } },
    }));
    const ap = await waitUntil('recording again', async () => {
      const x = await getAp(env, 'shop', profile);
      return x?.spec.behaviorModeling?.enable === true && x;
    });
    expect(ap.metadata.annotations?.[ANN_MODELING_START]).not.toBe(before);
    await waitUntil('phase Modeling', async () => (await getPolicy(env, web))?.status?.phase === 'Modeling');
  });

  it('a run in progress cannot be left, and stays refused however often it is reconciled', async () => {
    await editPolicy(env, web, (s) => ({
      ...s,
      policy: {
        enforcer: 'AppArmorSeccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } },
      },
    }));
    const refused = await waitUntil('the change refused', async () => {
      const p = await getPolicy(env, web);
      const u = p?.status?.conditions?.find((c) => c.type === 'Updated');
      return p?.status?.phase === 'Error' && u?.reason === 'Forbidden' && u;
    });
    expect(refused.message).toContain('spec.policy.mode');
    // Now the phase is Error; later reconciles must still know the run is in progress.
    // Two rounds over every policy (resync runs each second here): `web` was among them.
    const n = await reconciles();
    const all = (await env.client.list<AnyPolicy>('VarmorPolicy', 'shop')).length;
    ctl.resync();
    await waitUntil('two more rounds of reconciles', async () => (await reconciles()) >= n + 2 * all);
    expect((await getPolicy(env, web))?.status?.phase).toBe('Error');
    expect((await getAp(env, 'shop', profile))?.spec.profile.mode).toBe('BehaviorModeling');
  });
});
