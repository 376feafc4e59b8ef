// The agent's tenancy limits (issue 16, item 8) against a real kube-apiserver: manifests/rbac.yaml
// plus the ValidatingAdmissionPolicy of manifests/tenancy-policy.yaml. THE TEST PLAYS A
// COMPROMISED AGENT: it holds what the agent on node-a holds (the varmor-agent ServiceAccount
// token bound to its own Pod on node-a) and tries to write another node's ArmorProfile status
// entry and to plant behaviour records for another node. Both must be refused; its own node's
// entry and records must pass, or the agent could not work.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ArmorProfile, ArmorProfileModel } from '../../profiler/api/types.js';
import { API_GROUP, LABEL_MODEL_OF, LABEL_NODE } from '../../profiler/index.js';
import { BINDING_KEY_SECRET, ensureBindingKey } from '../../manifests/deploy.js';
import {
  PRODUCT_NS,
  ROOT,
  applyManifest,
  serviceAccountKubeConfig,
  startEnv,
  unavailableReason,
  waitUntil,
  type Env,
} from '../../testing/apiserver/harness.js';

const RBAC = join(ROOT, 'manifests', 'rbac.yaml');
const VAP = join(ROOT, 'manifests', 'tenancy-policy.yaml');
const reason = unavailableReason() ?? (existsSync(VAP) ? undefined : `no ${VAP}`);
if (reason) console.warn(`agent RBAC e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;
jest.setTimeout(120_000);

const V = 'v1beta1';
const AP = 'varmor-shop-web';
const entry = (node: string, status: string) => ({ type: 'Ready', nodeName: node, status, lastTransitionTime: '2026-12-01T10:00:00Z' });

/** The server's answer to a call: 'ok', or the HTTP status and message of the refusal. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    const e = err as { code?: number; body?: unknown; message?: string };
    return `${e.code ?? '?'} ${typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? e.message)}`;
  }
}

suite(`the agent's ServiceAccount under manifests/rbac.yaml + tenancy-policy.yaml${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let env: Env;
  let agentA: CustomObjectsApi;

  const getAp = (api: CustomObjectsApi) =>
    api.getNamespacedCustomObjectStatus({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofiles', name: AP }) as Promise<ArmorProfile>;
  const putStatus = (api: CustomObjectsApi, ap: ArmorProfile) =>
    api.replaceNamespacedCustomObjectStatus({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofiles', name: AP, body: ap });
  const model = (node: string): ArmorProfileModel =>
    ({
      apiVersion: `${API_GROUP}/${V}`,
      kind: 'ArmorProfileModel',
      metadata: { name: `${AP}.${node}`, namespace: 'shop', labels: { [LABEL_MODEL_OF]: AP, [LABEL_NODE]: node } },
      data: {},
    }) as ArmorProfileModel;
  const createModel = (api: CustomObjectsApi, m: ArmorProfileModel) =>
    api.createNamespacedCustomObject({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofilemodels', body: m });

  beforeAll(async () => {
    env = await startEnv(['shop']);
    await applyManifest(env, RBAC);
    await applyManifest(env, VAP);
    for (const name of ['node-a', 'node-b']) await env.core.createNode({ body: { metadata: { name } } });
    // The agent's Pod on node-a (no kubelet runs: bound by nodeName, it exists as the API sees it).
    const pod = await env.core.createNamespacedPod({
      namespace: PRODUCT_NS,
      body: {
        metadata: { name: 'varmor-agent-a' },
        spec: { nodeName: 'node-a', serviceAccountName: 'varmor-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'agent' }] },
      },
    });
    const kc: KubeConfig = await serviceAccountKubeConfig(env, PRODUCT_NS, 'varmor-agent', { name: pod.metadata!.name!, uid: pod.metadata!.uid! });
    agentA = kc.makeApiClient(CustomObjectsApi);
    // The ArmorProfile, as the controller writes it; node-b has reported.
    const admin = env.kc.makeApiClient(CustomObjectsApi);
    const ap = (await admin.createNamespacedCustomObject({
      group: API_GROUP,
      version: V,
      namespace: 'shop',
      plural: 'armorprofiles',
      body: {
        apiVersion: `${API_GROUP}/${V}`,
        kind: 'ArmorProfile',
        metadata: { name: AP, namespace: 'shop' },
        spec: { target: { kind: 'Deployment', name: 'web' }, profile: { name: AP, enforcer: 'BPF', mode: 'AlwaysAllow' } },
      },
    })) as ArmorProfile;
    await admin.replaceNamespacedCustomObjectStatus({
      group: API_GROUP,
      version: V,
      namespace: 'shop',
      plural: 'armorprofiles',
      name: AP,
      body: { ...ap, status: { conditions: [entry('node-b', 'True')], currentNumberLoaded: 1 } },
    });
    // The policy takes effect asynchronously: wait until a forged entry is refused (or give up and let the tests say so).
    await waitUntil('the admission policy in force', async () => {
      const cur = await getAp(agentA);
      // a probe entry of a node nobody tests: while the policy is not in force yet it is written, and stays
      const forged = { ...cur, status: { ...cur.status, conditions: [...(cur.status?.conditions ?? []).filter((c) => c.nodeName !== 'node-probe'), entry('node-probe', String(Date.now()))] } };
      return (await outcome(() => putStatus(agentA, forged))) !== 'ok';
    }).catch(() => undefined);
  }, 180_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  it("writes its own node's entry", async () => {
    const cur = await getAp(agentA);
    const conditions = [...(cur.status?.conditions ?? []), entry('node-a', 'True')].sort((a, b) => (a.nodeName ?? '').localeCompare(b.nodeName ?? ''));
    expect(await outcome(() => putStatus(agentA, { ...cur, status: { ...cur.status, conditions, currentNumberLoaded: 2 } }))).toBe('ok');
  });

  it("cannot change, remove or add another node's entry", async () => {
    const cur = await getAp(agentA);
    const mine = (cur.status?.conditions ?? []).filter((c) => c.nodeName === 'node-a');
    const attempts: [string, ArmorProfile['status']][] = [
      ['flip node-b to failed', { ...cur.status, conditions: [...mine, entry('node-b', 'False')] }],
      ['remove node-b', { ...cur.status, conditions: mine }],
      ['invent node-c', { ...cur.status, conditions: [...(cur.status?.conditions ?? []), entry('node-c', 'True')] }],
    ];
    for (const [what, status] of attempts) {
      const r = await outcome(() => putStatus(agentA, { ...cur, status }));
      expect(`${what}: ${r}`).toMatch(new RegExp(`^${what}: 4\\d\\d .*another node`));
    }
    const after = await getAp(agentA);
    expect(after.status?.conditions?.find((c) => c.nodeName === 'node-b')?.status).toBe('True');
  });

  it('creates behaviour records for its own node only', async () => {
    expect(await outcome(() => createModel(agentA, model('node-a')))).toBe('ok');
    // a second upload replaces the first (agent/modeling/upload.ts: 409, get, put)
    const mine = (await agentA.getNamespacedCustomObject({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofilemodels', name: `${AP}.node-a` })) as ArmorProfileModel;
    const replace = (m: ArmorProfileModel) =>
      agentA.replaceNamespacedCustomObject({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofilemodels', name: `${AP}.node-a`, body: m });
    expect(await outcome(() => replace({ ...mine, data: { dynamicResult: {} } } as ArmorProfileModel))).toBe('ok');
    const relabelled = (await agentA.getNamespacedCustomObject({ group: API_GROUP, version: V, namespace: 'shop', plural: 'armorprofilemodels', name: `${AP}.node-a` })) as ArmorProfileModel;
    relabelled.metadata.labels = { ...relabelled.metadata.labels, [LABEL_NODE]: 'node-b' };
    expect(await outcome(() => replace(relabelled))).toMatch(/^4\d\d .*its own node/);
    expect(await outcome(() => createModel(agentA, model('node-b')))).toMatch(/^4\d\d .*its own node/);
    const unlabelled = model('node-a');
    unlabelled.metadata.name = `${AP}.x`;
    delete unlabelled.metadata.labels?.[LABEL_NODE];
    expect(await outcome(() => createModel(agentA, unlabelled))).toMatch(/^4\d\d .*its own node/);
    // the merged model the controller builds (`<profile>`), planted with the agent's own label
    const merged = model('node-a');
    merged.metadata.name = AP;
    expect(await outcome(() => createModel(agentA, merged))).toMatch(/^4\d\d .*its own node/);
  });

  it('a varmor-agent token without a node (not bound to a Pod on a node) writes nothing', async () => {
    const kc = await serviceAccountKubeConfig(env, PRODUCT_NS, 'varmor-agent');
    const api = kc.makeApiClient(CustomObjectsApi);
    const cur = await getAp(api);
    expect(await outcome(() => putStatus(api, { ...cur, status: { ...cur.status, conditions: [...(cur.status?.conditions ?? []), entry('node-z', 'True')] } }))).toMatch(/^4\d\d .*node name/);
  });

  it('deploy creates the binding key once and keeps it on every later deploy (upgrades)', async () => {
    const read = async () => (await env.core.readNamespacedSecret({ name: BINDING_KEY_SECRET, namespace: PRODUCT_NS })).data?.key;
    expect(await ensureBindingKey(env.kc, PRODUCT_NS)).toBe('created');
    const first = await read();
    expect(Buffer.from(first ?? '', 'base64').toString()).toMatch(/^[0-9a-f]{64}$/);
    expect(await ensureBindingKey(env.kc, PRODUCT_NS)).toBe('kept');
    expect(await read()).toBe(first);
  });
});
