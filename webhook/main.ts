// The admission webhook, started from options (cli/webhook.ts turns `varmor webhook` flags into
// them and runs the policy controller beside it). Two modes:
// - embedded (no kubeConfig): policies from a folder of YAML files, a generated certificate,
//   every namespace opted in unless optInNamespaces lists them;
// - cluster (kubeConfig given): policies from informers; every Pod that reaches /mutate is opted in
//   (the webhook configuration's namespaceSelector decided in the API server); the certificate
//   folder is a mounted Secret, generated only when missing.
// With a binding key (a Secret shared with the agents), the webhook signs each container's profile
// references; without one the agents cannot tell them from references a pod author wrote.

import type { KubeConfig } from '@kubernetes/client-node';
import { ensureCertFiles, readServingFiles } from '../certs/index.js';
import { OPT_IN_LABEL, type StructuredLogger } from '../profiler/index.js';
import type { AppArmorStyle } from './mutate/mutate.js';
import { fastifyLogger } from './server/logger.js';
import { createMetrics, observePolicies } from './server/metrics.js';
import { startWebhookServer, type RunningWebhook } from './server/app.js';
import { FolderSource } from './sources/folder.js';
import { PolicyStore } from './sources/store.js';
import { admissionValidator, profilerValidator } from './validator.js';

/** Something that runs beside the webhook (the manager's policy controller) and stops with it. */
export type Companion = () => Promise<{ stop(): Promise<void> | void }>;

export interface WebhookOptions {
  port: number;
  host: string;
  metricsPort: number;
  certDir: string;
  /** The webhook Service, for the generated certificate's names. */
  service: string;
  productNamespace: string;
  /** Embedded mode: the policy folder; without it every Pod passes unchanged. */
  policiesDir?: string;
  /** Embedded mode: only these namespaces are opted in (default: all). */
  optInNamespaces?: string[];
  /** Cluster mode: the API server to read policies from. */
  kubeConfig?: KubeConfig;
  /** The key that signs profile references for the agents (profiler/binding.ts bindingKey()); none: unsigned. */
  bindingKey?: Buffer;
  appArmor: AppArmorStyle;
  log: StructuredLogger;
  /** Started once the policy sources have synced, before the webhook reports ready. */
  companions?: Companion[];
}

export interface StartedWebhook {
  server: RunningWebhook;
  options: WebhookOptions;
  stop(): Promise<void>;
}

/** Starts everything the options ask for; the caller decides how long it runs. */
export async function startWebhook(config: WebhookOptions): Promise<StartedWebhook> {
  const validator = profilerValidator({ productNamespace: config.productNamespace });
  const metrics = createMetrics();
  const kc = config.kubeConfig;
  const cluster = kc !== undefined;
  const optIn = config.optInNamespaces && new Set(config.optInNamespaces);
  const optedIn = Object.freeze({ [OPT_IN_LABEL]: 'true' });
  // fastify and the webhook's (fields, msg) callers share one pino-shaped view of the logger.
  const log = fastifyLogger(config.log);
  const store = new PolicyStore({
    validate: validator.validatePolicy,
    productNamespace: config.productNamespace,
    // Cluster: the namespaceSelector has decided; a request that reaches /mutate is opted in. Asking an
    // informer cache again would admit Pods of a namespace created a moment ago unsandboxed.
    mutation: { appArmor: config.appArmor, bindingKey: config.bindingKey, requireOptIn: !cluster },
    // Embedded: no namespace objects to read labels from; opt in all, or the listed ones.
    defaultNamespaceLabels: cluster ? undefined : (ns) => (!optIn || optIn.has(ns) ? optedIn : undefined),
    log,
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
    // /validate also refuses a policy whose profile name or BPF id another policy in the store has
    validator: admissionValidator(validator, () => store.policies().list(), { productNamespace: config.productNamespace }),
    metrics,
    logger: config.log,
    ready: () => synced,
  });
  log.info({ certDir: config.certDir, generated: certs.generated, reason: certs.reason }, certs.generated ? 'serving certificate generated' : 'serving certificate reused');
  if (!config.bindingKey)
    log.warn({}, 'no binding key (--binding-key FILE): profile references are not signed, so the agents cannot tell webhook-written references from pod-authored ones');

  const stops: (() => Promise<void> | void)[] = [];
  try {
    if (cluster) {
      const { InformerSource } = await import('./sources/informer.js');
      const informers = new InformerSource({ kubeConfig: kc, store, log: log.child({ component: 'policies' }) });
      stops.push(() => informers.stop());
      await informers.start();
    } else if (config.policiesDir) {
      const folder = new FolderSource(config.policiesDir, store, log.child({ component: 'policies' }));
      stops.push(() => folder.stop());
      await folder.start();
    } else {
      log.warn({}, 'no policy folder (--policies DIR) and no cluster: every Pod passes unchanged');
    }
    for (const start of config.companions ?? []) {
      const companion = await start();
      stops.push(() => companion.stop());
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
    options: config,
    async stop() {
      for (const s of stops.reverse()) await s();
      await server.close();
    },
  };
}
