// The webhook's servers: the HTTPS admission server (TLS 1.2+, /mutate and /validate, certificate
// hot reload) and a plain-HTTP operations server (/healthz, /readyz, /metrics) on another port,
// so probes and scrapes need no client certificate handling and cannot starve admission.

import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CertReloader, readServingFiles } from '../../certs/index.js';
import type { MutationState, PolicyValidator } from '../admission/handlers.js';
import { mutatePlugin, sendTimed, validatePlugin } from './admission-plugins.js';
import { createMetrics, type WebhookMetrics } from './metrics.js';
import { fastifyLogger } from './logger.js';
import type { StructuredLogger } from '../../profiler/index.js';

export class WebhookServerError extends Error {
  override readonly name = 'WebhookServerError';
  constructor(
    readonly code: 'VARMOR_ERR_SERVER_NO_CERT' | 'VARMOR_ERR_SERVER_BAD_OPTION',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Kubernetes objects are at most ~1.5 MiB in etcd; a review wraps one Pod. */
export const DEFAULT_BODY_LIMIT = 3 * 1024 * 1024;

export interface WebhookServerOptions {
  /** Listen address. Default 127.0.0.1 (in a cluster, pass 0.0.0.0). */
  host?: string;
  /** HTTPS port; 0 picks a free one. */
  port: number;
  /** Plain-HTTP port for health and metrics; null for none. Default: an ephemeral port. */
  metricsPort?: number | null;
  metricsHost?: string;
  /** A certificate folder (tls.crt, tls.key), watched for rotation; or a fixed pair. */
  tls: { certDir: string } | { cert: string; key: string };
  state: MutationState;
  /** Enables /validate. */
  validator?: PolicyValidator;
  metrics?: WebhookMetrics;
  /** The structured logger (profiler/api/log.ts) fastify and the handlers write to; default: no logging. */
  logger?: StructuredLogger;
  bodyLimit?: number;
  /** Readiness beyond "listening": e.g. the policy source has synced. */
  ready?: () => boolean;
}

export interface RunningWebhook {
  app: FastifyInstance<HttpsServer>;
  ops?: FastifyInstance;
  port: number;
  metricsPort?: number;
  url: string;
  metrics: WebhookMetrics;
  reloader?: CertReloader;
  close(): Promise<void>;
}

function loggerOptions(logger: StructuredLogger | undefined) {
  return logger ? { loggerInstance: fastifyLogger(logger) } : { logger: false as const };
}

export async function startWebhookServer(opts: WebhookServerOptions): Promise<RunningWebhook> {
  const metrics = opts.metrics ?? createMetrics();
  let pair: { cert: string; key: string };
  if ('certDir' in opts.tls) {
    const files = await readServingFiles(opts.tls.certDir);
    if (!files) throw new WebhookServerError('VARMOR_ERR_SERVER_NO_CERT', `no tls.crt/tls.key in ${opts.tls.certDir}`, 'certDir');
    pair = files;
  } else pair = opts.tls;

  const app = Fastify({
    https: { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' },
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Per-request log lines would dominate the hot path; handlers log what matters (mutations, refusals).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ...loggerOptions(opts.logger),
  }) as unknown as FastifyInstance<HttpsServer>;

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const route = request.routeOptions.url === '/validate' ? 'validate' : 'mutate';
    metrics.errors.inc({ handler: route, code: err.code ?? 'VARMOR_ERR_SERVER_INTERNAL' });
    metrics.countRequest(route, status < 500 ? 'bad-request' : 'error');
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.warn({ code: err.code, reason: err.message }, 'request refused');
    // Refusals before the handler (unparsable body, too large): timed here, as the handlers time theirs.
    return sendTimed(reply, metrics.duration.labels(route), status, { code: err.code ?? 'VARMOR_ERR_SERVER_INTERNAL', message: status < 500 ? err.message : 'internal error' });
  });
  await app.register(mutatePlugin, { state: opts.state, metrics });
  if (opts.validator) await app.register(validatePlugin, { validator: opts.validator, metrics });

  await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port });
  const port = (app.server.address() as AddressInfo).port;

  let reloader: CertReloader | undefined;
  if ('certDir' in opts.tls) {
    reloader = new CertReloader(opts.tls.certDir, app.server, {
      onReload: () => app.log.info({ certDir: (opts.tls as { certDir: string }).certDir }, 'serving certificate reloaded'),
      onError: (err) => app.log.warn({ reason: err.message }, 'certificate reload skipped'),
    });
    reloader.start(pair.cert);
  }

  let ops: FastifyInstance | undefined;
  let metricsPort: number | undefined;
  let closing = false;
  if (opts.metricsPort !== null) {
    ops = Fastify({ logger: false });
    ops.get('/healthz', async () => ({ status: 'ok' }));
    ops.get('/readyz', async (_req, reply) => {
      const ready = !closing && app.server.listening && (opts.ready?.() ?? true);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
    });
    ops.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
    await ops.listen({ host: opts.metricsHost ?? opts.host ?? '127.0.0.1', port: opts.metricsPort ?? 0 });
    metricsPort = (ops.server.address() as AddressInfo).port;
  }

  return {
    app,
    ops,
    port,
    metricsPort,
    url: `https://localhost:${port}`,
    metrics,
    reloader,
    async close() {
      closing = true;
      reloader?.stop();
      await app.close();
      await ops?.close();
    },
  };
}
