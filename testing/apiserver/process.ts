// Starting, watching and stopping the cluster's daemons. Two flavours: attached children that die with the
// test process (control-plane.ts), and detached daemons that outlive `npm run cluster:up`, tracked by pid
// files so `cluster:down` can stop exactly them and nothing else.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: 'CLUSTER_START_FAILED' | 'CLUSTER_TIMEOUT' | 'CLUSTER_MISSING_BINARY' | 'CLUSTER_HOST_UNSUPPORTED',
    message: string,
    readonly component?: string,
  ) {
    super(message);
  }
}

export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Set when the process has exited: its exit code or signal. */
  exited?: string;
}

export interface SpawnOptions {
  logFile: string;
  /** Detached daemons survive the parent; their pid goes to `<pidDir>/<name>.pid`. */
  pidDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startDaemon(name: string, cmd: string, args: string[], opts: SpawnOptions): Daemon {
  const fd = openSync(opts.logFile, 'a');
  const detached = opts.pidDir !== undefined;
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    detached,
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new ClusterError('CLUSTER_START_FAILED', `${name}: could not start ${cmd}`, name);
  const d: Daemon = { name, pid: child.pid, logFile: opts.logFile, child };
  child.on('exit', (code, signal) => (d.exited = signal ?? `code ${code}`));
  child.on('error', (err) => (d.exited = err.message));
  if (detached) {
    writeFileSync(join(opts.pidDir as string, `${name}.pid`), `${child.pid}\n`);
    child.unref();
  }
  return d;
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `check` until it returns true; fails early, with the log tail, if a watched daemon exits. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, watch: Daemon[] = []): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = watch.find((d) => d.exited !== undefined);
    if (dead) {
      throw new ClusterError('CLUSTER_START_FAILED', `${dead.name} exited (${dead.exited}) while waiting for ${what}:\n${logTail(dead.logFile)}`, dead.name);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tails = watch.map((d) => `--- ${d.name} (${d.logFile})\n${logTail(d.logFile)}`).join('\n');
      throw new ClusterError('CLUSTER_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}\n${tails}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the pid is gone. */
export async function killPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopDaemon(d: Daemon, graceMs?: number): Promise<void> {
  if (d.exited === undefined) await killPid(d.pid, graceMs);
}

/** Stops the daemons recorded in `pidDir`: those in `order` first, then any others (unless `onlyListed`). */
export async function stopPidDir(pidDir: string, order: string[], onlyListed = false): Promise<string[]> {
  if (!existsSync(pidDir)) return [];
  const names = readdirSync(pidDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => f.slice(0, -4));
  const sorted = [...order.filter((n) => names.includes(n)), ...(onlyListed ? [] : names.filter((n) => !order.includes(n)))];
  const stopped: string[] = [];
  const t0 = Date.now();
  for (const name of sorted) {
    const file = join(pidDir, `${name}.pid`);
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1 && alive(pid)) {
      await killPid(pid);
      stopped.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
    rmSync(file, { force: true });
  }
  return stopped;
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, for a daemon started shortly after. Picked below
 * the kernel's ephemeral range (net.ipv4.ip_local_port_range), because a port the kernel hands out for
 * listen(0) is also one it hands out to outgoing connections: between this check and the daemon's bind,
 * any client socket on the machine could take it (etcd failed so once, "address already in use").
 * Ports handed out by this process are never handed out again, so the ports of one cluster differ.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const high = Math.min(ephemeralLow, 32768) - 1;
  const low = Math.max(10000, high - 12000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new ClusterError('CLUSTER_START_FAILED', `no free TCP port found in ${low}-${high} on 127.0.0.1`);
}

const handedOut = new Set<number>();

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo, hi];
  } catch {
    // not Linux, or no procfs: assume the kernel's default range
  }
  return [32768, 60999];
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
