// An open-loop load generator: requests leave at evenly spaced times (rate per second), whatever
// the answers, over a pool of keep-alive HTTPS connections; each latency runs from the moment its
// request was due to its last response byte, so a slow server or a late client cannot hide delay
// (no coordinated omission).
//
// Why not autocannon's overallRate: autocannon limits a rate by letting each connection send
// back to back until it has made its share for the current second, then pausing until the next
// one-second tick (lib/httpClient.js, `reqsMadeThisSecond`). At 1,000 req/s that is a full-speed
// burst of 1,000 requests at the top of every second: its p99 is the saturated p99, not the p99
// at 1,000 requests/s. The throughput rounds still use autocannon.

import https from 'node:https';

export interface PacedOptions {
  port: number;
  path: string;
  body: string;
  ca: string;
  servername: string;
  rate: number;
  durationS: number;
  /** Most requests in flight at once (keep-alive sockets); later ones wait for a free socket. */
  connections: number;
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

export function pacedLoad(opts: PacedOptions): Promise<PacedResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: opts.connections });
  const total = Math.round(opts.rate * opts.durationS);
  const intervalMs = 1000 / opts.rate;
  const latencies: number[] = [];
  const lateness: number[] = [];
  const body = Buffer.from(opts.body);
  let sent = 0;
  let finished = 0;
  let errors = 0;

  return new Promise((resolve) => {
    const start = performance.now();
    const done = () => {
      const elapsedS = (performance.now() - start) / 1000;
      agent.destroy();
      latencies.sort((a, b) => a - b);
      lateness.sort((a, b) => a - b);
      resolve({
        sent,
        completed: latencies.length,
        errors,
        rps: latencies.length / elapsedS,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies[latencies.length - 1] ?? NaN,
        dispatchLateP99: quantile(lateness, 0.99),
      });
    };
    const fire = (due: number) => {
      sent++;
      lateness.push(performance.now() - due);
      const req = https.request(
        { host: '127.0.0.1', port: opts.port, method: 'POST', path: opts.path, agent, ca: opts.ca, servername: opts.servername, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - due);
            else errors++;
            if (++finished === total) done();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (++finished === total) done();
      });
      req.end(body);
    };
    // A timer per millisecond or so; each tick sends every request that is due by now (a late tick
    // catches up, so the offered load stays at `rate` on average).
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * intervalMs <= now) fire(start + sent * intervalMs);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
    };
    tick();
  });
}

// Run directly, in a process of its own so the state of whoever started it (autocannon's
// histograms, its garbage) cannot delay a request: node paced.ts PORT BODY_FILE CA_FILE RATE SECONDS CONNECTIONS
// prints `warm` when its unmeasured warm-up is over, then one JSON line, the PacedResult.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [port, bodyFile, caFile, rate, seconds, connections] = process.argv.slice(2);
  const { readFileSync } = await import('node:fs');
  const run = (durationS: number) =>
    pacedLoad({
      port: Number(port),
      path: '/mutate',
      body: readFileSync(bodyFile, 'utf8'),
      ca: readFileSync(caFile, 'utf8'),
      servername: 'localhost',
      rate: Number(rate),
      durationS,
      connections: Number(connections),
    });
  // A fresh process runs its own code unoptimized at first: warm it up, unmeasured.
  await run(2);
  process.stdout.write('warm\n');
  const result = await run(Number(seconds));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
