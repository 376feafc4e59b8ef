// The agent's core as one piece, against in-memory stand-ins for the kernel and the runtime
// (testing/agent/fake-bpf.ts, a listed-containers source, a cgroup resolver that maps pid to id),
// with the real loaders on a temporary folder: placement, binding from the hook and the runtime
// scan, pin adoption, events and modelling, and what the node reports. The same paths against
// containerd, runc and the BPF addon are in node.containerd.test.ts.

import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { NodeAgent } from './node.js';
import { SeccompLoader } from './loaders/seccomp.js';
import { AppArmorLoader } from './loaders/apparmor.js';
import { createLogger } from '../cli/log.js';
import { AgentMetrics } from './metrics.js';
import { decodeArmorProfile } from './profiles/decode.js';
import { bpfTablesOf } from './profiles/placement.js';
import type { HookRequest } from './hook/request.js';
import type { RuntimeContainer } from './runtime/source.js';
import type { StatusSink } from './status/report.js';
import type { BehaviorData, Enforcer } from '../profiler/api/types.js';
import { bpfPolicyId } from '../profiler/names.js';
import { ANNOTATION } from '../profiler/api/well-known.js';
import { fakeBpf, type FakeBpfBackend } from '../testing/agent/fake-bpf.js';
import { armorProfile, bpfTables, DENY_MKDIR, VT_MODE_ENFORCE } from '../testing/agent/profiles.js';

const P = 'varmor-shop-web';
const POLICY = bpfPolicyId(P);

const identity = (pod = 'web-0') => ({
  'io.kubernetes.cri.container-type': 'container',
  'io.kubernetes.cri.container-name': 'app',
  'io.kubernetes.cri.sandbox-name': pod,
  'io.kubernetes.cri.sandbox-namespace': 'shop',
  'io.kubernetes.cri.sandbox-uid': `uid-${pod}`,
});
const bpfTarget = (profile = P) => ({ ...identity(), [ANNOTATION.bpf('app')]: `localhost/${profile}` });

/** The cgroup id the stand-in resolver gives a pid. */
const cg = (pid: number): bigint => BigInt(1000 + pid);

const hook = (stage: HookRequest['stage'], id: string, pid: number, annotations: Record<string, string>): HookRequest => ({
  stage,
  state: { id, pid, bundle: `/run/${id}`, status: stage === 'createRuntime' ? 'creating' : 'stopped', annotations },
});

const profile = (o: { name?: string; enforcers?: Enforcer[]; generation?: number; modelling?: boolean } = {}) => {
  const name = o.name ?? P;
  const enforcers = o.enforcers ?? ['BPF'];
  return decodeArmorProfile(
    armorProfile({
      profileName: name,
      namespace: 'shop',
      enforcers,
      generation: o.generation,
      seccomp: enforcers.includes('Seccomp') ? DENY_MKDIR : undefined,
      bpf: enforcers.includes('BPF') ? bpfTables(name, VT_MODE_ENFORCE) : undefined,
      behaviorModeling: o.modelling !== undefined ? { enable: o.modelling, duration: 5 } : undefined,
    }),
  );
};

interface World {
  dir: string;
  agent: NodeAgent;
  backend: FakeBpfBackend;
  metrics: AgentMetrics;
  listed: RuntimeContainer[];
  statuses: { target: string; cond: Parameters<StatusSink['set']>[1] }[];
  uploads: { profile: string; bpf: BehaviorData }[];
  logs: Record<string, unknown>[];
}

let w: World;

function world(o: { mode?: 'enforce' | 'audit'; profileWaitMs?: number } = {}): World {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-node-'));
  const { handle, backend } = fakeBpf(o.mode);
  const logs: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n')) if (l.trim()) logs.push(JSON.parse(l) as Record<string, unknown>);
  });
  const listed: RuntimeContainer[] = [];
  const statuses: World['statuses'] = [];
  const uploads: World['uploads'] = [];
  const metrics = new AgentMetrics('node-a');
  const agent = new NodeAgent({
    nodeName: 'node-a',
    seccomp: new SeccompLoader(path.join(dir, 'seccomp')),
    appArmor: new AppArmorLoader({ profileDir: path.join(dir, 'apparmor.d'), securityfs: path.join(dir, 'no-apparmor') }),
    bpf: handle,
    cgroups: { ofPid: (pid) => ({ path: `/pod/${pid}`, dir: `/sys/fs/cgroup/pod/${pid}`, id: cg(pid) }) },
    runtime: { list: async () => listed },
    log: createLogger({ component: 'agent', stream, defaultMeta: { nodeName: 'node-a' } }),
    metrics,
    status: { set: (t, cond) => statuses.push({ target: `${t.namespace}/${t.name}`, cond }) },
    models: {
      async upload(p, data) {
        uploads.push({ profile: p.profileName, bpf: data.bpf });
      },
    },
    profileWaitMs: o.profileWaitMs ?? 20,
  });
  return { dir, agent, backend, metrics, listed, statuses, uploads, logs };
}

const lastStatus = () => w.statuses[w.statuses.length - 1]?.cond;
const gauge = async (g: { get(): Promise<{ values: { value: number }[] }> }) => (await g.get()).values[0]?.value;
/** Winston writes through a stream: let it flush before reading the log lines. */
const flushLogs = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  w = world();
});
afterEach(() => {
  fs.rmSync(w.dir, { recursive: true, force: true });
});

describe('node agent core', () => {
  it('places BPF tables only when a targeted container starts, binds it from the hook armed at exec, withdraws them with the last container', async () => {
    await w.agent.applyProfile(profile());
    expect(w.backend.tables.size).toBe(0);
    expect(lastStatus()).toBeNull();

    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()))).toEqual({ ok: true });
    expect(w.backend.binds).toEqual([{ cgroupId: cg(11), policyId: POLICY, armOnExec: true }]);
    expect(w.backend.tables.get(POLICY)).toEqual(profile().bpfTables);
    expect(lastStatus()).toMatchObject({ nodeName: 'node-a', status: 'True', reason: 'Loaded' });
    expect(w.agent.containerRecords()).toEqual([expect.objectContaining({ containerId: 'c1', podName: 'web-0', cgroupId: cg(11), boundPolicy: POLICY })]);
    expect(await gauge(w.metrics.boundContainers)).toBe(1);
    expect(await gauge(w.metrics.bpfPolicies)).toBe(1);

    expect(await w.agent.handleHook(hook('poststop', 'c1', 11, bpfTarget()))).toEqual({ ok: true });
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(lastStatus()).toBeNull();
    expect(w.agent.containerRecords()).toEqual([]);
    expect(await gauge(w.metrics.boundContainers)).toBe(0);
    expect(await gauge(w.metrics.bpfPolicies)).toBe(0);
  });

  it('refuses a BPF-targeted container whose profile stays unknown, waits for one on its way, lets others through', async () => {
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget('ghost')))).toEqual({
      ok: false,
      reason: 'ArmorProfile for ghost (BPF) is not known on node node-a',
    });
    expect(await w.agent.handleHook(hook('createRuntime', 'c2', 12, identity()))).toEqual({ ok: true });
    expect(w.agent.containerRecords().map((r) => r.containerId)).toEqual(['c1']);

    fs.rmSync(w.dir, { recursive: true, force: true });
    w = world({ profileWaitMs: 5000 });
    const pending = w.agent.handleHook(hook('createRuntime', 'c3', 13, bpfTarget()));
    await w.agent.applyProfile(profile());
    expect(await pending).toEqual({ ok: true });
    expect(w.backend.bound.get(cg(13))).toBe(POLICY);
  });

  it('a table load the kernel refuses keeps the container from starting and reports the profile False', async () => {
    await w.agent.applyProfile(profile());
    w.backend.failNextLoad = 'map full';
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()))).toEqual({ ok: false, reason: `loading BPF policy ${P}: map full` });
    expect(lastStatus()).toMatchObject({ status: 'False', reason: 'LoadFailed', message: 'BPF: map full' });
    expect(w.backend.bound.size).toBe(0);
  });

  it('reconcile binds what the hook did not see, forgets containers gone, removes kernel entries nobody owns', async () => {
    await w.agent.applyProfile(profile());
    w.listed.push({ id: 'c2', running: true, pid: 12, annotations: bpfTarget() });
    w.backend.bound.set(999n, POLICY);
    expect(await w.agent.reconcileContainers()).toEqual({ bound: 1, removed: 0, stale: 1 });
    expect(w.backend.binds).toEqual([{ cgroupId: cg(12), policyId: POLICY, armOnExec: false }]);
    expect(w.backend.bindings()).toEqual(new Map([[cg(12), POLICY]]));

    w.listed.splice(0);
    expect(await w.agent.reconcileContainers()).toEqual({ bound: 0, removed: 1, stale: 0 });
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
  });

  it('adopts the pinned binding of a running container without rebinding it, and swaps its tables in', async () => {
    w.backend.bound.set(cg(13), POLICY);
    w.listed.push({ id: 'c3', running: true, pid: 13, annotations: bpfTarget() }, { id: 'c4', running: false, pid: 0, annotations: bpfTarget() });
    await w.agent.applyProfile(profile());
    expect(w.backend.loads).toBe(0);
    expect(await w.agent.adoptPinnedBindings()).toBe(1);
    expect(w.backend.loads).toBe(1);
    expect(w.backend.binds).toEqual([]);
    expect(w.agent.containerRecords()).toEqual([expect.objectContaining({ containerId: 'c3', boundPolicy: POLICY })]);
    expect(lastStatus()).toMatchObject({ status: 'True', reason: 'Loaded' });
    expect(await w.agent.reconcileContainers()).toEqual({ bound: 0, removed: 0, stale: 0 });
    expect(w.backend.bindings()).toEqual(new Map([[cg(13), POLICY]]));
  });

  it('logs what was not allowed as a violation of the container, "would deny" in audit mode', async () => {
    fs.rmSync(w.dir, { recursive: true, force: true });
    w = world({ mode: 'audit' });
    await w.agent.applyProfile(profile());
    await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()));
    expect(lastStatus()).toMatchObject({ status: 'True', reason: 'EnforcerUnavailable' });
    w.backend.events.push(
      { timeNs: 1n, cgroupId: cg(11), pid: 11, policyId: POLICY, hook: 'file_open', decision: 'allowed', path: '/etc/hosts', detail: 4 },
      { timeNs: 2n, cgroupId: cg(11), pid: 11, policyId: POLICY, hook: 'file_open', decision: 'denied', path: '/etc/secret', detail: 4 },
    );
    expect(w.agent.pumpEvents()).toBe(2);
    await flushLogs();
    const violations = w.logs.filter((l) => l['message'] === 'violation');
    expect(violations).toEqual([
      expect.objectContaining({ action: 'DENIED', enforced: false, profileName: P, namespace: 'shop', pod: 'web-0', container: 'app', containerId: 'c1' }),
    ]);
  });

  it('models a Seccomp-only profile through record-only tables, hands the record over and withdraws them when modelling ends', async () => {
    const S = 'varmor-shop-modelled';
    const annotations = { ...identity(), [ANNOTATION.seccomp('app')]: `localhost/${S}` };
    await w.agent.applyProfile(profile({ name: S, enforcers: ['Seccomp'], modelling: true }));
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, annotations))).toEqual({ ok: true });
    expect(w.backend.tables.get(bpfPolicyId(S))).toEqual(bpfTablesOf(profile({ name: S, enforcers: ['Seccomp'] })));
    w.backend.events.push({ timeNs: 1n, cgroupId: cg(11), pid: 11, policyId: bpfPolicyId(S), hook: 'exec', decision: 'allowed', path: '/bin/busybox', detail: 1 });
    w.agent.pumpEvents();

    await w.agent.applyProfile(profile({ name: S, enforcers: ['Seccomp'], modelling: false, generation: 2 }));
    await flushLogs();
    expect(w.uploads).toEqual([{ profile: S, bpf: expect.objectContaining({ executions: ['/bin/busybox'] }) }]);
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.logs.some((l) => l['message'] === 'violation')).toBe(false);
  });

  it('placing ahead of pods: prewarm loads a BPF profile for a pod on its way, release withdraws it', async () => {
    await w.agent.applyProfile(profile());
    w.agent.prewarm([P, 'unknown']);
    expect(w.backend.tables.has(POLICY)).toBe(true);
    expect(lastStatus()).toMatchObject({ status: 'True', reason: 'Loaded' });
    w.agent.release([P]);
    expect(w.backend.tables.size).toBe(0);
    expect(lastStatus()).toBeNull();
  });

  it('removing a profile removes its Seccomp file, unbinds its containers and withdraws its tables; stale files go after the first sync', async () => {
    await w.agent.applyProfile(profile({ enforcers: ['BPF', 'Seccomp'] }));
    const file = new SeccompLoader(path.join(w.dir, 'seccomp')).pathOf(P);
    expect(fs.readFileSync(file, 'utf8')).toBe(DENY_MKDIR);
    await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()));
    expect(w.backend.bound.size).toBe(1);

    await w.agent.removeProfile(P);
    expect(fs.existsSync(file)).toBe(false);
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.agent.profileNames()).toEqual([]);

    new SeccompLoader(path.join(w.dir, 'seccomp')).write('left-behind', '{}');
    await w.agent.applyProfile(profile({ name: 'kept', enforcers: ['Seccomp'] }));
    expect(w.agent.removeStaleSeccompFiles()).toEqual(['left-behind']);
  });
});
