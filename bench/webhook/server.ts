// One server of the webhook benchmark, in its own process so the load generator does not share its
// event loop: `real` is the product (`startManager`, the same code as `varmor webhook`, policies
// from a folder), `noop` is a fastify HTTPS server with the same certificate that parses the review
// and answers "allowed" with no patch: the floor any webhook on fastify pays.
// Prints one JSON line {"port": N} when listening; answers each line "cpu" on stdin with its CPU time
// so far ({"cpu": microseconds}), which the driver turns into CPU per request; stops on SIGTERM.

import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import inspector from 'node:inspector';
import path from 'node:path';
import { parseWebhookArgs, startManager } from '../../cli/webhook.js';

async function noop(certDir: string): Promise<{ port: number; metricsPort?: number; stop(): Promise<void> }> {
  const [cert, key] = await Promise.all([readFile(path.join(certDir, 'tls.crt'), 'utf8'), readFile(path.join(certDir, 'tls.key'), 'utf8')]);
  const app = Fastify({ https: { cert, key, minVersion: 'TLSv1.2' }, logger: false, bodyLimit: 3 * 1024 * 1024 });
  app.post('/mutate', async (request) => {
    const uid = (request.body as { request?: { uid?: string } }).request?.uid ?? '';
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as { port: number }).port, stop: () => app.close() };
}

async function real(certDir: string, policiesDir: string): Promise<{ port: number; metricsPort?: number; stop(): Promise<void> }> {
  // As deployed: the webhook signs each confined container's references (manifests/manager.yaml).
  const keyFile = path.join(certDir, 'binding.key');
  writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const config = parseWebhookArgs(['--port', '0', '--metrics-port', '0', '--cert-dir', certDir, '--policies', policiesDir, '--log-level', 'warn', '--binding-key', keyFile]);
  if (config === 'help') throw new Error('unreachable');
  const started = await startManager(config);
  return { port: started.server.port, metricsPort: started.server.metricsPort, stop: () => started.stop() };
}

const [mode, certDir, policiesDir] = process.argv.slice(2);
const server = mode === 'noop' ? await noop(certDir) : await real(certDir, policiesDir);
process.stdout.write(`${JSON.stringify({ port: server.port, metricsPort: server.metricsPort })}\n`);
// "profile-start" / "profile-stop FILE": a CPU profile of the warm server only (bench --profile).
const session = new inspector.Session();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const line of chunk.split('\n').map((l) => l.trim())) {
    if (line === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpu: user + system })}\n`);
    } else if (line === 'profile-start') {
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    } else if (line.startsWith('profile-stop ')) {
      session.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(line.slice('profile-stop '.length), JSON.stringify(res.profile));
        session.disconnect();
      });
    }
  }
});
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
