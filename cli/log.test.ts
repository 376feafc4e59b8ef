import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { isLogLevel, silentLogger } from '../profiler/index.js';
import { createLogger, type LoggerOptions } from './log.js';

/** A logger writing into an array of parsed lines. */
function capture(opts: Omit<LoggerOptions, 'stream'>) {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return { log: createLogger({ ...opts, stream }), lines };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('createLogger', () => {
  it('writes one JSON line per call: level, message, timestamp, component, defaultMeta and fields', async () => {
    const { log, lines } = capture({ component: 'agent', defaultMeta: { nodeName: 'n1' } });
    log.warn('violation', { namespace: 'shop', pod: 'web-0', container: 'app', enforcer: 'BPF' });
    await settle();
    expect(lines).toEqual([
      { level: 'warn', message: 'violation', timestamp: expect.any(String), component: 'agent', nodeName: 'n1', namespace: 'shop', pod: 'web-0', container: 'app', enforcer: 'BPF' },
    ]);
  });

  it('call fields win over child bindings, which win over defaultMeta', async () => {
    const { log, lines } = capture({ component: 'webhook', defaultMeta: { a: 'meta', b: 'meta', c: 'meta' } });
    log.child({ component: 'policies', b: 'child', c: 'child' }).info('x', { c: 'call' });
    await settle();
    expect(lines[0]).toMatchObject({ component: 'policies', a: 'meta', b: 'child', c: 'call' });
  });

  it('keeps the fields when the message holds a printf token', async () => {
    const { log, lines } = capture({ component: 'c' });
    log.info('100% done', { policy: 'p' });
    await settle();
    expect(lines[0]).toMatchObject({ message: '100% done', policy: 'p' });
  });

  it('writes errors as type, message, code and stack', async () => {
    const { log, lines } = capture({ component: 'c' });
    log.error('failed', { err: Object.assign(new TypeError('boom'), { code: 'E_X' }) });
    await settle();
    expect(lines[0]!['err']).toEqual({ type: 'TypeError', message: 'boom', code: 'E_X', stack: expect.stringContaining('boom') });
  });

  it('filters by level in pino order and is silent on request', async () => {
    const { log, lines } = capture({ component: 'c', level: 'warn' });
    log.info('no');
    log.debug('no');
    log.error('yes');
    log.fatal('yes');
    expect([log.isLevelEnabled('warn'), log.isLevelEnabled('info')]).toEqual([true, false]);
    const quiet = capture({ component: 'c', level: 'silent' });
    quiet.log.fatal('no');
    await settle();
    expect(lines.map((l) => l['level'])).toEqual(['error', 'fatal']);
    expect(quiet.lines).toEqual([]);
    expect(quiet.log.level).toBe('silent');
    expect(silentLogger.child({}).isLevelEnabled('fatal')).toBe(false);
  });

  it('knows the level names', () => {
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('loud')).toBe(false);
  });
});
