// Test support: a real containerd (Debian's package) with its own root, state, socket and
// CRI configuration under a temporary folder, acting like a node's runtime: the sandbox image
// is a locally built busybox image (nothing can be pulled here), pods use the host network
// (no CNI needed), and the base runtime spec carries the varmor OCI hook when asked.
// Everything it starts, it stops.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeletCri } from './kubelet-cri.js';
import { baseRuntimeSpec, POD_ANNOTATIONS_PASSTHROUGH } from '../../agent/hook/spec.js';

const run = promisify(execFile);

export const CRI_NAMESPACE = 'k8s.io';

export interface TestContainerd {
  dir: string;
  socket: string;
  cri: KubeletCri;
  /** The cgroup parent the test pods use (cgroupfs driver), so leftovers are easy to find. */
  cgroupParent: string;
  ctr(args: string[]): Promise<string>;
  importImage(tarPath: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  sandboxImage: string;
  /** When set, the base runtime spec runs this hook binary with the agent's socket. */
  hook?: { path: string; socket: string };
}

export function containerdAvailable(): string | null {
  for (const bin of ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc']) {
    if (!fs.existsSync(bin)) return `${bin} is missing (apt-get install containerd runc)`;
  }
  if (process.getuid?.() !== 0) return 'containerd tests need root';
  return null;
}

function configToml(dir: string, opts: ContainerdOptions, baseSpecPath: string): string {
  const q = JSON.stringify;
  const runtime = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]';
  return `version = 2
root = ${q(path.join(dir, 'root'))}
state = ${q(path.join(dir, 'state'))}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(path.join(dir, 'containerd.sock'))}

[ttrpc]
  address = ${q(path.join(dir, 'containerd.sock.ttrpc'))}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(path.join(dir, 'opt'))}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(opts.sandboxImage)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # This machine lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below ours.
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = ${q(path.join(dir, 'cni', 'bin'))}
  conf_dir = ${q(path.join(dir, 'cni', 'conf'))}

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  snapshotter = "overlayfs"

${runtime}
  runtime_type = "io.containerd.runc.v2"
  base_runtime_spec = ${q(opts.hook ? baseSpecPath : '')}
  pod_annotations = ${q(POD_ANNOTATIONS_PASSTHROUGH)}
${process.env.VARMOR_RUNC_WRAP ? `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = ${q(process.env.VARMOR_RUNC_WRAP)}\n` : ''}`;
}

async function waitForSocket(p: string, child: ChildProcess, logPath: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) {
      throw new Error(`containerd exited (${child.exitCode}): ${fs.readFileSync(logPath, 'utf8').slice(-2000)}`);
    }
    if (fs.existsSync(p)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`containerd socket ${p} did not appear`);
}

export async function startContainerd(opts: ContainerdOptions): Promise<TestContainerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-ctrd-'));
  const baseSpecPath = path.join(dir, 'base-spec.json');
  if (opts.hook) {
    const { stdout } = await run('ctr', ['oci', 'spec']);
    const spec = baseRuntimeSpec(JSON.parse(stdout) as Record<string, unknown>, opts.hook.path, opts.hook.socket);
    fs.writeFileSync(baseSpecPath, JSON.stringify(spec, null, 2));
  }
  fs.mkdirSync(path.join(dir, 'cni', 'conf'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'cni', 'bin'), { recursive: true });
  const configPath = path.join(dir, 'config.toml');
  fs.writeFileSync(configPath, configToml(dir, opts, baseSpecPath));
  const logPath = path.join(dir, 'containerd.log');
  const log = fs.openSync(logPath, 'a');
  const child = spawn('containerd', ['--config', configPath], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const socket = path.join(dir, 'containerd.sock');
  await waitForSocket(socket, child, logPath);
  const cri = new KubeletCri(socket);
  // The CRI plugin registers a moment after the socket appears.
  for (let i = 0; ; i++) {
    try {
      await cri.version();
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const cgroupParent = `/varmor-test-${path.basename(dir).replace(/[^a-zA-Z0-9]/g, '')}`;
  const ctr = async (args: string[]): Promise<string> => {
    const { stdout } = await run('ctr', ['-a', socket, '-n', CRI_NAMESPACE, ...args], { maxBuffer: 16 << 20 });
    return stdout;
  };
  return {
    dir,
    socket,
    cri,
    cgroupParent,
    ctr,
    async importImage(tarPath: string) {
      await ctr(['image', 'import', tarPath]);
    },
    async stop() {
      try {
        for (const c of await cri.listContainers()) {
          await cri.stopContainer(c.id).catch(() => undefined);
          await cri.removeContainer(c.id).catch(() => undefined);
        }
        await removeAllSandboxes(cri);
      } finally {
        cri.close();
        child.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
        if (!process.env.VARMOR_KEEP_CTRD) await cleanupDir(dir);
        removeCgroupTree(cgroupParent);
      }
    },
  };
}

async function removeAllSandboxes(cri: KubeletCri): Promise<void> {
  for (const id of await cri.listPodSandboxIds().catch(() => [] as string[])) {
    await cri.stopPodSandbox(id).catch(() => undefined);
    await cri.removePodSandbox(id).catch(() => undefined);
  }
}

async function cleanupDir(dir: string): Promise<void> {
  // Overlay mounts left by a crashed shim would make rm fail; unmount whatever is under dir first.
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && m.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m]).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Removes the test cgroup parent from every hierarchy (v1 controllers and the unified one). */
export function removeCgroupTree(parent: string): void {
  const roots = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m);
  for (const root of roots) {
    const top = path.join(root, parent);
    if (!fs.existsSync(top)) continue;
    const dirs: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      dirs.push(d);
    };
    try {
      walk(top);
      for (const d of dirs) fs.rmdirSync(d);
    } catch {
      // A cgroup still holding a process cannot be removed; the next run's parent name differs.
    }
  }
}
