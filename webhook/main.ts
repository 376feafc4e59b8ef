// `varmor webhook`: the admission webhook process. Two modes:
// - embedded (default, no cluster): policies from a folder of YAML files, a generated certificate
//   in .varmor/certs, every namespace opted in unless --opt-in-namespaces lists them;
// - cluster (--kubeconfig FILE or --in-cluster): policies and namespace labels from informers, and
//   the policy controller (controller) in the same process.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyBaseLogger } from 'fastify';
import { ensureCertFiles, readServingFiles } from '../certs/index.js';
import { DEFAULT_PRODUCT_NAMESPACE } from '../profiler/names.js';
import { OPT_IN_LABEL } from './mutate/types.js';
import type { AppArmorStyle } from './mutate/mutate.js';
import { createMetrics, observePolicies } from './server/metrics.js';
import { startWebhookServer, type RunningWebhook } from './server/app.js';
import { FolderSource } from './sources/folder.js';
import { PolicyStore } from './sources/store.js';
import { profilerValidator } from './validator.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const USAGE = `Usage: varmor webhook [options]

  --port N                 HTTPS port of /mutate and /validate (default 3443)
  --host ADDR              listen address (default 127.0.0.1; 0.0.0.0 with --in-cluster)
  --metrics-port N         plain-HTTP port of /healthz, /readyz, /metrics (default 8081; 0 = any)
  --cert-dir DIR           tls.crt/tls.key (watched for rotation); generated if missing (default .varmor/certs)
  --service NAME           the webhook Service, for the certificate's names (default varmor-webhook)
  --product-namespace NS   namespace of the product and of cluster policies' profiles (default varmor)
  --policies DIR           embedded mode: VarmorPolicy/VarmorClusterPolicy YAML files (default examples/policies if present)
  --opt-in-namespaces A,B  embedded mode: only these namespaces are opted in (default: all)
  --kubeconfig FILE        cluster mode: policies and namespace labels from the API server, and the controller
  --in-cluster             cluster mode with the Pod's service account
  --no-controller          cluster mode without the policy controller
  --apparmor STYLE         field (Kubernetes >= 1.30, default), annotation (older), or both
  --log-level LEVEL        trace, debug, info (default), warn, error, silent
  -h, --help`;

export interface WebhookConfig {
  port: number;
  host: string;
  metricsPort: number;
  certDir: string;
  service: string;
  productNamespace: string;
  policiesDir?: string;
  optInNamespaces?: string[];
  kubeconfig?: string;
  inCluster: boolean;
  controller: boolean;
  appArmor: AppArmorStyle;
  logLevel: string;
}

function port(value: string | undefined, field: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${field}: must be a port number 0-65535, got ${JSON.stringify(value)}`, field);
  return n;
}

export function parseWebhookArgs(argv: string[], cwd = process.cwd()): WebhookConfig | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'metrics-port': { type: 'string' },
        'cert-dir': { type: 'string' },
        service: { type: 'string' },
        'product-namespace': { type: 'string' },
        policies: { type: 'string' },
        'opt-in-namespaces': { type: 'string' },
        kubeconfig: { type: 'string' },
        'in-cluster': { type: 'boolean' },
        'no-controller': { type: 'boolean' },
        apparmor: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const inCluster = values['in-cluster'] === true;
  const cluster = inCluster || values.kubeconfig !== undefined;
  if (cluster && values.policies !== undefined) throw new UsageError('--policies: the folder source is for the embedded mode, not with --kubeconfig/--in-cluster', 'policies');
  const appArmor = (values.apparmor ?? 'field') as AppArmorStyle;
  if (!['field', 'annotation', 'both'].includes(appArmor)) throw new UsageError(`--apparmor: must be field, annotation or both, got ${JSON.stringify(values.apparmor)}`, 'apparmor');
  const logLevel = values['log-level'] ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(logLevel)}`, 'log-level');
  let policiesDir = values.policies;
  if (policiesDir === undefined && !cluster) {
    const dflt = path.join(cwd, 'examples', 'policies');
    if (existsSync(dflt)) policiesDir = dflt;
  }
  if (policiesDir !== undefined && !existsSync(policiesDir)) throw new UsageError(`--policies: ${policiesDir} does not exist`, 'policies');
  const optIn = values['opt-in-namespaces']?.split(',').map((s) => s.trim()).filter(Boolean);
  return {
    port: port(values.port, 'port', 3443),
    host: values.host ?? (inCluster ? '0.0.0.0' : '127.0.0.1'),
    metricsPort: port(values['metrics-port'], 'metrics-port', 8081),
    certDir: path.resolve(cwd, values['cert-dir'] ?? path.join('.varmor', 'certs')),
    service: values.service ?? 'varmor-webhook',
    productNamespace: values['product-namespace'] ?? DEFAULT_PRODUCT_NAMESPACE,
    policiesDir: policiesDir && path.resolve(cwd, policiesDir),
    optInNamespaces: optIn && optIn.length ? optIn : undefined,
    kubeconfig: values.kubeconfig,
    inCluster,
    controller: values['no-controller'] !== true,
    appArmor,
    logLevel,
  };
}

export interface StartedWebhook {
  server: RunningWebhook;
  config: WebhookConfig;
  stop(): Promise<void>;
}

/** Starts everything the config asks for; the caller decides how long it runs. */
export async function startWebhook(config: WebhookConfig): Promise<StartedWebhook> {
  const validator = profilerValidator({ productNamespace: config.productNamespace });
  const metrics = createMetrics();
  const cluster = config.inCluster || config.kubeconfig !== undefined;
  const optIn = config.optInNamespaces && new Set(config.optInNamespaces);
  const optedIn = Object.freeze({ [OPT_IN_LABEL]: 'true' });
  // The server's logger exists only once the server does; the store logs through this holder.
  const logRef: { current?: FastifyBaseLogger } = {};
  const store = new PolicyStore({
    validate: validator.validatePolicy,
    productNamespace: config.productNamespace,
    mutation: { appArmor: config.appArmor },
    // Embedded: no namespace objects to read labels from; opt in all, or the listed ones.
    defaultNamespaceLabels: cluster ? undefined : (ns) => (!optIn || optIn.has(ns) ? optedIn : undefined),
    log: { info: (o, m) => logRef.current?.info(o, m), warn: (o, m) => logRef.current?.warn(o, m) },
    onRejected: (source) => metrics.policiesRejected.inc({ source: source.startsWith('cluster:') ? 'cluster' : 'folder' }),
    onChange: (index) => observePolicies(metrics, index),
  });

  // In a cluster the folder is a mounted Secret (read-only, rotated by whoever issued it): use what is
  // there and hot-reload it. Only a missing certificate is generated, as in the embedded mode.
  const mounted = cluster ? await readServingFiles(config.certDir) : null;
  const certs = mounted
    ? { generated: false, reason: undefined }
    : await ensureCertFiles(config.certDir, { serviceName: config.service, namespace: config.productNamespace });
  let synced = false;
  const server = await startWebhookServer({
    host: config.host,
    port: config.port,
    metricsPort: config.metricsPort,
    tls: { certDir: config.certDir },
    state: store,
    validator,
    metrics,
    logger: { level: config.logLevel },
    ready: () => synced,
  });
  const log = server.app.log;
  logRef.current = log;
  log.info({ certDir: config.certDir, generated: certs.generated, reason: certs.reason }, certs.generated ? 'serving certificate generated' : 'serving certificate reused');

  const stops: (() => Promise<void> | void)[] = [];
  try {
    if (cluster) {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      if (config.inCluster) kc.loadFromCluster();
      else kc.loadFromFile(config.kubeconfig as string);
      const { InformerSource } = await import('./sources/informer.js');
      const informers = new InformerSource({ kubeConfig: kc, store, log: log.child({ component: 'policies' }) });
      stops.push(() => informers.stop());
      await informers.start();
      if (config.controller) {
        const { startController } = await import('../controller/index.js');
        const controller = await startController({
          kubeConfig: kc,
          namespace: config.productNamespace,
          identity: process.env.POD_NAME ?? os.hostname(),
        });
        stops.push(() => controller.stop());
      }
    } else if (config.policiesDir) {
      const folder = new FolderSource(config.policiesDir, store, log.child({ component: 'policies' }));
      stops.push(() => folder.stop());
      await folder.start();
    } else {
      log.warn({}, 'no policy folder (--policies DIR) and no cluster: every Pod passes unchanged');
    }
    store.policies();
    synced = true;
  } catch (err) {
    for (const s of stops.reverse()) await s();
    await server.close();
    throw err;
  }
  log.info({ url: `${server.url}/mutate`, metrics: `http://${config.host}:${server.metricsPort}/metrics`, policies: store.size, mode: cluster ? 'cluster' : 'embedded' }, 'varmor webhook ready');
  return {
    server,
    config,
    async stop() {
      for (const s of stops.reverse()) await s();
      await server.close();
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  let config: WebhookConfig | 'help';
  try {
    config = parseWebhookArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`varmor webhook: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = await startWebhook(config);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await started.stop();
  return 0;
}
