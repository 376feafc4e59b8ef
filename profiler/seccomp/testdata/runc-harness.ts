// Test-only: runs a command in a real runc container (busybox-static rootfs plus the probe
// helper compiled with gcc -static) under a given seccomp profile, and returns its output.
// The profile goes into config.json's linux.seccomp, whose runtime-spec shape has the same
// fields as the OCI/Docker JSON the compiler writes.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SeccompProfile } from '../../compiled.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Why containers cannot run here, or undefined when they can. */
export function runcUnavailable(): string | undefined {
  for (const [bin, pkg] of [['runc', 'runc'], ['busybox', 'busybox-static'], ['gcc', 'gcc']]) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} not installed (apt-get install ${pkg}; scripts/setup.sh does)`;
  }
  if (process.getuid?.() !== 0) return 'runc needs root here';
  return undefined;
}

export class RuncHarness {
  readonly dir: string;
  private readonly rootfs: string;
  private readonly state: string;
  private readonly spec: Record<string, unknown>;
  private n = 0;

  /** `binaries`: more static programs for the rootfs's /bin, name -> host path. */
  constructor(binaries: Record<string, string> = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'varmor-seccomp-'));
    this.rootfs = join(this.dir, 'rootfs');
    this.state = join(this.dir, 'state');
    mkdirSync(join(this.rootfs, 'bin'), { recursive: true });
    mkdirSync(join(this.rootfs, 'tmp'));
    mkdirSync(this.state);
    const busybox = execFileSync('sh', ['-c', 'command -v busybox']).toString().trim();
    copyFileSync(busybox, join(this.rootfs, 'bin/busybox'));
    const applets = execFileSync(busybox, ['--list']).toString().split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'busybox' && !existsSync(join(this.rootfs, 'bin', a))) symlinkSync('busybox', join(this.rootfs, 'bin', a));
    execFileSync('gcc', ['-static', '-O1', '-o', join(this.rootfs, 'bin/probe'), join(HERE, 'probe.c')]);
    for (const [name, src] of Object.entries(binaries)) copyFileSync(src, join(this.rootfs, 'bin', name));
    const specDir = join(this.dir, 'spec');
    mkdirSync(specDir);
    execFileSync('runc', ['spec'], { cwd: specDir });
    this.spec = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  }

  /** `capabilities`: the container's (bounding, effective, permitted); runc's default set otherwise. */
  run(profile: SeccompProfile | undefined, args: string[], opts: { capabilities?: string[] } = {}): RunResult {
    const id = `varmor-sc-${process.pid}-${++this.n}`;
    const bundle = join(this.dir, id);
    mkdirSync(bundle);
    const spec = structuredClone(this.spec) as {
      process: { terminal: boolean; args: string[]; capabilities?: Record<string, string[]> };
      root: { path: string; readonly: boolean };
      mounts: unknown[];
      linux: Record<string, unknown>;
    };
    spec.process.terminal = false;
    spec.process.args = args;
    if (opts.capabilities) {
      const c = opts.capabilities;
      spec.process.capabilities = { bounding: c, effective: c, permitted: c };
    }
    spec.root = { path: this.rootfs, readonly: true };
    spec.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    if (profile) spec.linux.seccomp = profile;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const r = spawnSync('runc', ['--root', this.state, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
    rmSync(bundle, { recursive: true, force: true });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs the probe helper; returns `{syscall: errno}` (errno as a string: '0' when it worked). */
  probe(profile: SeccompProfile | undefined, calls: string[]): Record<string, string> {
    const r = this.run(profile, ['/bin/probe', ...calls]);
    if (r.code !== 0) throw new Error(`probe failed (exit ${r.code}): ${r.stderr}${r.stdout}`);
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=') as [string, string]));
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
