// Shared by the controller's e2e tests: a real kube-apiserver (testing/apiserver/control-plane.ts) with
// our CRDs applied, a few namespaces, and helpers that read and write our resources. Where a
// test writes what an agent would (a node's status entry, a node's behaviour records), the
// helper says so in its name: no agent runs here, the API objects are the contract.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type {
  AnyPolicy,
  ArmorProfile,
  ArmorProfileModel,
  ArmorProfileNodeCondition,
  PolicySpec,
} from '../../profiler/api/types.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { k8sBinary } from './components.js';
import { isConflict } from '../../controller/errors.js';
import { makeKubeClient, type KubeClient } from '../../controller/kube.js';
import type { Logger } from '../../profiler/api/log.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CRD_DIR = join(ROOT, 'manifests', 'crds');
export const PRODUCT_NS = 'varmor';

/** Why the suite cannot run here, or undefined when it can. */
export function unavailableReason(): string | undefined {
  try {
    k8sBinary('kube-apiserver');
  } catch (err) {
    return `no kube-apiserver binary (${(err as Error).message}); build it with e2e/cluster/build.sh`;
  }
  if (!existsSync(CRD_DIR) || readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).length === 0)
    return `no CRDs in ${CRD_DIR}`;
  return undefined;
}

export interface Env {
  cp: ControlPlane;
  kc: KubeConfig;
  client: KubeClient;
  apps: AppsV1Api;
  core: CoreV1Api;
  stop(): Promise<void>;
}

export async function startEnv(namespaces: string[] = ['shop']): Promise<Env> {
  const cp = await startControlPlane();
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    await applyCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of [PRODUCT_NS, ...namespaces])
      await core.createNamespace({ body: { metadata: { name } } });
    return {
      cp,
      kc,
      client: makeKubeClient(kc),
      apps: kc.makeApiClient(AppsV1Api),
      core,
      stop: () => cp.stop(),
    };
  } catch (err) {
    await cp.stop();
    throw err;
  }
}

async function applyCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names: string[] = [];
  for (const f of readdirSync(CRD_DIR)
    .filter((x) => x.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(CRD_DIR, f), 'utf8'))) {
      const crd = doc.toJS() as V1CustomResourceDefinition | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
      await api.createCustomResourceDefinition({ body: crd });
      names.push(crd.metadata?.name ?? '');
    }
  }
  for (const name of names) {
    await waitUntil(`CRD ${name} established`, async () => {
      const c = await api.readCustomResourceDefinition({ name });
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ?? false;
    });
  }
}

/** Poll until `check` returns a truthy value (returned); fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function policy(name: string, spec: PolicySpec, namespace = 'shop'): AnyPolicy {
  return { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', metadata: { name, namespace }, spec };
}

export function clusterPolicy(name: string, spec: PolicySpec): AnyPolicy {
  return { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name }, spec };
}

export async function getPolicy(env: Env, p: AnyPolicy): Promise<AnyPolicy | undefined> {
  return env.client.get<AnyPolicy>(p.kind, p.metadata.namespace, p.metadata.name ?? '');
}

/** Read-modify-write of a policy's spec, retried on 409 like kubectl edit. */
export async function editPolicy(
  env: Env,
  p: AnyPolicy,
  edit: (spec: PolicySpec) => PolicySpec,
): Promise<AnyPolicy> {
  for (;;) {
    const cur = await getPolicy(env, p);
    if (!cur) throw new Error(`policy ${p.metadata.name} is gone`);
    try {
      return await env.client.replace<AnyPolicy>(cur.kind, { ...cur, spec: edit(structuredClone(cur.spec)) });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

export async function getAp(env: Env, ns: string, name: string): Promise<ArmorProfile | undefined> {
  return env.client.get<ArmorProfile>('ArmorProfile', ns, name);
}

/**
 * THE TEST ACTING AS AN AGENT: writes this node's entry in the ArmorProfile's status the way
 * CONTRACTS.md says the agent does (get, replace own entry, resourceVersion, retry on 409).
 */
export async function reportAsAgent(
  env: Env,
  ns: string,
  name: string,
  entry: Omit<ArmorProfileNodeCondition, 'type'> & { nodeName: string },
): Promise<void> {
  for (;;) {
    const ap = await getAp(env, ns, name);
    if (!ap) throw new Error(`ArmorProfile ${ns}/${name} not found`);
    const others = (ap.status?.conditions ?? []).filter((c) => c.nodeName !== entry.nodeName);
    const conditions = [...others, { type: 'Ready', lastTransitionTime: new Date().toISOString(), ...entry }];
    try {
      await env.client.replaceStatus<ArmorProfile>('ArmorProfile', {
        ...ap,
        status: {
          ...ap.status,
          conditions,
          currentNumberLoaded: conditions.filter((c) => c.status === 'True').length,
        },
      });
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

/** THE TEST ACTING AS AN AGENT: uploads one node's behaviour records (CONTRACTS.md, BehaviorModeling). */
export async function uploadRecordsAsAgent(
  env: Env,
  ns: string,
  profile: string,
  node: string,
  dynamicResult: NonNullable<ArmorProfileModel['data']['dynamicResult']>,
): Promise<void> {
  await env.client.create<ArmorProfileModel>('ArmorProfileModel', {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'ArmorProfileModel',
    metadata: {
      name: `${profile}.${node}`,
      namespace: ns,
      labels: { 'varmor.org/model-of': profile, 'varmor.org/node': node },
    },
    data: { dynamicResult },
    storageType: 'CRDInternal',
  });
}

export async function eventsFor(
  env: Env,
  ns: string,
  name: string,
): Promise<{ type?: string; reason?: string; message?: string }[]> {
  const list = await env.core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items.map((e) => ({ type: e.type, reason: e.reason, message: e.message }));
}

export async function createDeployment(
  env: Env,
  ns: string,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await env.apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name, namespace: ns, labels },
      spec: {
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
      },
    },
  });
}

/** Collects the controller's log lines, for assertions and for failure output. */
export function memoryLogger(): Logger & {
  lines: { level: string; msg: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, fields });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** kubectl create -f FILE: every document of a manifest, as the admin. */
export async function applyManifest(env: Env, file: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(env.kc);
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as KubernetesObject | null;
    if (obj?.kind) await api.create(obj);
  }
}

/**
 * A kubeconfig that authenticates as a ServiceAccount (a TokenRequest token), to run under its RBAC.
 * With `boundPod`, the token is bound to that Pod (TokenRequest boundObjectRef), as the kubelet
 * mounts it: when the Pod is bound to a node that exists, the token carries the node's name (user
 * extra `authentication.kubernetes.io/node-name`), which the agent's admission policy
 * (manifests/tenancy-policy.yaml) checks.
 */
export async function serviceAccountKubeConfig(
  env: Pick<Env, 'core' | 'kc'>,
  namespace: string,
  name: string,
  boundPod?: { name: string; uid: string },
): Promise<KubeConfig> {
  const boundObjectRef = boundPod ? { apiVersion: 'v1', kind: 'Pod', name: boundPod.name, uid: boundPod.uid } : undefined;
  const tr = await env.core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef } },
  });
  const cluster = env.kc.getCurrentCluster();
  if (!cluster || !tr.status?.token) throw new Error('no cluster or no token');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: tr.status.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}
