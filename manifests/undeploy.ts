// Removes varmor-ts from the cluster KUBECONFIG points at, leaving nothing behind: no CRD or
// namespace stuck Terminating, no finalizer, no BPF program, pin, Seccomp file or AppArmor profile on
// any node. Running workloads keep running. The order is what makes that true:
//  1. the webhooks, so no Pod create or policy write is blocked or mutated meanwhile;
//  2. every policy, while the manager still runs to release their finalizers (and those of their
//     ArmorProfiles); what it has not released by the deadline is released here, with a line saying so;
//  3. the agent DaemonSet, and its pods waited out (a running agent holds its programs by fd);
//  4. one pod per node running `varmor uninstall` (the agent's image, host mounts and paths, taken
//     from the rendered DaemonSet so they cannot drift), each waited to Succeeded;
//  5. the rest (manager, RBAC, namespace), then the CRDs, each waited until gone.
// Re-running it is a no-op that succeeds.

import * as k8s from '@kubernetes/client-node';
import { generateBundle } from '../certs/index.js';
import { crdFiles, type DeployOptions, DeployError, loadManifest, NAMESPACE, poll, renderManifests } from './deploy.js';
import { PRODUCT_IMAGE } from './images/refs.js';

const GROUP = 'crd.varmor.org';
const VERSION = 'v1beta1';
const AGENT = 'varmor-agent';
const CLEANUP_LABEL = 'varmor.org/uninstall';
/** The agent's flags that name the host paths `varmor uninstall` cleans. */
const NODE_PATH_FLAGS = ['--pin-path', '--seccomp-root', '--apparmor-dir', '--hook-socket'];

export interface UndeployOptions extends DeployOptions {
  /** How long the manager gets to release the policies' finalizers (default 120 s). */
  policyGraceMs?: number;
}

export interface NodeCleanup {
  node: string;
  phase: string;
  /** The pod's log: what `varmor uninstall` removed or failed to. */
  log: string;
}

export interface UndeployReport {
  policiesDeleted: number;
  /** Objects whose finalizers were released here because the manager did not in time. */
  finalizersForced: string[];
  nodes: NodeCleanup[];
  durationMs: number;
}

type Obj = k8s.KubernetesObject & Record<string, unknown>;
const describeObj = (o: k8s.KubernetesObject): string => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
const status = (err: unknown): number | undefined => {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deletes `o`; true when it existed. */
async function remove(client: k8s.KubernetesObjectApi, o: k8s.KubernetesObject): Promise<boolean> {
  try {
    await client.delete(o, undefined, undefined, undefined, undefined, 'Background');
    return true;
  } catch (err) {
    if (status(err) === 404) return false;
    throw err;
  }
}

async function gone(client: k8s.KubernetesObjectApi, o: k8s.KubernetesObject): Promise<string | true> {
  try {
    const cur = await client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name ?? '', namespace: o.metadata?.namespace } } as k8s.KubernetesObject & { metadata: { name: string } });
    const f = cur.metadata?.finalizers ?? [];
    return `${describeObj(o)} still there${cur.metadata?.deletionTimestamp ? ' (Terminating)' : ''}${f.length ? `, finalizers ${f.join(', ')}` : ''}`;
  } catch (err) {
    if (status(err) === 404) return true;
    throw err;
  }
}

/** Lists a varmor custom resource across namespaces; [] when its CRD is not installed. */
async function listCustom(custom: k8s.CustomObjectsApi, plural: string): Promise<Obj[]> {
  try {
    const r = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items?: Obj[] };
    return r.items ?? [];
  } catch (err) {
    if (status(err) === 404) return [];
    throw err;
  }
}

async function releaseFinalizers(custom: k8s.CustomObjectsApi, plural: string, o: Obj): Promise<boolean> {
  if (!o.metadata?.finalizers?.length) return false;
  const body = [{ op: 'replace', path: '/metadata/finalizers', value: [] }];
  const name = o.metadata.name ?? '';
  const opts = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
  try {
    if (o.metadata.namespace) await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, plural, namespace: o.metadata.namespace, name, body }, opts);
    else await custom.patchClusterCustomObject({ group: GROUP, version: VERSION, plural, name, body }, opts);
    return true;
  } catch (err) {
    if (status(err) === 404) return false;
    throw err;
  }
}

/** Step 2: policies deleted, the manager given `graceMs` to let go of them and their ArmorProfiles. */
async function removePolicies(kc: k8s.KubeConfig, graceMs: number, log: (m: string) => void): Promise<{ deleted: number; forced: string[] }> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  let deleted = 0;
  for (const plural of ['varmorpolicies', 'varmorclusterpolicies']) {
    for (const p of await listCustom(custom, plural)) {
      if (!p.metadata?.deletionTimestamp && (await remove(client, p))) deleted++;
    }
  }
  if (deleted) log(`deleted ${deleted} policies; waiting up to ${Math.round(graceMs / 1000)} s for the manager to release them`);
  const plurals = ['varmorpolicies', 'varmorclusterpolicies', 'armorprofiles'];
  const deadline = Date.now() + graceMs;
  let left: { plural: string; o: Obj }[] = [];
  for (;;) {
    left = [];
    for (const plural of plurals) for (const o of await listCustom(custom, plural)) left.push({ plural, o });
    // ArmorProfiles nobody deleted (e.g. the manager was already gone) go with their policies.
    const live = left.filter((x) => x.plural === 'armorprofiles' && !x.o.metadata?.deletionTimestamp && !x.o.metadata?.ownerReferences?.length);
    for (const x of live) await remove(client, x.o);
    if (left.length === 0 || Date.now() > deadline) break;
    await sleep(1000);
  }
  const forced: string[] = [];
  for (const { plural, o } of left) {
    if (!o.metadata?.deletionTimestamp) await remove(client, o);
    if (await releaseFinalizers(custom, plural, o)) forced.push(describeObj(o));
  }
  if (forced.length) log(`the manager did not release ${forced.length} objects in time; their finalizers were removed: ${forced.slice(0, 10).join(', ')}`);
  return { deleted, forced };
}

/** The pod that runs `varmor uninstall` on `node`: the agent's pod template with another command. */
export function cleanupPod(agent: Obj, node: string): k8s.V1Pod {
  const template = structuredClone((agent as unknown as { spec: { template: k8s.V1PodTemplateSpec } }).spec.template);
  const spec = template.spec as k8s.V1PodSpec;
  const agentContainer = spec.containers[0];
  const args = (agentContainer.args ?? []).filter((a) => NODE_PATH_FLAGS.some((f) => a.startsWith(`${f}=`)));
  const keep = new Set(['seccomp-root', 'run-varmor', 'bpffs', 'securityfs']);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `varmor-uninstall-${node}`.slice(0, 253), namespace: NAMESPACE, labels: { [CLEANUP_LABEL]: 'node', 'app.kubernetes.io/part-of': 'varmor-ts' } },
    spec: {
      nodeName: node,
      restartPolicy: 'Never',
      tolerations: spec.tolerations,
      priorityClassName: spec.priorityClassName,
      // No API access: it touches only the node.
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'uninstall',
          image: agentContainer.image,
          imagePullPolicy: agentContainer.imagePullPolicy,
          args: ['uninstall', ...args],
          // Root in the container as the agent is; MAC_ADMIN for AppArmor's .remove. Unpinning needs
          // only bpffs write access (the kernel detaches a link when its last reference goes).
          securityContext: { privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['MAC_ADMIN'] } },
          volumeMounts: (agentContainer.volumeMounts ?? []).filter((m) => keep.has(m.name)),
        },
      ],
      volumes: (spec.volumes ?? []).filter((v) => keep.has(v.name)),
    },
  };
}

/** Step 4: `varmor uninstall` on every node, each pod waited to an end and its log kept. */
async function cleanNodes(kc: k8s.KubeConfig, agent: Obj, timeoutMs: number, log: (m: string) => void): Promise<NodeCleanup[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const nodes = (await core.listNode()).items.map((n) => n.metadata?.name ?? '').filter(Boolean);
  const pods = nodes.map((n) => cleanupPod(agent, n));
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const p of pods) {
    // A pod left by an interrupted run: replaced, so this run's result is the one read.
    if (await remove(client, p as k8s.KubernetesObject)) await poll(`old pod ${p.metadata?.name} gone`, 60_000, () => gone(client, p as k8s.KubernetesObject));
    await core.createNamespacedPod({ namespace: NAMESPACE, body: p });
  }
  const out: NodeCleanup[] = [];
  for (const p of pods) {
    const name = p.metadata?.name ?? '';
    let phase = '';
    await poll(`pod ${NAMESPACE}/${name} to finish`, timeoutMs, async () => {
      phase = (await core.readNamespacedPod({ name, namespace: NAMESPACE })).status?.phase ?? 'Pending';
      return phase === 'Succeeded' || phase === 'Failed' ? true : phase;
    });
    const text = await core.readNamespacedPodLog({ name, namespace: NAMESPACE, container: 'uninstall' }).catch((e: unknown) => `(no log: ${(e as Error).message})`);
    out.push({ node: p.spec?.nodeName ?? '', phase, log: String(text).trim() });
    log(`node ${p.spec?.nodeName}: ${phase}${text ? `\n  ${String(text).trim().split('\n').join('\n  ')}` : ''}`);
    await core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
  const failed = out.filter((n) => n.phase !== 'Succeeded');
  if (failed.length) throw new DeployError('DEPLOY_TIMEOUT', `varmor uninstall failed on ${failed.map((n) => n.node).join(', ')}: ${failed.map((n) => n.log).join(' | ')}`, 'varmor uninstall');
  return out;
}

export async function undeploy(kc: k8s.KubeConfig, opts: UndeployOptions = {}): Promise<UndeployReport> {
  const t0 = Date.now();
  const log = opts.log ?? ((m: string) => console.log(`undeploy: ${m}`));
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  // The same objects deploy() applied: names and the agent's host paths come from one rendering.
  const objs = renderManifests({ image: PRODUCT_IMAGE, ...opts }, generateBundle({ serviceName: 'varmor-webhook', namespace: NAMESPACE }));
  const agent = objs.find((o) => o.kind === 'DaemonSet' && o.metadata?.name === AGENT);
  if (!agent) throw new DeployError('DEPLOY_BAD_MANIFEST', `manifests/agent.yaml has no DaemonSet ${AGENT}`);

  for (const o of objs.filter((x) => x.kind?.endsWith('WebhookConfiguration'))) if (await remove(client, o)) log(`deleted ${describeObj(o)}`);

  // Without a running manager nobody releases the finalizers: no point waiting for it.
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const managerUp = await apps.readNamespacedDeployment({ name: 'varmor-manager', namespace: NAMESPACE }).then((d) => (d.status?.availableReplicas ?? 0) > 0, () => false);
  const { deleted, forced } = await removePolicies(kc, managerUp ? (opts.policyGraceMs ?? 120_000) : 0, log);

  const agentThere = await remove(client, agent);
  if (agentThere) log(`deleted ${describeObj(agent)}`);
  await poll(`${AGENT} pods gone`, timeoutMs, async () => {
    const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app.kubernetes.io/name=${AGENT}` }).catch((e: unknown) => {
      if (status(e) === 404) return { items: [] };
      throw e;
    });
    return pods.items.length === 0 ? true : `${pods.items.length} left`;
  });

  // On a second run the namespace may be gone already: then there is nothing left on the nodes either
  // unless the first run failed there, so clean again whenever the namespace can take pods.
  let nodes: NodeCleanup[] = [];
  const nsLive = await core.readNamespace({ name: NAMESPACE }).then((n) => !n.metadata?.deletionTimestamp, () => false);
  if (nsLive) nodes = await cleanNodes(kc, agent, timeoutMs, log);
  else log(`namespace ${NAMESPACE} is gone or going: no node cleanup scheduled`);

  const rest = objs.filter((o) => !o.kind?.endsWith('WebhookConfiguration') && o !== agent).reverse();
  for (const o of rest) if (await remove(client, o)) log(`deleted ${describeObj(o)}`);
  const crds = crdFiles(opts.crdDir).flatMap(loadManifest);
  for (const o of crds) if (await remove(client, o)) log(`deleted ${describeObj(o)}`);
  for (const o of [...rest.filter((x) => x.kind === 'Namespace'), ...crds]) await poll(`${describeObj(o)} gone`, timeoutMs, () => gone(client, o));
  const durationMs = Date.now() - t0;
  log(`done in ${(durationMs / 1000).toFixed(1)} s: ${deleted} policies, ${nodes.length} nodes cleaned, ${forced.length} finalizers forced`);
  return { policiesDeleted: deleted, finalizersForced: forced, nodes, durationMs };
}
