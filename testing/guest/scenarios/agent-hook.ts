// Guest scenario (testing/guest harness, suite `agent`): the agent's own hook path under a kernel
// that enforces BPF LSM. runc runs a container whose createRuntime hook asks the agent (the real
// HookServer + NodeAgent + cgroup resolution + BpfEnforcer in enforce mode) to bind it; the
// container's very first action is reading a file its profile forbids, and it is denied.
//
// The hook here is a stand-in for varmor-hook (named as such): the guest image has no C compiler
// and carries only what testing/guest/initramfs.ts puts in it, so a node script speaks the same
// protocol ("<stage>\n<state>", answer "ok"/"deny"). The C binary itself is tested with real runc
// on the host (agent/hook/varmor-hook.test.ts, agent/node.containerd.test.ts).

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { makeBundle, runc } from './container.js';
import { tablesFor } from '../guest/bpf.js';
import type { GuestCase } from '../guest/types.js';
import { HookServer } from '../../../agent/hook/server.js';
import { baseRuntimeSpec } from '../../../agent/hook/spec.js';
import { NodeAgent } from '../../../agent/node.js';
import type { ContainerRecord } from '../../../agent/binding/registry.js';
import { SeccompLoader } from '../../../agent/loaders/seccomp.js';
import { AppArmorLoader } from '../../../agent/loaders/apparmor.js';
import { openBpf, type BpfHandle } from '../../../agent/loaders/bpf.js';
import { CgroupResolver } from '../../../agent/cgroup/resolve.js';
import type { Logger } from '../../../profiler/api/log.js';
import type { AgentMetrics } from '../../../agent/metrics.js';

const SOCKET = '/run/varmor/hook.sock';
const HOOK = '/tmp/varmor-hook-standin.mjs';
const PROFILE = 'varmor-default-guest-first';

const HOOK_SCRIPT = `#!/usr/bin/node
import net from 'node:net';
const [stage, socket] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const conn = net.connect(socket, () => conn.end(stage + '\\n' + Buffer.concat(chunks).toString()));
let reply = '';
conn.on('data', (d) => (reply += d));
conn.on('error', (e) => { process.stderr.write('varmor-hook stand-in: ' + e.message + '\\n'); process.exit(1); });
conn.on('close', () => { if (reply.startsWith('ok')) process.exit(0); process.stderr.write('agent refused: ' + reply); process.exit(1); });
`;

/** Logs and metrics go nowhere in the guest: the observations are the result. */
const quietLog = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const noMetric = { inc() {}, set() {}, observe() {}, reset() {} };
const noMetrics = { profiles: noMetric, boundContainers: noMetric, bpfPolicies: noMetric, hookRequests: noMetric, hookSeconds: noMetric, violations: noMetric, loads: noMetric } as unknown as AgentMetrics;

let bpf: BpfHandle;
let agent: NodeAgent;
let server: HookServer;
const atHook: { stage: string; records: ContainerRecord[]; ok: boolean; reason?: string }[] = [];

export async function setup(): Promise<void> {
  bpf = await openBpf('enforce', undefined);
  mkdirSync('/tmp/agent', { recursive: true });
  agent = new NodeAgent({
    nodeName: 'guest',
    seccomp: new SeccompLoader('/tmp/agent/seccomp'),
    appArmor: new AppArmorLoader({ profileDir: '/tmp/agent/apparmor.d' }),
    bpf,
    cgroups: new CgroupResolver(),
    runtime: { list: async () => [] },
    log: quietLog,
    metrics: noMetrics,
  });
  server = new HookServer(SOCKET, async (req) => {
    const d = await agent.handleHook(req);
    // What the agent holds at the moment it answers: the container has not run yet.
    atHook.push({ stage: req.stage, records: agent.containerRecords().map((r) => ({ ...r })), ok: d.ok, reason: d.ok ? undefined : d.reason });
    return d;
  });
  await server.listen();
  writeFileSync(HOOK, HOOK_SCRIPT);
  chmodSync(HOOK, 0o755);
}

export async function teardown(): Promise<void> {
  await server?.close();
  bpf?.backend?.detach();
}

function bundleWithHook(dir: string, annotations: Record<string, string>): void {
  makeBundle({ dir, args: ['/bin/cat', '/etc/secret'], cgroupsPath: `/varmor-agent/${dir.split('/').pop()}`, files: { '/etc/secret': 'top-secret\n' } });
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as Record<string, unknown>;
  const withHooks = baseRuntimeSpec(config, HOOK, SOCKET);
  for (const list of Object.values(withHooks['hooks'] as Record<string, { timeout?: number }[]>)) for (const h of list) h.timeout = 60;
  writeFileSync(`${dir}/config.json`, JSON.stringify({ ...withHooks, annotations }, null, 2));
}

export const cases: GuestCase[] = [
  {
    name: 'agent hook: a container whose very first action is forbidden is denied',
    timeoutMs: 120_000,
    async run() {
      const { policyId, tables } = tablesFor(PROFILE, { bpfRawRules: { files: [{ pattern: '/etc/secret', permissions: ['read'], qualifiers: ['deny'] }] } });
      await agent.applyProfile({
        namespace: 'default',
        objectName: PROFILE,
        uid: 'guest',
        version: '1',
        profileName: PROFILE,
        bpfPolicyId: policyId,
        enforcers: ['BPF'],
        mode: 'EnhanceProtect',
        bpfTables: tables,
        target: { kind: 'Pod' },
      });
      const identity = { 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'app', 'io.kubernetes.cri.sandbox-name': 'web-0', 'io.kubernetes.cri.sandbox-namespace': 'default' };
      bundleWithHook('/tmp/agent-first', { ...identity, 'container.bpf.security.beta.varmor.org/app': `localhost/${PROFILE}` });
      const protectedRun = await runc('run --no-pivot -b /tmp/agent-first agent-first');
      const hooksForProtected = atHook.splice(0);
      // The same image and entrypoint, no varmor annotation: the hook lets it through unbound.
      bundleWithHook('/tmp/agent-plain', identity);
      const plainRun = await runc('run --no-pivot -b /tmp/agent-plain agent-plain');
      const hooksForPlain = atHook.splice(0);
      const strip = (h: (typeof hooksForProtected)[number]) => ({ ...h, records: h.records.map((r) => ({ ...r, cgroupId: r.cgroupId?.toString() })) });
      return {
        policyId,
        protectedRun,
        plainRun,
        hooksForProtected: hooksForProtected.map(strip),
        hooksForPlain: hooksForPlain.map(strip),
        bindingsAfter: [...(bpf.backend?.bindings() ?? new Map()).entries()].map(([k, v]) => [k.toString(), v]),
        bpfMode: bpf.mode,
      };
    },
  },
];
