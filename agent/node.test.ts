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
import { PodIndex } from './binding/pods.js';
import { signBinding, bindingAnnotation } from '../profiler/binding.js';
import { LABEL_POLICY_KIND } from '../profiler/api/well-known.js';
import { BPF_TABLE_QUOTA } from '../profiler/bpf/quota.js';
import { armorProfile, bpfTables, DENY_MKDIR, VT_MODE_ENFORCE, VT_MODE_RECORD } from '../testing/agent/profiles.js';

const P = 'varmor-shop-web';
const POLICY = bpfPolicyId(P);

const identity = (pod = 'web-0', namespace = 'shop', container = 'app') => ({
  'io.kubernetes.cri.container-type': 'container',
  'io.kubernetes.cri.container-name': container,
  'io.kubernetes.cri.sandbox-name': pod,
  'io.kubernetes.cri.sandbox-namespace': namespace,
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
      mode: o.modelling ? 'BehaviorModeling' : undefined,
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
  uploads: { profile: string; bpf: BehaviorData; syscalls?: string[] }[];
  logs: Record<string, unknown>[];
  podEvents: { pod: string; reason: string; message: string }[];
  pods: PodIndex;
}

let w: World;

function world(o: { mode?: 'enforce' | 'audit'; profileWaitMs?: number; bindingKey?: Buffer } = {}): World {
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
  const podEvents: World['podEvents'] = [];
  const pods = new PodIndex();
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
        uploads.push({ profile: p.profileName, bpf: data.bpf, ...(data.syscalls ? { syscalls: data.syscalls } : {}) });
      },
    },
    profileWaitMs: o.profileWaitMs ?? 20,
    podWaitMs: 20,
    bindingKey: o.bindingKey,
    pods,
    podEvents: { warn: (pod, reason, message) => podEvents.push({ pod: `${pod.namespace}/${pod.name}`, reason, message }) },
  });
  return { dir, agent, backend, metrics, listed, statuses, uploads, logs, podEvents, pods };
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

  it('audit-only BPF serves a BehaviorModeling profile: it records, and denies nothing by design', async () => {
    fs.rmSync(w.dir, { recursive: true, force: true });
    w = world({ mode: 'audit' });
    const p = profile({ modelling: true });
    expect(p.mode).toBe('BehaviorModeling');
    await w.agent.applyProfile(p);
    await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()));
    expect(lastStatus()).toMatchObject({ status: 'True', reason: 'Loaded' });
  });

  it('logs what was not allowed as a violation of the container, "would deny" in audit mode', async () => {
    fs.rmSync(w.dir, { recursive: true, force: true });
    w = world({ mode: 'audit' });
    await w.agent.applyProfile(profile());
    await w.agent.handleHook(hook('createRuntime', 'c1', 11, bpfTarget()));
    // a BPF-only EnhanceProtect profile where BPF only audits: the container runs unprotected
    expect(lastStatus()).toMatchObject({ status: 'False', reason: 'NotProtected' });
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
    w.backend.syscallsMade.set(bpfPolicyId(S), [59]); // left from an earlier run: dropped at the start
    await w.agent.applyProfile(profile({ name: S, enforcers: ['Seccomp'], modelling: true }));
    expect(w.backend.recordingSyscalls).toBe(true);
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, annotations))).toEqual({ ok: true });
    expect(w.backend.tables.get(bpfPolicyId(S))).toEqual(bpfTablesOf(profile({ name: S, enforcers: ['Seccomp'] })));
    w.backend.events.push({ timeNs: 1n, cgroupId: cg(11), pid: 11, policyId: bpfPolicyId(S), hook: 'exec', decision: 'allowed', path: '/bin/busybox', detail: 1 });
    w.agent.pumpEvents();
    // what the recorder saw (x86_64 numbers on x64, aarch64 on arm64; 511 is no syscall of either)
    const nr = process.arch === 'arm64' ? [63, 34, 511] : [0, 83, 511];
    w.backend.syscallsMade.set(bpfPolicyId(S), nr);

    await w.agent.applyProfile(profile({ name: S, enforcers: ['Seccomp'], modelling: false, generation: 2 }));
    await flushLogs();
    expect(w.uploads).toEqual([{ profile: S, bpf: expect.objectContaining({ executions: ['/bin/busybox'] }), syscalls: process.arch === 'arm64' ? ['mkdirat', 'read'] : ['mkdir', 'read'] }]);
    expect(w.backend.recordingSyscalls).toBe(false); // the last run ended: no sys_enter program on the node
    expect(w.logs.find((l) => l['message'] === 'behaviour modelling ended')).toMatchObject({ syscalls: 2, unnamedSyscalls: [511] });
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.logs.some((l) => l['message'] === 'violation')).toBe(false);
  });

  it('placing ahead of pods: prewarm loads a BPF profile for a pod on its way, release withdraws it', async () => {
    await w.agent.applyProfile(profile());
    w.agent.prewarm([P, 'unknown'], 'shop');
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

    await w.agent.removeProfile({ namespace: 'shop', name: P });
    expect(fs.existsSync(file)).toBe(false);
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.agent.profileNames()).toEqual([]);

    new SeccompLoader(path.join(w.dir, 'seccomp')).write('left-behind', '{}');
    await w.agent.applyProfile(profile({ name: 'kept', enforcers: ['Seccomp'] }));
    expect(w.agent.removeStaleSeccompFiles()).toEqual(['left-behind']);
  });
});

// ---- tenant isolation (issue 16): each test plays a tenant of another namespace ---------------

const T1 = '2026-01-01T00:00:00Z';
const T2 = '2026-01-02T00:00:00Z';
const ALLOW_ALL = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW' });
const statusOf = (target: string) => [...w.statuses].reverse().find((s) => s.target === target)?.cond;

/** An ArmorProfile of `namespace` (object named after its profile, as the controller names it). */
const tenantProfile = (o: {
  namespace: string;
  name: string;
  created: string;
  enforcers?: Enforcer[];
  seccomp?: string;
  mode?: number;
  labels?: Record<string, string>;
  modelling?: boolean;
}) => {
  const enforcers = o.enforcers ?? ['BPF'];
  return decodeArmorProfile(
    armorProfile({
      profileName: o.name,
      namespace: o.namespace,
      uid: `uid-${o.namespace}-${o.name}`,
      creationTimestamp: o.created,
      labels: o.labels,
      enforcers,
      seccomp: enforcers.includes('Seccomp') ? (o.seccomp ?? DENY_MKDIR) : undefined,
      bpf: enforcers.includes('BPF') ? bpfTables(o.name, o.mode ?? VT_MODE_ENFORCE) : undefined,
      behaviorModeling: o.modelling !== undefined ? { enable: o.modelling, duration: 5 } : undefined,
    }),
  );
};

/** A container of `namespace` whose pod carries `refs` (enforcer annotation -> profile) for `as`. */
const podOf = (namespace: string, refs: Partial<Record<'bpf' | 'seccomp' | 'appArmor', string>>, o: { container?: string; as?: string; pod?: string } = {}) => {
  const as = o.as ?? o.container ?? 'app';
  const out: Record<string, string> = { ...identity(o.pod ?? 'web-0', namespace, o.container ?? 'app') };
  for (const [k, v] of Object.entries(refs)) out[ANNOTATION[k as 'bpf'](as)] = `localhost/${v}`;
  return out;
};

describe('tenant isolation: profile identity', () => {
  const SHARED = 'varmor-team-prod-web'; // ns team, policy prod-web == ns team-prod, policy web
  const older = () => tenantProfile({ namespace: 'team', name: SHARED, created: T1, enforcers: ['BPF', 'Seccomp'], seccomp: DENY_MKDIR });
  const younger = () => tenantProfile({ namespace: 'team-prod', name: SHARED, created: T2, enforcers: ['BPF', 'Seccomp'], seccomp: ALLOW_ALL, mode: VT_MODE_RECORD });

  for (const order of ['older first', 'younger first'] as const) {
    it(`one profile name in two namespaces (${order}): the older holds it, the younger is refused, deleting the younger leaves the holder`, async () => {
      const file = new SeccompLoader(path.join(w.dir, 'seccomp')).pathOf(SHARED);
      const [first, second] = order === 'older first' ? [older(), younger()] : [younger(), older()];
      await w.agent.applyProfile(first);
      if (order === 'older first') expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team', { bpf: SHARED })))).toEqual({ ok: true });
      await w.agent.applyProfile(second);
      if (order === 'younger first') expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team', { bpf: SHARED })))).toEqual({ ok: true });

      expect(fs.readFileSync(file, 'utf8')).toBe(DENY_MKDIR);
      expect(w.backend.tables.get(bpfPolicyId(SHARED))).toEqual(older().bpfTables);
      expect(w.backend.bound.get(cg(11))).toBe(bpfPolicyId(SHARED));
      expect(statusOf(`team-prod/${SHARED}`)).toMatchObject({ status: 'False', reason: 'ProfileNameConflict', message: expect.stringContaining(`team/${SHARED}`) });
      expect(statusOf(`team/${SHARED}`)).toMatchObject({ status: 'True' });

      await w.agent.removeProfile({ namespace: 'team-prod', name: SHARED });
      expect(fs.readFileSync(file, 'utf8')).toBe(DENY_MKDIR);
      expect(w.backend.tables.get(bpfPolicyId(SHARED))).toEqual(older().bpfTables);
      expect(w.backend.bound.get(cg(11))).toBe(bpfPolicyId(SHARED));
      expect(w.agent.profileNames()).toEqual([SHARED]);
    });
  }

  it('two names with one FNV-1a policy id: the younger cannot swap the holder\'s tables, nor unload them by going', async () => {
    const A = 'varmor-team-a-web25459';
    const B = 'varmor-team-b-x714004'; // found by a birthday search: the attacker's cost is seconds
    expect(bpfPolicyId(A)).toBe(bpfPolicyId(B));
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-a', { bpf: A })))).toEqual({ ok: true });
    const holderTables = w.backend.tables.get(bpfPolicyId(A));

    await w.agent.applyProfile(tenantProfile({ namespace: 'team-b', name: B, created: T2, mode: VT_MODE_RECORD }));
    expect(w.backend.tables.get(bpfPolicyId(A))).toBe(holderTables);
    expect(statusOf(`team-b/${B}`)).toMatchObject({ status: 'False', reason: 'PolicyIdConflict', message: expect.stringContaining(`team-a/${A}`) });
    const refused = await w.agent.handleHook(hook('createRuntime', 'c2', 12, podOf('team-b', { bpf: B })));
    expect(refused.ok).toBe(false);
    expect(w.backend.bound.has(cg(12))).toBe(false);

    await w.agent.removeProfile({ namespace: 'team-b', name: B });
    expect(w.backend.tables.get(bpfPolicyId(A))).toBe(holderTables);
    expect(w.backend.bound.get(cg(11))).toBe(bpfPolicyId(A));
  });
});

describe('tenant isolation: binding authorization', () => {
  const A = 'varmor-team-a-web';

  it('a container of namespace B annotated with namespace A\'s BPF profile does not start, and its pod gets a Warning Event', async () => {
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    const d = await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-b', { bpf: A })));
    expect(d).toMatchObject({ ok: false, reason: expect.stringContaining('team-a') });
    expect(w.backend.bound.size).toBe(0);
    expect(w.podEvents).toEqual([expect.objectContaining({ pod: 'team-b/web-0', reason: 'BindingRefused' })]);
    // the profile's own namespace binds
    expect(await w.agent.handleHook(hook('createRuntime', 'c2', 12, podOf('team-a', { bpf: A })))).toEqual({ ok: true });
    expect(w.backend.bound.get(cg(12))).toBe(bpfPolicyId(A));
  });

  it('a cluster policy\'s profile binds any namespace; a namespaced policy in the product namespace does not', async () => {
    const C = 'varmor-cluster-varmor-base';
    const V = 'varmor-varmor-own';
    await w.agent.applyProfile(tenantProfile({ namespace: 'varmor', name: C, created: T1, labels: { [LABEL_POLICY_KIND]: 'VarmorClusterPolicy' } }));
    await w.agent.applyProfile(tenantProfile({ namespace: 'varmor', name: V, created: T1, labels: { [LABEL_POLICY_KIND]: 'VarmorPolicy' } }));
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-b', { bpf: C })))).toEqual({ ok: true });
    expect((await w.agent.handleHook(hook('createRuntime', 'c2', 12, podOf('team-b', { bpf: V })))).ok).toBe(false);
    expect([...w.backend.bound.keys()]).toEqual([cg(11)]);
  });

  it('a record-only binding to another namespace\'s modelled profile is not made (the container starts unrecorded)', async () => {
    const S = 'varmor-team-a-modelled';
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: S, created: T1, enforcers: ['Seccomp'], modelling: true }));
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-b', { seccomp: S })))).toEqual({ ok: true });
    expect(w.backend.bound.size).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.podEvents).toEqual([expect.objectContaining({ pod: 'team-b/web-0', reason: 'BindingRefused' })]);
  });

  it('with a binding key: a missing or copied signature is refused, the webhook\'s signature binds', async () => {
    fs.rmSync(w.dir, { recursive: true, force: true });
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    w = world({ bindingKey: key });
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    const refs = { BPF: `localhost/${A}` };
    const unsigned = podOf('team-a', { bpf: A });
    expect((await w.agent.handleHook(hook('createRuntime', 'c1', 11, unsigned))).ok).toBe(false);
    const copied = { ...unsigned, [bindingAnnotation('app')]: signBinding(key, 'team-a', 'sidecar', refs) };
    expect((await w.agent.handleHook(hook('createRuntime', 'c2', 12, copied))).ok).toBe(false);
    const forged = { ...unsigned, [bindingAnnotation('app')]: signBinding(Buffer.from('another-key-0123456789'), 'team-a', 'app', refs) };
    expect((await w.agent.handleHook(hook('createRuntime', 'c3', 13, forged))).ok).toBe(false);
    expect(w.backend.bound.size).toBe(0);
    const signed = { ...unsigned, [bindingAnnotation('app')]: signBinding(key, 'team-a', 'app', refs) };
    expect(await w.agent.handleHook(hook('createRuntime', 'c4', 14, signed))).toEqual({ ok: true });
    expect([...w.backend.bound.keys()]).toEqual([cg(14)]);
  });
});

describe('tenant isolation: ephemeral containers', () => {
  const A = 'varmor-team-a-web';
  const pod = (ephemeral: { name: string; targetContainerName?: string }[]) => ({
    metadata: { name: 'web-0', namespace: 'team-a', uid: 'uid-web-0' },
    spec: { nodeName: 'node-a', containers: [{ name: 'app' }, { name: 'sidecar' }], ephemeralContainers: ephemeral },
  });

  it('kubectl debug --target=app: the debug container is bound like its target, verified with the target\'s name', async () => {
    fs.rmSync(w.dir, { recursive: true, force: true });
    const key = Buffer.from('0123456789abcdef0123456789abcdef');
    w = world({ bindingKey: key });
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    w.pods.apply(pod([{ name: 'debugger', targetContainerName: 'app' }]));
    const annotations = { ...podOf('team-a', { bpf: A }, { container: 'debugger', as: 'app' }), [bindingAnnotation('app')]: signBinding(key, 'team-a', 'app', { BPF: `localhost/${A}` }) };
    expect(await w.agent.handleHook(hook('createRuntime', 'c1', 11, annotations))).toEqual({ ok: true });
    expect(w.backend.bound.get(cg(11))).toBe(bpfPolicyId(A));
    // an untargeted regular container of the same pod is not bound, and starts
    expect(await w.agent.handleHook(hook('createRuntime', 'c2', 12, podOf('team-a', { bpf: A }, { container: 'sidecar', as: 'app' })))).toEqual({ ok: true });
    expect(w.backend.bound.has(cg(12))).toBe(false);
  });

  it('an ephemeral container of a pod the agent cannot find does not start', async () => {
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    const d = await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-a', { bpf: A }, { container: 'debugger', as: 'app' })));
    expect(d.ok).toBe(false);
    expect(w.backend.bound.size).toBe(0);
  });
});

describe('BPF loads leave other policies alone', () => {
  it('a failed reload keeps the previous version of this policy and every other policy\'s tables and bindings', async () => {
    const A = 'varmor-team-a-web';
    const B = 'varmor-team-b-web';
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-b', name: B, created: T1 }));
    await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-a', { bpf: A })));
    await w.agent.handleHook(hook('createRuntime', 'c2', 12, podOf('team-b', { bpf: B })));
    const before = new Map(w.backend.tables);
    w.backend.failNextLoad = 'map full';
    const next = decodeArmorProfile(
      armorProfile({ profileName: B, namespace: 'team-b', uid: `uid-team-b-${B}`, creationTimestamp: T1, enforcers: ['BPF'], generation: 2, bpf: bpfTables(B, VT_MODE_RECORD) }),
    );
    await w.agent.applyProfile(next);
    expect(w.backend.tables).toEqual(before);
    expect(w.backend.bindings()).toEqual(new Map([[cg(11), bpfPolicyId(A)], [cg(12), bpfPolicyId(B)]]));
    expect(statusOf(`team-b/${B}`)).toMatchObject({ status: 'False', message: 'BPF: map full' });
  });
});

describe('BPF table quota at load', () => {
  it('a profile over the per-policy quota is never loaded: Ready=False naming the table and counts, the container refused, nothing written', async () => {
    const Q = 'varmor-team-a-huge';
    const huge = decodeArmorProfile(
      armorProfile({
        profileName: Q,
        namespace: 'team-a',
        creationTimestamp: T1,
        enforcers: ['BPF'],
        bpf: bpfTables(Q, VT_MODE_ENFORCE, (t) => {
          for (let i = 0; i <= BPF_TABLE_QUOTA; i++) t.pathExact.push({ path: `/data/f${i}`, deny: 1, audit: 0 });
        }),
      }),
    );
    await w.agent.applyProfile(huge);
    const over = `pathExact ${BPF_TABLE_QUOTA + 1} > ${BPF_TABLE_QUOTA}`;
    expect(statusOf(`team-a/${Q}`)).toMatchObject({ status: 'False', reason: 'BpfQuotaExceeded', message: expect.stringContaining(over) });
    const d = await w.agent.handleHook(hook('createRuntime', 'c1', 11, podOf('team-a', { bpf: Q })));
    expect(d).toMatchObject({ ok: false, reason: expect.stringContaining(over) });
    w.agent.prewarm([Q], 'team-a');
    expect(w.backend.loads).toBe(0);
    expect(w.backend.tables.size).toBe(0);
    expect(w.backend.bound.size).toBe(0);
  });
});

describe('tenant isolation: the holder goes, restarts', () => {
  const SHARED = 'varmor-team-prod-web';

  it('deleting the holder unloads it and the oldest refused identity takes the name', async () => {
    const file = new SeccompLoader(path.join(w.dir, 'seccomp')).pathOf(SHARED);
    await w.agent.applyProfile(tenantProfile({ namespace: 'team', name: SHARED, created: T1, enforcers: ['Seccomp'], seccomp: DENY_MKDIR }));
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-prod', name: SHARED, created: T2, enforcers: ['Seccomp'], seccomp: ALLOW_ALL }));
    expect(fs.readFileSync(file, 'utf8')).toBe(DENY_MKDIR);
    await w.agent.removeProfile({ namespace: 'team', name: SHARED });
    expect(fs.readFileSync(file, 'utf8')).toBe(ALLOW_ALL);
    expect(statusOf(`team-prod/${SHARED}`)).toMatchObject({ status: 'True' });
  });

  it('after a restart, a pinned binding to another namespace\'s policy is not adopted but removed', async () => {
    const A = 'varmor-team-a-web';
    w.backend.bound.set(cg(13), bpfPolicyId(A)); // bound by an earlier agent that did not check
    w.backend.bound.set(cg(14), bpfPolicyId(A));
    w.listed.push(
      { id: 'c3', running: true, pid: 13, annotations: podOf('team-b', { bpf: A }) },
      { id: 'c4', running: true, pid: 14, annotations: podOf('team-a', { bpf: A }) },
    );
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    expect(await w.agent.adoptPinnedBindings()).toBe(1);
    await w.agent.reconcileContainers();
    expect(w.backend.bindings()).toEqual(new Map([[cg(14), bpfPolicyId(A)]]));
    expect(w.podEvents).toEqual([expect.objectContaining({ pod: 'team-b/web-0', reason: 'BindingRefused' })]);
  });

  it('a pod of namespace B referencing A\'s profile does not make the node place A\'s tables', async () => {
    const A = 'varmor-team-a-web';
    await w.agent.applyProfile(tenantProfile({ namespace: 'team-a', name: A, created: T1 }));
    w.agent.prewarm([A], 'team-b');
    expect(w.backend.tables.size).toBe(0);
    w.agent.prewarm([A], 'team-a');
    expect(w.backend.tables.has(bpfPolicyId(A))).toBe(true);
  });
});
