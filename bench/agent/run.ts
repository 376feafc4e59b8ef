// Benchmark: the node agent's resident memory under load, against an idle node process measured
// in the same run. Everything is real: the built agent (`node bin/varmor.js agent`, from dist/) as
// its own process, a kube-apiserver holding 50 ArmorProfiles (Seccomp + BPF tables), Debian's
// containerd + runc running 100 busybox `sleep` containers (each in its own pod sandbox, so 200
// runc containers with the pause ones) started through CRI with the varmor OCI hook, and the BPF
// addon in audit mode (this host refuses BPF LSM) with every container bound.
//
// Usage: npm run bench:agent [-- --containers N --policies M --node-flags "..."]
// Prints one table; exit code 1 when the agent's RSS is over the 100 MiB target.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { startControlPlane } from '../../testing/apiserver/control-plane.js';
import { startContainerd, containerdAvailable, type TestContainerd } from '../../testing/agent/containerd.js';
import { importTestImages, PAUSE_IMAGE } from '../../testing/agent/images.js';
import { createPod, removePod, type TestPod } from '../../testing/agent/pod.js';
import { mountBpffs } from '../../testing/agent/bpffs.js';
import { armorProfile, bpfTables, DENY_MKDIR, VT_MODE_ENFORCE } from '../../testing/agent/profiles.js';
import { buildHook } from '../../agent/hook/build.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGET_MIB = 100;

function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function memOf(pid: number): { rssKiB: number; hwmKiB: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

/** Resident memory by mapping (file, [heap], anonymous), largest first: where the RSS lives. */
function smapsTop(pid: number, n: number): [string, number][] {
  const by = new Map<string, number>();
  let name = '';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      name = head[1] || '[anonymous]';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) by.set(name, (by.get(name) ?? 0) + Number(rss[1]));
  }
  return [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** RSS of a node process that only imports `module` (what loading the code costs). */
async function importCost(module: string): Promise<number> {
  const p = spawn(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(module)}); setInterval(() => {}, 1000);`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 2500));
  const kib = memOf(p.pid!).rssKiB;
  p.kill('SIGTERM');
  return kib;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function crd(plural: string, kind: string): V1CustomResourceDefinition {
  const open = { type: 'object', x_kubernetes_preserve_unknown_fields: true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.crd.varmor.org` },
    spec: {
      group: 'crd.varmor.org',
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [{ name: 'v1beta1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open, data: open } } } }],
    },
  };
}

/** 20 exact-path deny rules per policy: a realistically sized table, not an empty one. */
function tablesFor(name: string): string {
  return bpfTables(name, VT_MODE_ENFORCE, (t) => {
    for (let i = 0; i < 20; i++) t.pathExact.push({ path: `/etc/secret-${i}`, deny: 0x4, audit: 0 });
  });
}

async function main(): Promise<number> {
  const containers = arg('containers', 100);
  const policies = arg('policies', 50);
  const why = containerdAvailable();
  if (why) {
    console.log(`bench:agent skipped: ${why}`);
    return 0;
  }
  console.log(`bench:agent: building dist/ (the agent runs as shipped) ...`);
  const buildStart = Date.now();
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  } catch {
    // tsc still emits when other parts have type errors; what matters is that the agent's files are fresh.
    const fresh = ['dist/agent/agent.js', 'dist/cli/main.js'].every((f) => fs.existsSync(path.join(ROOT, f)) && fs.statSync(path.join(ROOT, f)).mtimeMs >= buildStart - 1000);
    if (!fresh) throw new Error('tsc -p tsconfig.build.json failed and did not emit dist/agent');
    console.log('bench:agent: tsc reported errors (see above) but emitted dist/; measuring that build');
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-bench-agent-'));
  const cleanups: (() => Promise<void> | void)[] = [() => fs.rmSync(work, { recursive: true, force: true })];
  let agentProc: ChildProcess | undefined;
  let baseline: ChildProcess | undefined;
  let ctrd: TestContainerd | undefined;
  const pods: TestPod[] = [];
  try {
    const cp = await startControlPlane();
    cleanups.push(() => cp.stop());
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const c of [crd('armorprofiles', 'ArmorProfile'), crd('armorprofilemodels', 'ArmorProfileModel')]) await ext.createCustomResourceDefinition({ body: c });
    const co = kc.makeApiClient(CustomObjectsApi);
    const coords = { group: 'crd.varmor.org', version: 'v1beta1', namespace: 'default', plural: 'armorprofiles' };
    await until('CRDs served', async () => (await co.listNamespacedCustomObject(coords), true), 30_000);
    const names = Array.from({ length: policies }, (_, i) => `varmor-default-bench-${i}`);
    for (const name of names) {
      const ap = armorProfile({ profileName: name, enforcers: ['BPF', 'Seccomp'], seccomp: DENY_MKDIR, bpf: tablesFor(name) });
      await co.createNamespacedCustomObject({ ...coords, body: { ...ap, metadata: { name, namespace: 'default' } } });
    }

    const bpffs = mountBpffs();
    cleanups.push(() => bpffs.unmount());
    const hookSocket = path.join(work, 'hook.sock');
    const hookBin = buildHook(path.join(work, 'varmor-hook'));
    ctrd = await startContainerd({ sandboxImage: PAUSE_IMAGE, hook: { path: hookBin, socket: hookSocket } });
    await importTestImages(ctrd);

    baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const port = await freePort();
    const seccompRoot = path.join(work, 'seccomp');
    // The DaemonSet runs the agent with NODE_OPTIONS=--max-semi-space-size=1 (a 1 MiB young
    // generation: the agent's garbage is small and steady; the default 16 MiB lets RSS swing by
    // ~20 MiB with GC timing). `--node-flags ""` measures node's defaults.
    const nodeFlags = (strArg('node-flags') ?? '--max-semi-space-size=1').split(' ').filter(Boolean);
    agentProc = spawn(
      process.execPath,
      [
        ...nodeFlags,
        path.join(ROOT, 'bin/varmor.js'),
        'agent',
        '--node-name=bench-node',
        `--kubeconfig=${cp.kubeconfigPath}`,
        `--seccomp-root=${seccompRoot}`,
        `--containerd-socket=${ctrd.socket}`,
        `--hook-socket=${hookSocket}`,
        `--pin-path=${path.join(bpffs.dir, 'varmor')}`,
        `--metrics-port=${port}`,
        '--bpf-mode=audit',
        `--apparmor-dir=${path.join(work, 'apparmor.d')}`,
        '--resync-seconds=5',
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await until('agent ready', async () => (await fetch(`http://127.0.0.1:${port}/health/readiness`)).status === 200, 60_000);
    const idleAgent = memOf(agentProc.pid!);

    const t0 = Date.now();
    for (let i = 0; i < containers; i++) {
      const profile = names[i % names.length]!;
      pods.push(
        await createPod(ctrd, {
          name: `bench-${i}`,
          annotations: { 'container.bpf.security.beta.varmor.org/app': `localhost/${profile}`, 'container.seccomp.security.beta.varmor.org/app': `localhost/${profile}` },
          containers: [{ name: 'app', command: ['/bin/sleep', '3600'], seccomp: { profileType: 'Localhost', localhostRef: path.join(seccompRoot, 'varmor', `${profile}.json`) } }],
        }),
      );
    }
    const startSeconds = (Date.now() - t0) / 1000;
    await until(`${containers} containers bound`, async () => new RegExp(`varmor_agent_bound_containers\\{node_name="bench-node"\\} ${containers}\\b`).test(await metrics()), 60_000);
    const placed = /varmor_agent_bpf_policies\{node_name="bench-node"\} (\d+)/.exec(await metrics())?.[1];

    // Steady state with a reconcile pass (every 5 s) in the window: sample for 12 s.
    let rss = 0;
    let base = 0;
    for (let i = 0; i < 12; i++) {
      rss = Math.max(rss, memOf(agentProc.pid!).rssKiB);
      base = Math.max(base, memOf(baseline.pid!).rssKiB);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const hwm = memOf(agentProc.pid!).hwmKiB;
    const top = smapsTop(agentProc.pid!, 6);
    const cliImport = await importCost(path.join(ROOT, 'dist/cli/main.js'));
    const agentImport = await importCost(path.join(ROOT, 'dist/agent/agent.js'));
    const m = await metrics();
    const gauge = (name: string): string => mib(Number(new RegExp(`^varmor_agent_${name}\\{[^}]*\\} (\\S+)`, 'm').exec(m)?.[1] ?? 0) / 1024);
    const rows = [
      ['idle node process (baseline)', mib(base)],
      ['agent, ready, no containers', mib(idleAgent.rssKiB)],
      [`agent, ${containers} containers bound, ${policies} profiles (${placed} BPF policies placed)`, mib(rss)],
      ['agent peak (VmHWM)', mib(hwm)],
    ];
    console.log('');
    console.log('| process | RSS MiB |');
    console.log('|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    console.log('');
    console.log(`import only (no work): dist/agent/agent.js ${mib(agentImport)} MiB; dist/cli/main.js (varmor CLI, loads the profiler) ${mib(cliImport)} MiB`);
    console.log(`agent RSS by mapping: ${top.map(([k, v]) => `${k.split('/').pop()} ${mib(v)}`).join(', ')}`);
    console.log(`agent V8 heap used ${gauge('nodejs_heap_size_used_bytes')} MiB of ${gauge('nodejs_heap_size_total_bytes')} MiB; external ${gauge('nodejs_external_memory_bytes')} MiB${nodeFlags.length ? `; node flags: ${nodeFlags.join(' ')}` : ''}`);
    console.log(`agent / baseline: ${(rss / base).toFixed(2)}x; agent - baseline: ${mib(rss - base)} MiB; target < ${TARGET_MIB} MiB: ${rss / 1024 < TARGET_MIB ? 'met' : 'NOT met'}`);
    console.log(`${containers} pods started through CRI + hook in ${startSeconds.toFixed(1)} s (${((startSeconds * 1000) / containers).toFixed(0)} ms per pod, sandbox + container)`);
    return rss / 1024 < TARGET_MIB ? 0 : 1;
  } finally {
    if (ctrd) for (const p of pods) await removePod(ctrd, p).catch(() => undefined);
    agentProc?.kill('SIGTERM');
    baseline?.kill('SIGTERM');
    if (agentProc && agentProc.exitCode === null) await new Promise((r) => agentProc!.once('exit', r));
    await ctrd?.stop();
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: Error) => console.error(`cleanup: ${e.message}`));
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`bench:agent failed: ${e.stack ?? e.message}`);
    process.exit(2);
  },
);
