// `varmor webhook`: the manager process. Its flags become the webhook's options (webhook/main.ts);
// in the cluster mode the policy controller (controller/) runs beside the webhook in the same
// process, started once the webhook's policy sources have synced and stopped with it.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { bindingKey, BindingKeyError, DEFAULT_PRODUCT_NAMESPACE, isLogLevel, type LogLevelOrSilent } from '../profiler/index.js';
import { createLogger } from './log.js';
import { type AppArmorStyle, type Companion, type StartedWebhook, startWebhook, type WebhookOptions } from '../webhook/index.js';
import { parseFlags, UsageError } from './args.js';

export const WEBHOOK_USAGE = `Usage: varmor webhook [options]

  --port N                 HTTPS port of /mutate and /validate (default 3443)
  --host ADDR              listen address (default 127.0.0.1; 0.0.0.0 with --in-cluster)
  --metrics-port N         plain-HTTP port of /healthz, /readyz, /metrics (default 8081; 0 = any)
  --cert-dir DIR           tls.crt/tls.key (watched for rotation); generated if missing (default .varmor/certs)
  --service NAME           the webhook Service, for the certificate's names (default varmor-webhook)
  --product-namespace NS   namespace of the product and of cluster policies' profiles (default varmor)
  --policies DIR           embedded mode: VarmorPolicy/VarmorClusterPolicy YAML files (default examples/policies if present)
  --opt-in-namespaces A,B  embedded mode: only these namespaces are opted in (default: all)
  --kubeconfig FILE        cluster mode: policies from the API server (opt-in is its namespaceSelector), and the controller
  --in-cluster             cluster mode with the Pod's service account
  --no-controller          cluster mode without the policy controller
  --binding-key FILE       key (>= 16 bytes, shared with the agents) that signs each container's profile references;
                           without it references are unsigned and the agents cannot tell them from pod-authored ones
  --apparmor STYLE         field (Kubernetes >= 1.30, default), annotation (older), or both
  --log-level LEVEL        trace, debug, info (default), warn, error, silent
  -h, --help`;

const FLAGS = {
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
  'binding-key': { type: 'string' },
  apparmor: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `varmor webhook`'s flags, parsed and checked: the webhook's own options, and how to reach the cluster. */
export interface WebhookArgs
  extends Pick<WebhookOptions, 'port' | 'host' | 'metricsPort' | 'certDir' | 'service' | 'productNamespace' | 'policiesDir' | 'optInNamespaces' | 'appArmor'> {
  kubeconfig?: string;
  /** The binding key file (--binding-key), read when the manager starts. */
  bindingKeyFile?: string;
  inCluster: boolean;
  controller: boolean;
  logLevel: LogLevelOrSilent;
}

function port(value: string | undefined, field: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${field}: must be a port number 0-65535, got ${JSON.stringify(value)}`, field);
  return n;
}

export function parseWebhookArgs(argv: string[], cwd = process.cwd()): WebhookArgs | 'help' {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) return 'help';
  const inCluster = values['in-cluster'] === true;
  const cluster = inCluster || values.kubeconfig !== undefined;
  if (cluster && values.policies !== undefined) throw new UsageError('--policies: the folder source is for the embedded mode, not with --kubeconfig/--in-cluster', 'policies');
  const appArmor = (values.apparmor ?? 'field') as AppArmorStyle;
  if (!['field', 'annotation', 'both'].includes(appArmor)) throw new UsageError(`--apparmor: must be field, annotation or both, got ${JSON.stringify(values.apparmor)}`, 'apparmor');
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(logLevel)}`, 'log-level');
  let policiesDir = values.policies;
  if (policiesDir === undefined && !cluster) {
    const dflt = path.join(cwd, 'examples', 'policies');
    if (existsSync(dflt)) policiesDir = dflt;
  }
  if (policiesDir !== undefined && !existsSync(policiesDir)) throw new UsageError(`--policies: ${policiesDir} does not exist`, 'policies');
  const optIn = values['opt-in-namespaces']?.split(',').map((s) => s.trim()).filter(Boolean);
  const keyFile = values['binding-key'] && path.resolve(cwd, values['binding-key']);
  if (keyFile !== undefined && !existsSync(keyFile)) throw new UsageError(`--binding-key: ${keyFile} does not exist`, 'binding-key');
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
    bindingKeyFile: keyFile || undefined,
    inCluster,
    controller: values['no-controller'] !== true,
    appArmor,
    logLevel,
  };
}

/** Reads and checks the binding key file; a short or unreadable key is a usage error, never "no key". */
export function readBindingKey(file: string): Buffer {
  try {
    return bindingKey(readFileSync(file));
  } catch (err) {
    if (err instanceof BindingKeyError) throw new UsageError(`--binding-key: ${file}: ${err.message}`, 'binding-key');
    throw new UsageError(`--binding-key: cannot read ${file}: ${(err as Error).message}`, 'binding-key');
  }
}

/** Starts the webhook and, in the cluster mode, the controller beside it; the caller decides how long they run. */
export async function startManager(args: WebhookArgs): Promise<StartedWebhook> {
  const log = createLogger({ component: 'webhook', level: args.logLevel });
  const key = args.bindingKeyFile === undefined ? undefined : readBindingKey(args.bindingKeyFile);
  let kubeConfig: KubeConfig | undefined;
  // client-node and the controller load only in the cluster mode: the embedded webhook starts without them.
  if (args.inCluster || args.kubeconfig !== undefined) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    kubeConfig = new KubeConfig();
    if (args.inCluster) kubeConfig.loadFromCluster();
    else kubeConfig.loadFromFile(args.kubeconfig as string);
  }
  const companions: Companion[] = [];
  if (kubeConfig && args.controller) {
    const kc = kubeConfig;
    companions.push(async () => {
      const { startController } = await import('../controller/index.js');
      return startController({
        kubeConfig: kc,
        namespace: args.productNamespace,
        identity: process.env.POD_NAME ?? os.hostname(),
        log: log.child({ component: 'controller' }),
      });
    });
  }
  return startWebhook({
    port: args.port,
    host: args.host,
    metricsPort: args.metricsPort,
    certDir: args.certDir,
    service: args.service,
    productNamespace: args.productNamespace,
    policiesDir: args.policiesDir,
    optInNamespaces: args.optInNamespaces,
    kubeConfig,
    bindingKey: key,
    appArmor: args.appArmor,
    log,
    companions,
  });
}

/** `varmor webhook ARGS`: runs until SIGINT or SIGTERM; returns the exit status (2: usage). */
export async function main(argv: string[]): Promise<number> {
  let args: WebhookArgs | 'help';
  try {
    args = parseWebhookArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`varmor webhook: ${err.message}\n\n${WEBHOOK_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    process.stdout.write(`${WEBHOOK_USAGE}\n`);
    return 0;
  }
  let started: StartedWebhook;
  try {
    started = await startManager(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`varmor webhook: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await started.stop();
  return 0;
}
