// The fixed-rate load generator (loadgen/, built with Go here) against a real HTTPS server whose
// answers take a known time: it must offer its rate whatever the answers (open loop) and count
// queueing from the due time.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { ensureCertFiles } from '../../certs/index.js';
import { buildLoadgen, runPaced } from './paced.js';

jest.setTimeout(180_000); // a cold Go build of the generator takes up to a minute

const SERVICE_MS = 20;
let server: https.Server;
let port: number;
let dir: string;
let loadgen: string;
let served = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'paced-'));
  const { files } = await ensureCertFiles(path.join(dir, 'certs'));
  await writeFile(path.join(dir, 'ca.crt'), files.ca);
  await writeFile(path.join(dir, 'body.json'), '{}');
  loadgen = await buildLoadgen();
  server = https.createServer({ cert: files.cert, key: files.key }, (req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => { served++; res.end('{}'); }, SERVICE_MS));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  if (server) await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const run = (rate: number, connections: number) =>
  runPaced(loadgen, { port, bodyFile: path.join(dir, 'body.json'), caFile: path.join(dir, 'ca.crt'), rate, durationS: 1, connections, warmupS: 0 });

describe('the fixed-rate load generator', () => {
  it('offers its rate and measures each answer from when it was due', async () => {
    served = 0;
    const r = await run(50, 4);
    expect({ sent: r.sent, completed: r.completed, errors: r.errors, served }).toEqual({ sent: 50, completed: 50, errors: 0, served: 50 });
    expect(r.p50).toBeGreaterThanOrEqual(SERVICE_MS);
    expect(r.rps).toBeGreaterThan(25);
  });

  it('keeps sending when answers are slower than the rate, so the queueing shows in the latencies', async () => {
    // 2 connections x 20 ms serve 100 req/s at most; 200 req/s are offered for a second.
    const r = await run(200, 2);
    expect(r.sent).toBe(200);
    expect(r.completed).toBe(200);
    // The last requests waited behind about half a second of backlog: a closed-loop generator
    // (which only sends when a connection is free) would report ~20 ms here.
    expect(r.max).toBeGreaterThan(400);
    expect(r.p99).toBeGreaterThan(400);
  });
});
