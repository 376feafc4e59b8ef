// The fixed-rate part of the webhook bench: an open-loop load generator (loadgen/, a small Go
// program) sends requests at evenly spaced times (rate per second), whatever the answers, over a
// pool of keep-alive HTTPS connections; each latency runs from the moment its request was due to
// its last response byte, so a slow server or a late client cannot hide delay (no coordinated
// omission). This module builds it and runs it in a process of its own.
//
// Why not autocannon's overallRate: autocannon limits a rate by letting each connection send
// back to back until it has made its share for the current second, then pausing until the next
// one-second tick (lib/httpClient.js, `reqsMadeThisSecond`). At 1,000 req/s that is a full-speed
// burst of 1,000 requests at the top of every second: its p99 is the saturated p99, not the p99
// at 1,000 requests/s. The throughput rounds still use autocannon.

import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

export interface PacedOptions {
  port: number;
  bodyFile: string;
  caFile: string;
  rate: number;
  durationS: number;
  /** Most requests in flight at once (keep-alive connections); later ones wait for a free one. */
  connections: number;
  /** Unmeasured run before the measured one (fresh connections, TLS sessions), seconds. */
  warmupS: number;
}

export interface PacedResult {
  sent: number;
  completed: number;
  errors: number;
  /** Completed requests per second over the run. */
  rps: number;
  /** Latencies from due time to response end, ms. */
  p50: number;
  p99: number;
  max: number;
  /** How late the generator itself dispatched (timer lateness), ms: p99, to show the offered load was steady. */
  dispatchLateP99: number;
}

/** The value at quantile q (0..1) of ascending samples; NaN for none. */
export const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

/** The Go toolchain: on PATH, or where these machines install it (as e2e/cluster/build.sh looks). */
function goBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('the webhook bench needs Go to build its load generator (bench/webhook/loadgen); none on PATH or in /usr/local/go');
}

/** Build the load generator (Go's build cache makes a rebuild a fraction of a second); returns its path. */
export async function buildLoadgen(): Promise<string> {
  const out = path.join(root, '.varmor', 'bin', 'loadgen');
  // Go needs a build cache; without HOME (some CI runners) it finds none and refuses to build.
  const env = process.env.GOCACHE || process.env.HOME || process.env.XDG_CACHE_HOME ? process.env : { ...process.env, GOCACHE: path.join(root, '.varmor', 'go-build') };
  await promisify(execFile)(goBinary(), ['build', '-o', out, '.'], { cwd: path.join(here, 'loadgen'), env });
  return out;
}

/**
 * Run the generator once against https://127.0.0.1:port/mutate; `onWarm` is called when its warm-up
 * is over (the bench reads the server's CPU time there).
 */
export function runPaced(binary: string, opts: PacedOptions, onWarm?: () => void): Promise<PacedResult> {
  const args = [opts.port, opts.bodyFile, opts.caFile, opts.rate, opts.durationS, opts.connections, opts.warmupS].map(String);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let warm = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!warm && out.includes('warm\n')) {
        warm = true;
        onWarm?.();
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n')[1];
      if (code !== 0 || !warm || !line) return reject(new Error(`load generator exited with ${code}: ${err.trim()}`));
      const r = JSON.parse(line) as PacedResult;
      // Go's encoder has no NaN: "no samples" comes as -1
      for (const k of ['p50', 'p99', 'max', 'dispatchLateP99'] as const) if (r[k] < 0) r[k] = NaN;
      resolve(r);
    });
  });
}
