// The agent's core against the real thing: Debian's containerd and runc started with their own
// root and state, pods created through CRI like the kubelet does, the varmor-hook C binary in the
// base runtime spec, and the BPF addon in audit mode (this host's kernel refuses BPF LSM: the
// tp_btf programs record what enforce mode would judge). Profiles are handed to the core
// decoded from ArmorProfile objects; the API server side is covered by agent.apiserver.test.ts.

import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, startContainerd, type TestContainerd } from '../testing/agent/containerd.js';
import { importTestImages, PAUSE_IMAGE } from '../testing/agent/images.js';
import { createPod, removePod, waitForOutput, type TestPod } from '../testing/agent/pod.js';
import { mountBpffs } from '../testing/agent/bpffs.js';
import { armorProfile, bpfTables, DENY_MKDIR, VT_MODE_ENFORCE, VT_MODE_RECORD } from '../testing/agent/profiles.js';
import { buildHook } from './hook/build.js';
import { HookServer } from './hook/server.js';
import { NodeAgent } from './node.js';
import { SeccompLoader } from './loaders/seccomp.js';
import { AppArmorLoader } from './loaders/apparmor.js';
import { type BpfEvent, type BpfHandle, openBpf } from './loaders/bpf.js';
import { CgroupResolver } from './cgroup/resolve.js';
import { cgroup2MountFromMountinfo, unifiedPathFromProcCgroup } from './cgroup/parse.js';
import { CriClient } from './runtime/cri.js';
import { CriContainerSource } from './runtime/containers.js';
import { createLogger } from '../cli/log.js';
import { AgentMetrics } from './metrics.js';
import { decodeArmorProfile } from './profiles/decode.js';
import { bpfPolicyId, seccompLocalhostProfile } from '../profiler/names.js';
import type { ModelSink } from './modeling/session.js';
import type { BehaviorData } from '../profiler/api/types.js';
import { PassThrough } from 'node:stream';

const unavailable = containerdAvailable();
const d = unavailable ? describe.skip : describe;
if (unavailable) console.warn(`agent containerd tests skipped: ${unavailable}`);

const BPF_PROFILE = 'varmor-default-bpf-first-exec';
const SECCOMP_PROFILE = 'varmor-default-no-mkdir';

/** Log lines the agent wrote (JSON), for the violation assertions. */
const logLines: Record<string, unknown>[] = [];
const logStream = new PassThrough();
logStream.on('data', (c: Buffer) => {
  for (const l of c.toString().split('\n')) if (l.trim()) logLines.push(JSON.parse(l) as Record<string, unknown>);
});

/** Captures what the agent hands the controller (the API upload is covered in agent.apiserver.test.ts). */
const uploaded: { profile: string; bpf: BehaviorData }[] = [];
const modelSink: ModelSink = {
  async upload(p, data) {
    uploaded.push({ profile: p.profileName, bpf: data.bpf });
  },
};

function makeAgent(dir: string, bpf: BpfHandle, socket: string): NodeAgent {
  return new NodeAgent({
    nodeName: 'node-a',
    seccomp: new SeccompLoader(path.join(dir, 'seccomp')),
    appArmor: new AppArmorLoader({ profileDir: path.join(dir, 'apparmor.d') }),
    bpf,
    cgroups: new CgroupResolver(),
    runtime: new CriContainerSource(new CriClient(socket)),
    log: createLogger({ component: 'agent', stream: logStream, defaultMeta: { nodeName: 'node-a' } }),
    metrics: new AgentMetrics('node-a'),
    models: modelSink,
    profileWaitMs: 2000,
  });
}

function cgroupIdFromProc(pid: number): bigint {
  const mount = cgroup2MountFromMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))!;
  const rel = unifiedPathFromProcCgroup(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  return fs.statSync(path.join(mount, rel), { bigint: true }).ino;
}

d('agent with containerd, runc and the OCI hook', () => {
  let dir: string;
  let ctrd: TestContainerd;
  let bpffs: ReturnType<typeof mountBpffs> | undefined;
  let bpf: BpfHandle;
  let agent: NodeAgent;
  let hook: HookServer;
  let hookSocket: string;
  const pods: TestPod[] = [];
  const events: BpfEvent[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-agent-'));
    const hookBin = buildHook(path.join(dir, 'bin', 'varmor-hook'));
    hookSocket = path.join(dir, 'hook.sock');
    bpffs = mountBpffs();
    bpf = await openBpf('audit', path.join(bpffs.dir, 'varmor'));
    if (!bpf.backend) console.warn(`BPF audit programs unavailable: ${bpf.unavailable}`);
    ctrd = await startContainerd({ sandboxImage: PAUSE_IMAGE, hook: { path: hookBin, socket: hookSocket } });
    await importTestImages(ctrd);
    agent = makeAgent(dir, bpf, ctrd.socket);
    hook = new HookServer(hookSocket, (req) => agent.handleHook(req));
    await hook.listen();
  }, 120_000);

  afterAll(async () => {
    for (const p of pods) await removePod(ctrd, p).catch(() => undefined);
    await hook?.close();
    await ctrd?.stop();
    try {
      bpf?.backend?.detach({ unpin: true });
    } catch {
      // already detached by the restart test
    }
    bpffs?.unmount();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('writes the Seccomp profile atomically where the webhook points, and the container runs under it', async () => {
    await agent.applyProfile(decodeArmorProfile(armorProfile({ profileName: SECCOMP_PROFILE, enforcers: ['Seccomp'], seccomp: DENY_MKDIR })));
    const file = path.join(dir, 'seccomp', seccompLocalhostProfile(SECCOMP_PROFILE));
    expect(fs.readFileSync(file, 'utf8')).toBe(DENY_MKDIR);
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp'))).toEqual([]);

    const script = 'mkdir /tmp/d && echo MKDIR_OK || echo MKDIR_DENIED; sleep 3600';
    const pod = await createPod(ctrd, {
      name: 'seccomp-pod',
      annotations: { [`container.seccomp.security.beta.varmor.org/c1`]: `localhost/${SECCOMP_PROFILE}` },
      containers: [
        // What the kubelet sends for securityContext.seccompProfile {Localhost, varmor/<name>.json}.
        { name: 'c1', command: ['/bin/sh', '-c', script], seccomp: { profileType: 'Localhost', localhostRef: file } },
        { name: 'c2', command: ['/bin/sh', '-c', script] },
      ],
    });
    pods.push(pod);
    expect(await waitForOutput(pod, 'c1', /MKDIR_/)).toContain('MKDIR_DENIED');
    // The same syscall outside the filter: the unconfined container next to it, and this process.
    expect(await waitForOutput(pod, 'c2', /MKDIR_/)).toContain('MKDIR_OK');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    expect(fs.statSync(outside).isDirectory()).toBe(true);
    const info = await ctrd.cri.containerInfo(pod.containerIds['c1']!);
    expect(fs.readFileSync(`/proc/${info.pid}/status`, 'utf8')).toMatch(/^Seccomp:\s+2$/m);
  }, 60_000);

  it('resolves the container cgroup id that /proc/<pid>/cgroup names, binds it from the hook before the first exec', async () => {
    await agent.applyProfile(
      decodeArmorProfile(armorProfile({ profileName: BPF_PROFILE, enforcers: ['BPF'], mode: 'BehaviorModeling', bpf: bpfTables(BPF_PROFILE, VT_MODE_RECORD) })),
    );
    const pod = await createPod(ctrd, {
      name: 'bpf-pod',
      annotations: { [`container.bpf.security.beta.varmor.org/app`]: `localhost/${BPF_PROFILE}` },
      containers: [{ name: 'app', command: ['/bin/sleep', '3600'] }],
    });
    pods.push(pod);
    const id = pod.containerIds['app']!;
    const info = await ctrd.cri.containerInfo(id);
    const rec = agent.containerRecords().find((r) => r.containerId === id);
    expect(rec).toBeDefined();
    expect(rec!.cgroupId).toBe(cgroupIdFromProc(info.pid));
    expect(rec!.podName).toBe('bpf-pod');
    expect(rec!.containerName).toBe('app');
    if (!bpf.backend) {
      console.warn(`bind check skipped: ${bpf.unavailable}`);
      return;
    }
    expect(rec!.boundPolicy).toBe(bpfPolicyId(BPF_PROFILE));
    expect(bpf.backend.bindings().get(rec!.cgroupId!)).toBe(bpfPolicyId(BPF_PROFILE));

    // Record mode reports every hooked event of the bound cgroup. The binding was armed at the
    // container's first execve (the hook ran before it): that exec is in the record, with the
    // container's cgroup id. A bind after start (vArmor's way) would miss it.
    for (let i = 0; i < 50 && !events.some((e) => e.cgroupId === rec!.cgroupId && e.hook === 'exec'); i++) {
      events.push(...bpf.backend.readEvents());
      await new Promise((r) => setTimeout(r, 100));
    }
    const mine = events.filter((e) => e.cgroupId === rec!.cgroupId);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0]!.hook).toBe('exec');
    expect(mine[0]!.policyId).toBe(bpfPolicyId(BPF_PROFILE));
    expect(mine[0]!.path).toMatch(/busybox|sleep/);
    expect(mine[0]!.pid).toBe(info.pid);
  }, 60_000);

  it('refuses to start a BPF-targeted container while the agent is unreachable (fail closed), others start', async () => {
    await hook.close();
    try {
      await expect(
        createPod(ctrd, {
          name: 'no-agent',
          annotations: { [`container.bpf.security.beta.varmor.org/app`]: `localhost/${BPF_PROFILE}` },
          containers: [{ name: 'app', command: ['/bin/sleep', '3600'] }],
        }),
      ).rejects.toThrow(/unreachable; refusing to start a BPF-confined container/);
      const plain = await createPod(ctrd, { name: 'plain', containers: [{ name: 'c', command: ['/bin/sleep', '3600'] }] });
      pods.push(plain);
      const st = await ctrd.cri.containerInfo(plain.containerIds['c']!);
      expect(st.state).toBe('CONTAINER_RUNNING');
    } finally {
      await hook.listen();
    }
  }, 60_000);

  it('logs a violation as structured JSON with pod, container, profile, rule and action', async () => {
    if (!bpf.backend) {
      console.warn(`violation test skipped: ${bpf.unavailable}`);
      return;
    }
    const name = 'varmor-default-deny-read';
    await agent.applyProfile(
      decodeArmorProfile(
        armorProfile({ profileName: name, enforcers: ['BPF'], bpf: bpfTables(name, VT_MODE_ENFORCE, (t) => t.pathExact.push({ path: '/tmp/f', deny: 0x4, audit: 0 })) }),
      ),
    );
    const pod = await createPod(ctrd, {
      name: 'violator',
      // the profile's own namespace: another namespace's pod is not bound to it (binding/authorize.ts)
      namespace: 'default',
      annotations: { 'container.bpf.security.beta.varmor.org/web': `localhost/${name}` },
      containers: [{ name: 'web', command: ['/bin/sh', '-c', 'echo x > /tmp/f; cat /tmp/f; echo CAT_DONE; sleep 3600'] }],
    });
    pods.push(pod);
    await waitForOutput(pod, 'web', /CAT_DONE/);
    let v: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !v; i++) {
      agent.pumpEvents();
      v = logLines.find((l) => l['message'] === 'violation' && l['pod'] === 'violator');
      if (!v) await new Promise((r) => setTimeout(r, 100));
    }
    expect(v).toMatchObject({
      level: 'warn',
      nodeName: 'node-a',
      enforcer: 'BPF',
      action: 'DENIED',
      // Audit-mode programs on this host: what enforce mode would have denied.
      enforced: false,
      profileName: name,
      namespace: 'default',
      pod: 'violator',
      container: 'web',
      containerId: pod.containerIds['web'],
      rule: { operation: 'file', path: '/tmp/f', permissions: expect.arrayContaining(['read']) },
    });
  }, 60_000);

  it('records a modelled container and hands the behaviour over when modelling ends', async () => {
    if (!bpf.backend) {
      console.warn(`modelling test skipped: ${bpf.unavailable}`);
      return;
    }
    const name = 'varmor-default-modelled';
    const ap = (enable: boolean, generation: number) =>
      decodeArmorProfile(
        armorProfile({ profileName: name, enforcers: ['BPF'], mode: 'BehaviorModeling', generation, bpf: bpfTables(name, VT_MODE_RECORD), behaviorModeling: { enable, duration: 5 } }),
      );
    await agent.applyProfile(ap(true, 1));
    const pod = await createPod(ctrd, {
      name: 'modelled',
      annotations: { 'container.bpf.security.beta.varmor.org/app': `localhost/${name}` },
      containers: [{ name: 'app', command: ['/bin/sh', '-c', 'cat /etc/passwd > /dev/null; echo MODEL_DONE; sleep 3600'] }],
    });
    pods.push(pod);
    await waitForOutput(pod, 'app', /MODEL_DONE/);
    await new Promise((r) => setTimeout(r, 300));
    agent.pumpEvents();
    await agent.applyProfile(ap(false, 2));
    const got = uploaded.find((u) => u.profile === name);
    expect(got).toBeDefined();
    expect(got!.bpf.executions).toEqual(expect.arrayContaining([expect.stringMatching(/busybox/)]));
    expect(got!.bpf.files).toEqual(expect.arrayContaining([{ path: '/etc/passwd', permissions: expect.arrayContaining(['read']) }]));
  }, 60_000);

  it('a restarted agent adopts the pinned bindings: none is lost, the kernel entry never goes away', async () => {
    if (!bpf.backend || !bpffs) {
      console.warn(`restart test skipped: ${bpf.unavailable}`);
      return;
    }
    const before = new Map(bpf.backend.bindings());
    const bound = agent.containerRecords().filter((r) => r.boundPolicy !== undefined);
    expect(bound.length).toBeGreaterThan(0);

    // The old process goes away: hook closed, BPF fds closed, pins kept.
    await hook.close();
    bpf.backend.detach({ unpin: false });
    const bpf2 = await openBpf('audit', path.join(bpffs.dir, 'varmor'));
    expect(bpf2.backend).not.toBeNull();
    // While no agent runs, the pinned bindings are in force.
    expect(bpf2.backend!.bindings()).toEqual(before);

    const agent2 = makeAgent(dir, bpf2, ctrd.socket);
    await agent2.applyProfile(
      decodeArmorProfile(armorProfile({ profileName: BPF_PROFILE, enforcers: ['BPF'], mode: 'BehaviorModeling', bpf: bpfTables(BPF_PROFILE, VT_MODE_RECORD) })),
    );
    expect(await agent2.adoptPinnedBindings()).toBe(bound.length);
    const r = await agent2.reconcileContainers();
    expect(r).toEqual({ bound: 0, removed: 0, stale: 0 });
    expect(bpf2.backend!.bindings()).toEqual(before);
    for (const old of bound) {
      const rec = agent2.containerRecords().find((x) => x.containerId === old.containerId);
      expect(rec).toMatchObject({ cgroupId: old.cgroupId, boundPolicy: old.boundPolicy, podName: old.podName, containerName: old.containerName });
    }
    agent = agent2;
    bpf = bpf2;
    hook = new HookServer(hookSocket, (req) => agent.handleHook(req));
    await hook.listen();
  }, 60_000);

  it('cleans a binding whose container went away while the agent could not hear its poststop', async () => {
    if (!bpf.backend) {
      console.warn(`stale-entry test skipped: ${bpf.unavailable}`);
      return;
    }
    const pod = pods.find((p) => p.sandboxConfig.metadata.name === 'violator')!;
    const rec = agent.containerRecords().find((r) => r.containerId === pod.containerIds['web'])!;
    expect(bpf.backend.bindings().has(rec.cgroupId!)).toBe(true);
    await hook.close();
    try {
      await removePod(ctrd, pod); // poststop cannot reach the agent: fail open, the entry stays
      pods.splice(pods.indexOf(pod), 1);
      expect(bpf.backend.bindings().has(rec.cgroupId!)).toBe(true);
    } finally {
      await hook.listen();
    }
    const r = await agent.reconcileContainers();
    expect(r.removed).toBe(1);
    expect(bpf.backend.bindings().has(rec.cgroupId!)).toBe(false);
    expect(agent.containerRecords().some((x) => x.containerId === rec.containerId)).toBe(false);
  }, 60_000);

  it('unbinds at poststop and withdraws the BPF tables with the last container', async () => {
    if (!bpf.backend) {
      console.warn(`unbind test skipped: ${bpf.unavailable}`);
      return;
    }
    const pod = pods.find((p) => p.sandboxConfig.metadata.name === 'bpf-pod')!;
    const rec = agent.containerRecords().find((r) => r.containerId === pod.containerIds['app'])!;
    await removePod(ctrd, pod);
    pods.splice(pods.indexOf(pod), 1);
    expect(bpf.backend.bindings().has(rec.cgroupId!)).toBe(false);
    expect(agent.containerRecords().some((r) => r.containerId === rec.containerId)).toBe(false);
    expect(bpf.backend.policies?.().has(bpfPolicyId(BPF_PROFILE))).toBe(false);
  }, 60_000);
});
