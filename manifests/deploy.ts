// Deploys varmor-ts to the cluster KUBECONFIG points at: the CRDs (manifests/crds, generated from the
// profiler's schema), namespace, RBAC, a fresh webhook serving certificate from the project's certs/ code
// (Secret varmor-webhook-tls, CA into both webhook configurations' caBundle), the manager Deployment and
// the agent DaemonSet; then waits for them to be ready. Server-side apply: re-running is an update.
// The binding key (Secret varmor-binding-key) is created once, when absent, and never replaced: the
// webhook signs pods' profile references with it and the agents verify them, so an upgrade that
// changed it would leave running pods with references no agent accepts.
// Usage: node --import ./testing/ts-loader.mjs manifests/deploy.ts [--image REF] [--containerd-socket P]
//        [--seccomp-root DIR] [--crds DIR] [--timeout SECONDS] [--delete]
// --delete removes it all instead (manifests/undeploy.ts), given the same options as the deploy.

import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { caBundle, generateBundle, toSecret } from '../certs/index.js';
import { parseDocuments } from '../profiler/yaml.js';
import { PRODUCT_IMAGE } from './images/refs.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const NAMESPACE = 'varmor';
const FIELD_MANAGER = 'varmor-deploy';
/** The Secret holding the webhook's binding key (manager.yaml and agent.yaml mount its `key`). */
export const BINDING_KEY_SECRET = 'varmor-binding-key';

export interface DeployOptions {
  image?: string;
  /** Host path of containerd's socket on the nodes (default /run/containerd/containerd.sock). */
  containerdSocket?: string;
  /** Host path of the kubelet's seccomp root (default /var/lib/kubelet/seccomp). */
  seccompRoot?: string;
  timeoutMs?: number;
  /** Where the CRD YAML files are (default manifests/crds). */
  crdDir?: string;
  log?: (msg: string) => void;
}

export class DeployError extends Error {
  override readonly name = 'DeployError';
  constructor(
    readonly code: 'DEPLOY_MISSING_CRDS' | 'DEPLOY_TIMEOUT' | 'DEPLOY_BAD_MANIFEST',
    message: string,
    readonly object?: string,
  ) {
    super(message);
  }
}

type Obj = k8s.KubernetesObject & Record<string, unknown>;

export function loadManifest(file: string): Obj[] {
  return parseDocuments(readFileSync(file, 'utf8')).filter((d): d is Obj => !!d && typeof d === 'object') as Obj[];
}

export function crdFiles(dir = join(HERE, 'crds')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

interface PodSpecLike {
  containers: { image?: string; args?: string[] }[];
  volumes?: { name: string; hostPath?: { path: string } }[];
}

function podSpec(o: Obj): PodSpecLike {
  return (o as unknown as { spec: { template: { spec: PodSpecLike } } }).spec.template.spec;
}

/** The objects of manifests/*.yaml with the node-specific host paths and the image substituted. */
export function renderManifests(opts: DeployOptions, bundle: ReturnType<typeof generateBundle>): Obj[] {
  const objs = ['namespace.yaml', 'rbac.yaml', 'tenancy-policy.yaml', 'manager.yaml', 'agent.yaml'].flatMap((f) => loadManifest(join(HERE, f)));
  const secret = toSecret({ cert: bundle.serving.cert, key: bundle.serving.key, ca: bundle.ca.cert }, { namespace: NAMESPACE });
  objs.splice(3, 0, secret as unknown as Obj);
  for (const o of objs) {
    if (o.kind !== 'Deployment' && o.kind !== 'DaemonSet') continue;
    const spec = podSpec(o);
    for (const c of spec.containers) if (opts.image) c.image = opts.image;
    for (const v of spec.volumes ?? []) {
      if (v.name === 'containerd-sock' && v.hostPath && opts.containerdSocket) v.hostPath.path = opts.containerdSocket;
      if (v.name === 'seccomp-root' && v.hostPath && opts.seccompRoot) v.hostPath.path = opts.seccompRoot;
    }
  }
  const hooks = loadManifest(join(HERE, 'webhooks.yaml'));
  for (const h of hooks) {
    for (const w of (h as unknown as { webhooks: { clientConfig: { caBundle?: string } }[] }).webhooks) w.clientConfig.caBundle = caBundle(bundle.ca.cert);
  }
  return [...objs, ...hooks];
}

/** A fresh binding key Secret: 32 random bytes, hex, under `key`. */
export function bindingKeySecret(namespace = NAMESPACE, bytes: Buffer = randomBytes(32)): k8s.V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: BINDING_KEY_SECRET, namespace, labels: { 'app.kubernetes.io/part-of': 'varmor-ts' } },
    type: 'Opaque',
    data: { key: Buffer.from(bytes.toString('hex')).toString('base64') },
  };
}

/** Creates the binding key Secret when absent; an existing one is kept as it is (upgrades keep the key). */
export async function ensureBindingKey(kc: k8s.KubeConfig, namespace = NAMESPACE): Promise<'created' | 'kept'> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.readNamespacedSecret({ name: BINDING_KEY_SECRET, namespace });
    return 'kept';
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  try {
    await core.createNamespacedSecret({ namespace, body: bindingKeySecret(namespace) });
    return 'created';
  } catch (err) {
    if ((err as { code?: number }).code === 409) return 'kept'; // created meanwhile by another deploy
    throw err;
  }
}

const describe = (o: k8s.KubernetesObject): string => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

async function apply(client: k8s.KubernetesObjectApi, o: Obj): Promise<void> {
  await client.patch(o, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
}

/** Polls `check` each second until it returns true; DEPLOY_TIMEOUT with its last answer. */
export async function poll(what: string, timeoutMs: number, check: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new DeployError('DEPLOY_TIMEOUT', `timed out waiting for ${what}: ${last}`, what);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function applyCrds(kc: k8s.KubeConfig, log: (m: string) => void, timeoutMs = 60_000, dir = join(HERE, 'crds')): Promise<string[]> {
  const files = crdFiles(dir);
  if (!files.length) throw new DeployError('DEPLOY_MISSING_CRDS', `no CRDs in ${dir} (generated from the profiler's schema)`);
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const f of files) {
    for (const o of loadManifest(f)) {
      await apply(client, o);
      names.push(o.metadata?.name ?? '');
    }
  }
  for (const name of names) {
    await poll(`CRD ${name} Established`, timeoutMs, async () => {
      const crd = await ext.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : 'not established';
    });
  }
  log(`CRDs established: ${names.join(', ')}`);
  return names;
}

export async function deploy(kc: k8s.KubeConfig, opts: DeployOptions = {}): Promise<void> {
  const log = opts.log ?? ((m: string) => console.log(`deploy: ${m}`));
  const timeoutMs = opts.timeoutMs ?? 180_000;
  await applyCrds(kc, log, 60_000, opts.crdDir);
  const bundle = generateBundle({ serviceName: 'varmor-webhook', namespace: NAMESPACE });
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const objs = renderManifests({ image: PRODUCT_IMAGE, ...opts }, bundle);
  for (const o of objs) {
    // The webhooks go in last, once their backend is ready: Fail policies must not point at nothing.
    if (o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration') continue;
    await apply(client, o);
    log(`applied ${describe(o)}`);
    // The key before the pods that mount it.
    if (o.kind === 'Namespace' && o.metadata?.name === NAMESPACE) log(`binding key Secret ${BINDING_KEY_SECRET}: ${await ensureBindingKey(kc)}`);
  }
  // A new certificate: restart the manager pods so they serve it (they also hot-reload, but a fresh
  // Secret volume can take a kubelet sync period to appear).
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await apps.patchNamespacedDeployment(
    {
      name: 'varmor-manager',
      namespace: NAMESPACE,
      body: { spec: { template: { metadata: { annotations: { 'varmor.org/cert-serial': describeSerial(bundle.serving.cert) } } } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await poll('Deployment varmor/varmor-manager available', timeoutMs, async () => {
    const d = await apps.readNamespacedDeployment({ name: 'varmor-manager', namespace: NAMESPACE });
    const want = d.spec?.replicas ?? 1;
    const s = d.status;
    const ok = (s?.updatedReplicas ?? 0) === want && (s?.availableReplicas ?? 0) === want && (s?.replicas ?? 0) === want;
    return ok ? true : `${s?.availableReplicas ?? 0}/${want} available, ${s?.updatedReplicas ?? 0} updated`;
  });
  log('manager ready');
  await poll('DaemonSet varmor/varmor-agent ready', timeoutMs, async () => {
    const d = await apps.readNamespacedDaemonSet({ name: 'varmor-agent', namespace: NAMESPACE });
    const s = d.status;
    const ok = !!s && s.desiredNumberScheduled > 0 && s.numberReady === s.desiredNumberScheduled && (s.updatedNumberScheduled ?? 0) === s.desiredNumberScheduled;
    return ok ? true : `${s?.numberReady ?? 0}/${s?.desiredNumberScheduled ?? '?'} ready`;
  });
  log('agent ready');
  for (const o of objs) {
    if (o.kind !== 'MutatingWebhookConfiguration' && o.kind !== 'ValidatingWebhookConfiguration') continue;
    await apply(client, o);
    log(`applied ${describe(o)}`);
  }
}

function describeSerial(certPem: string): string {
  return String(certPem.length) + '-' + certPem.slice(-40, -26).replace(/[^A-Za-z0-9]/g, '');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts: DeployOptions = {};
  let del = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = (): string => {
      const x = args[++i];
      if (x === undefined) throw new DeployError('DEPLOY_BAD_MANIFEST', `${a} needs a value`, a);
      return x;
    };
    if (a === '--image') opts.image = v();
    else if (a === '--containerd-socket') opts.containerdSocket = v();
    else if (a === '--seccomp-root') opts.seccompRoot = v();
    else if (a === '--timeout') opts.timeoutMs = Number(v()) * 1000;
    else if (a === '--crds') opts.crdDir = resolve(v());
    else if (a === '--delete') del = true;
    else {
      console.error(`deploy: unknown argument ${a}`);
      process.exit(2);
    }
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  try {
    if (del) await (await import('./undeploy.js')).undeploy(kc, opts);
    else await deploy(kc, opts);
  } catch (err) {
    console.error(`deploy: ${(err as Error).message}`);
    process.exit(1);
  }
}
