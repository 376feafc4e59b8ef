// `varmor webhook` in the embedded mode, as `npm start` runs it: the repository's example policies,
// a certificate generated into an empty folder, and the README's example reviews over HTTPS.
import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StartedWebhook } from '../webhook/main.js';
import { UsageError } from './args.js';
import { parseWebhookArgs, readBindingKey, startManager } from './webhook.js';
import { postMutate } from '../testing/webhook.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const examples = path.join(root, 'webhook', 'examples');

describe('parseWebhookArgs', () => {
  it('has the embedded defaults of npm start', () => {
    const cfg = parseWebhookArgs([], root);
    expect(cfg).toMatchObject({
      port: 3443,
      host: '127.0.0.1',
      metricsPort: 8081,
      certDir: path.join(root, '.varmor', 'certs'),
      policiesDir: path.join(root, 'examples', 'policies'),
      inCluster: false,
      controller: true,
      appArmor: 'field',
    });
    expect(parseWebhookArgs(['--in-cluster'], root)).toMatchObject({ host: '0.0.0.0', policiesDir: undefined, inCluster: true });
    expect(parseWebhookArgs(['--opt-in-namespaces', 'a, b,,'], root)).toMatchObject({ optInNamespaces: ['a', 'b'] });
    expect(parseWebhookArgs(['--help'])).toBe('help');
  });

  it('refuses bad options naming the flag', () => {
    const bad: [string[], string][] = [
      [['--port', '70000'], 'port'],
      [['--metrics-port', 'x'], 'metrics-port'],
      [['--apparmor', 'maybe'], 'apparmor'],
      [['--log-level', 'loud'], 'log-level'],
      [['--policies', '/nonexistent/dir'], 'policies'],
      [['--kubeconfig', 'k', '--policies', '.'], 'policies'],
      [['--binding-key', '/nonexistent/key'], 'binding-key'],
    ];
    for (const [argv, field] of bad) expect(() => parseWebhookArgs(argv, root)).toThrow(expect.objectContaining({ field, code: 'VARMOR_ERR_CLI_USAGE' }));
    expect(() => parseWebhookArgs(['--bogus'])).toThrow(UsageError);
  });

  it('reads --binding-key FILE, refusing a key too short to be one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-key-'));
    try {
      await writeFile(path.join(dir, 'short'), 'tiny\n');
      await writeFile(path.join(dir, 'key'), '0123456789abcdef0123456789abcdef\n');
      const args = parseWebhookArgs(['--binding-key', 'key'], dir);
      if (args === 'help') throw new Error('unexpected');
      expect(readBindingKey(args.bindingKeyFile!)).toEqual(Buffer.from('0123456789abcdef0123456789abcdef'));
      expect(() => readBindingKey(path.join(dir, 'short'))).toThrow(expect.objectContaining({ field: 'binding-key', code: 'VARMOR_ERR_CLI_USAGE' }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const getText = (port: number, p: string) =>
  new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });

describe('startManager (embedded)', () => {
  let dir: string;
  let started: StartedWebhook;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-main-'));
    const cfg = parseWebhookArgs(['--port', '0', '--metrics-port', '0', '--cert-dir', path.join(dir, 'certs'), '--log-level', 'silent', '--opt-in-namespaces', 'shop'], root);
    if (cfg === 'help') throw new Error('unexpected');
    started = await startManager(cfg);
    ca = await readFile(path.join(dir, 'certs', 'ca.crt'), 'utf8');
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("patches the README's web Pod by the documented priority and counts the conflict", async () => {
    const body = await readFile(path.join(examples, 'review-web.json'), 'utf8');
    const res = await postMutate(started.server.port, ca, body);
    expect(res.status).toBe(200);
    const ops = JSON.parse(Buffer.from(res.json.response.patch ?? '', 'base64').toString()) as { path: string; value: unknown }[];
    // web-did (target by name) beats web-model (by name, later alphabetically) and web-hardening (by selector).
    expect(ops).toContainEqual({ op: 'add', path: '/spec/containers/0/securityContext', value: { appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-shop-web-did' }, seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-shop-web-did.json' } } });
    expect(ops.some((o) => o.path.startsWith('/spec/initContainers'))).toBe(false);
    const metrics = await getText(started.server.metricsPort!, '/metrics');
    expect(metrics).toMatch(/varmor_webhook_policy_conflicts_total 2/);
    expect(metrics).toMatch(/varmor_webhook_policies\{kind="VarmorPolicy"\} [1-9]/);
    expect(await getText(started.server.metricsPort!, '/readyz')).toBe('{"status":"ready"}');
  });

  it('leaves namespaces outside --opt-in-namespaces alone', async () => {
    const body = await readFile(path.join(examples, 'review-worker.json'), 'utf8');
    const res = await postMutate(started.server.port, ca, body);
    expect(res.json.response).toEqual({ uid: '0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f', allowed: true });
  });
});
