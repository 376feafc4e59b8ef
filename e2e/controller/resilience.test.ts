// The controller when things go wrong: a controller process killed (SIGKILL) between creating
// an ArmorProfile and writing the policy's status, then restarted; and two replicas with leader
// election, where only the leader reconciles and the other takes over when it stops.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { AnyPolicy, ArmorProfile } from '../../profiler/api/types.js';
import { compilePolicy } from '../../profiler/compile.js';
import { toArmorProfile } from '../../profiler/armorprofile.js';
import { startController, type ControllerHandle } from '../../controller/index.js';
import { ANN_RESTARTED, AP_FINALIZER, POLICY_FINALIZER, RESTARTED_AT_ANNOTATION } from '../../profiler/index.js';

import { makeKubeClient, type KubeClient } from '../../controller/kube.js';
import {
  PRODUCT_NS,
  ROOT,
  createDeployment,
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
if (reason) console.warn(`controller resilience e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;
// Each step waits on a real API server (and, in places, a child process) on a busy 2-core machine.
jest.setTimeout(90_000);

/** The real client, counting the writes it makes: which replica did the work. */
function countingClient(real: KubeClient): KubeClient & { writes: number } {
  const c = {
    ...real,
    writes: 0,
    async create(kind, obj) {
      c.writes++;
      return real.create(kind, obj);
    },
    async replace(kind, obj) {
      c.writes++;
      return real.replace(kind, obj);
    },
    async replaceStatus(kind, obj) {
      c.writes++;
      return real.replaceStatus(kind, obj);
    },
    async delete(kind, ns, name) {
      c.writes++;
      return real.delete(kind, ns, name);
    },
  } as KubeClient & { writes: number };
  return c;
}

suite(`controller resilience${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let env: Env;
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    env = await startEnv(['shop']);
  }, 120_000);
  afterAll(async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await env?.stop();
  }, 60_000);

  function spawnChild(
    identity: string,
    opts: { leaseSeconds?: number; pause?: 'armorprofile' | 'restart' } = {},
  ): ChildProcess {
    const args = [
      '--import',
      join(ROOT, 'testing/ts-loader.mjs'),
      join(ROOT, 'e2e/controller/crash-child.ts'),
      env.cp.kubeconfigPath,
      identity,
    ];
    const childEnv = {
      ...process.env,
      CRASH_PAUSE: opts.pause ?? 'armorprofile',
      CRASH_LEASE_SECONDS: String(opts.leaseSeconds ?? 0),
    };
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv,
    });
    stops.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    return child;
  }

  function lineStartingWith(child: ChildProcess, prefix: string): Promise<string> {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l.startsWith(prefix)) resolve(l);
      });
      child.on('exit', (code) => reject(new Error(`crash child exited early (${code}): ${stderr}`)));
    });
  }

  async function killHard(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  it('a controller killed between creating the ArmorProfile and writing the status converges after a restart, nothing lost', async () => {
    const child = spawnChild('replica-0');
    const paused = lineStartingWith(child, 'PAUSED-AFTER-ARMORPROFILE');

    const web = policy('crashy', {
      target: { kind: 'Deployment', name: 'crashy' },
      policy: { enforcer: 'BPFSeccomp', mode: 'RuntimeDefault' },
    });
    const created = await env.client.create<AnyPolicy>('VarmorPolicy', web);
    expect(await paused).toBe('PAUSED-AFTER-ARMORPROFILE shop/varmor-shop-crashy');
    await killHard(child);

    // The kill landed between the two writes: the ArmorProfile exists, the status was never written.
    const half = (await getPolicy(env, web))!;
    expect(half.status).toBeUndefined();
    expect(half.metadata.finalizers).toContain(POLICY_FINALIZER);
    expect(await getAp(env, 'shop', 'varmor-shop-crashy')).toBeDefined();

    // The replacement (same pod name, so it may renew the dead one's Lease at once).
    const log = memoryLogger();
    const ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'replica-0',
      log,
      resyncSeconds: 5,
    });
    stops.push(() => ctl.stop());
    const p = await waitUntil('the status after the restart', async () => {
      const x = await getPolicy(env, web);
      return x?.status?.phase === 'Pending' && x;
    });
    expect(p.status).toMatchObject({ profileName: 'varmor-shop-crashy', ready: false });
    expect(p.status?.conditions?.find((c) => c.type === 'Created')).toMatchObject({ status: 'True' });

    const aps = await env.client.list<ArmorProfile>('ArmorProfile', 'shop');
    expect(aps.map((a) => a.metadata.name)).toEqual(['varmor-shop-crashy']);
    const ap = aps[0];
    const expected = toArmorProfile(
      created,
      compilePolicy(created, { productNamespace: PRODUCT_NS, unknownFields: 'ignore' }),
      PRODUCT_NS,
    );
    expect(ap.spec).toEqual(JSON.parse(JSON.stringify(expected.spec)));
    expect(ap.metadata.finalizers).toEqual([AP_FINALIZER]);
    expect(ap.metadata.ownerReferences?.map((o) => o.uid)).toEqual([created.metadata.uid]);

    await reportAsAgent(env, 'shop', 'varmor-shop-crashy', { nodeName: 'node-1', status: 'True' });
    await waitUntil('Ready', async () => (await getPolicy(env, web))?.status?.ready === true);
    await ctl.stop();
  });

  it('a controller killed after restarting a workload but before recording it does not roll the workload twice', async () => {
    await createDeployment(env, 'shop', 'roller', { app: 'roller' });
    const child = spawnChild('replica-0', { pause: 'restart' });
    const paused = lineStartingWith(child, 'PAUSED-AFTER-RESTART');
    const p = policy('roller', {
      target: { kind: 'Deployment', name: 'roller' },
      policy: { enforcer: 'Seccomp', mode: 'RuntimeDefault' },
      updateExistingWorkloads: true,
    });
    await env.client.create<AnyPolicy>('VarmorPolicy', p);
    const line = await paused;
    await killHard(child);
    const stamp = line.split(' ').pop();
    const dep = await env.apps.readNamespacedDeployment({ namespace: 'shop', name: 'roller' });
    expect(dep.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(stamp);
    expect(
      (await getAp(env, 'shop', 'varmor-shop-roller'))?.metadata.annotations?.[ANN_RESTARTED],
    ).toBeUndefined();

    const ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'replica-0',
      log: memoryLogger(),
      resyncSeconds: 5,
    });
    stops.push(() => ctl.stop());
    await waitUntil(
      'the restart to be recorded',
      async () =>
        (await getAp(env, 'shop', 'varmor-shop-roller'))?.metadata.annotations?.[ANN_RESTARTED] === '1',
    );
    const after = await env.apps.readNamespacedDeployment({ namespace: 'shop', name: 'roller' });
    // Same stamp, so the pod template did not change again: one rollout, not two.
    expect(after.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe(stamp);
    expect(after.metadata?.generation).toBe(dep.metadata?.generation);
    await ctl.stop();
  });

  it('with two replicas only the leader reconciles, and the other takes over when it stops', async () => {
    const clients = [countingClient(makeKubeClient(env.kc)), countingClient(makeKubeClient(env.kc))];
    const ctls: ControllerHandle[] = [];
    for (const [i, client] of clients.entries()) {
      const c = await startController({
        kubeConfig: env.kc,
        namespace: PRODUCT_NS,
        identity: `ha-${i}`,
        client,
        log: memoryLogger(),
        leaseName: 'varmor-controller-ha',
      });
      ctls.push(c);
      stops.push(() => c.stop());
    }
    const leader = await waitUntil('a leader', async () => ctls.findIndex((c) => c.isLeader()) + 1);
    const li = leader - 1;
    const fi = 1 - li;
    expect(ctls[fi].isLeader()).toBe(false);
    const leases = env.kc.makeApiClient(CoordinationV1Api);
    const holder = async () =>
      (await leases.readNamespacedLease({ namespace: PRODUCT_NS, name: 'varmor-controller-ha' })).spec
        ?.holderIdentity;
    expect(await holder()).toBe(`ha-${li}`);

    const one = policy('ha-one', {
      target: { kind: 'Deployment', name: 'one' },
      policy: { enforcer: 'Seccomp', mode: 'RuntimeDefault' },
    });
    await env.client.create<AnyPolicy>('VarmorPolicy', one);
    await waitUntil(
      'ha-one reconciled',
      async () => (await getPolicy(env, one))?.status?.phase === 'Pending',
    );
    expect(clients[li].writes).toBeGreaterThan(0);
    expect(clients[fi].writes).toBe(0);

    await ctls[li].stop();
    expect(ctls[li].isLeader()).toBe(false);
    await waitUntil('the other replica to take over', async () => ctls[fi].isLeader(), 30_000);
    expect(await holder()).toBe(`ha-${fi}`);

    const two = policy('ha-two', {
      target: { kind: 'Deployment', name: 'two' },
      policy: { enforcer: 'Seccomp', mode: 'RuntimeDefault' },
    });
    const writesBefore = clients[li].writes;
    await env.client.create<AnyPolicy>('VarmorPolicy', two);
    await waitUntil(
      'ha-two reconciled by the new leader',
      async () => (await getPolicy(env, two))?.status?.phase === 'Pending',
    );
    expect(clients[fi].writes).toBeGreaterThan(0);
    expect(clients[li].writes).toBe(writesBefore);
    await ctls[fi].stop();
  });

  it('a leader killed without releasing its Lease is replaced once the Lease expires', async () => {
    const leases = env.kc.makeApiClient(CoordinationV1Api);
    const lease = () => leases.readNamespacedLease({ namespace: PRODUCT_NS, name: 'varmor-controller' });
    // The lease from the first test, released by a clean stop: the child takes it.
    const child = spawnChild('doomed', { leaseSeconds: 3 });
    await waitUntil(
      'the child to lead',
      async () => (await lease()).spec?.holderIdentity === 'doomed',
      60_000,
    );
    const transitions = (await lease()).spec?.leaseTransitions ?? 0;
    await killHard(child);
    expect((await lease()).spec?.holderIdentity).toBe('doomed'); // nobody released it

    const ctl = await startController({
      kubeConfig: env.kc,
      namespace: PRODUCT_NS,
      identity: 'survivor',
      log: memoryLogger(),
      retryPeriodSeconds: 1,
    });
    stops.push(() => ctl.stop());
    await waitUntil('the survivor to lead', async () => ctl.isLeader(), 30_000);
    const after = (await lease()).spec;
    expect(after?.holderIdentity).toBe('survivor');
    expect(after?.leaseTransitions).toBe(transitions + 1);
    const p = policy('after-crash', {
      target: { kind: 'Deployment', name: 'after' },
      policy: { enforcer: 'Seccomp', mode: 'RuntimeDefault' },
    });
    await env.client.create<AnyPolicy>('VarmorPolicy', p);
    await waitUntil(
      'reconciled by the survivor',
      async () => (await getPolicy(env, p))?.status?.phase === 'Pending',
    );
    await ctl.stop();
  });
});
