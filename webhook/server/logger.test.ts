// The fastify adapter: pino's call shapes in, the one log shape out; and the real server's
// request lines (through fastify's per-request child loggers) in that shape.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ensureCertFiles } from '../../certs/index.js';
import { createLogger } from '../../cli/log.js';
import { type LogLevelOrSilent } from '../../profiler/api/log.js';
import { PolicyStore } from '../sources/store.js';
import { profilerValidator } from '../validator.js';
import { startWebhookServer, type RunningWebhook } from './app.js';
import { fastifyLogger, pinoCall } from './logger.js';

jest.setTimeout(60_000);

function capture(level: LogLevelOrSilent = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return { log: createLogger({ component: 'webhook', level, stream }), lines };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('pinoCall', () => {
  it('reads the call shapes fastify and pino use', () => {
    expect(pinoCall(['plain'])).toEqual({ message: 'plain', fields: {} });
    expect(pinoCall(['Route %s:%s not found', 'GET', '/x'])).toEqual({ message: 'Route GET:/x not found', fields: {} });
    expect(pinoCall([{ policy: 'p' }, 'policy in force'])).toEqual({ message: 'policy in force', fields: { policy: 'p' } });
    expect(pinoCall([{ n: 1 }, 'got %d', 2])).toEqual({ message: 'got 2', fields: { n: 1 } });
    const err = new Error('boom');
    expect(pinoCall([err])).toEqual({ message: 'boom', fields: { err } });
    expect(pinoCall([err, 'failed'])).toEqual({ message: 'failed', fields: { err } });
    expect(pinoCall([{ res: { statusCode: 200 } }, 'done'], { res: (r) => (r as { statusCode: number }).statusCode })).toEqual({ message: 'done', fields: { res: 200 } });
  });
});

describe('fastifyLogger', () => {
  it('child bindings become fields; levels follow the logger and can be set per child', async () => {
    const { log, lines } = capture('info');
    const f = fastifyLogger(log);
    expect(f.level).toBe('info');
    f.child({ reqId: 'req-1' }).info({ namespace: 'shop' }, 'hello');
    f.debug('not written');
    const quiet = f.child({}, { level: 'error' });
    quiet.warn('not written either');
    expect(quiet.level).toBe('error');
    await settle();
    expect(lines).toEqual([{ level: 'info', message: 'hello', timestamp: expect.any(String), component: 'webhook', reqId: 'req-1', namespace: 'shop' }]);
  });
});

describe('the real server logs in the one shape', () => {
  let dir: string;
  let server: RunningWebhook;
  let ca: string;
  const { log, lines } = capture('info');
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-logger-'));
    ca = (await ensureCertFiles(dir)).files.ca;
    const validator = profilerValidator();
    const store = new PolicyStore({ validate: validator.validatePolicy });
    server = await startWebhookServer({ port: 0, metricsPort: null, tls: { certDir: dir }, state: store, validator, logger: log });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a refused request is one JSON line with the request id, the code and the reason', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', servername: 'localhost', port: server.port, method: 'POST', path: '/mutate', ca, agent: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end('{not json');
    });
    expect(status).toBe(400);
    await settle();
    const line = lines.find((l) => l['message'] === 'request refused');
    expect(line).toEqual({
      level: 'warn',
      message: 'request refused',
      timestamp: expect.any(String),
      component: 'webhook',
      reqId: expect.any(String),
      code: expect.any(String),
      reason: expect.any(String),
    });
  });
});
