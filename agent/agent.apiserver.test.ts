// The assembled agent against a real kube-apiserver (etcd + kube-apiserver from the local cluster
// harness): ArmorProfiles arrive through the informer and land as Seccomp files, this node's
// status entry is written on the status subresource beside another node's (untouched), a profile
// that fails to decode is reported False while the previous file stays in force, the pod watch
// carries only this node's pods, deletion removes the file, BehaviorModeling uploads a per-node
// ArmorProfileModel, readiness/metrics answer over HTTP, two namespaces claiming one profile name
// (the older holds it; deleting the younger leaves it), and a Warning Event on a Pod. Containers come from a real
// containerd in agent/node.containerd.test.ts; here the runtime is an empty list (named as such).

import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { Agent, kubeClient } from './agent.js';
import { PodEvents } from './kube/pod-events.js';
import { createLogger } from '../cli/log.js';
import { armorProfile, DENY_MKDIR } from '../testing/agent/profiles.js';
import type { ArmorProfile, ArmorProfileModel } from '../profiler/api/types.js';
import type { ContainerSource } from './runtime/source.js';

type ControlPlane = { kubeconfigPath: string; stop(): Promise<void> };

const apiserverBin = path.resolve('e2e/cluster/.work/bin/kube-apiserver');
const missing = !fs.existsSync(apiserverBin)
  ? `${apiserverBin} is missing (e2e/cluster/build.sh builds it)`
  : !fs.existsSync('/usr/bin/etcd')
    ? 'etcd is missing (apt-get install etcd-server)'
    : null;
const d = missing ? describe.skip : describe;
if (missing) console.warn(`agent API server tests skipped: ${missing}`);

const GROUP = 'crd.varmor.org';

function crd(plural: string, kind: string): V1CustomResourceDefinition {
  // Minimal CRDs (open schema, status subresource): the agent's reads and writes are under test,
  // (client-node's serializer names x-kubernetes-preserve-unknown-fields x_kubernetes_preserve_unknown_fields)
  // not the schema, which manifests/crds owns.
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                ...Object.fromEntries(['spec', 'status', 'data'].map((k) => [k, { type: 'object', x_kubernetes_preserve_unknown_fields: true }])),
                storageType: { type: 'string' },
              },
            },
          },
        },
      ],
    },
  };
}

/** No containers: a stand-in runtime, since this suite is about the API server side. */
const emptyRuntime: ContainerSource = { list: async () => [] };

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

d('agent with a real API server', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;
  let co: CustomObjectsApi;
  let agent: Agent;
  let dir: string;
  const coords = { group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'armorprofiles' };

  beforeAll(async () => {
    const { startControlPlane } = (await import('../testing/apiserver/control-plane.js')) as { startControlPlane: () => Promise<ControlPlane> };
    cp = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const c of [crd('armorprofiles', 'ArmorProfile'), crd('armorprofilemodels', 'ArmorProfileModel')]) await ext.createCustomResourceDefinition({ body: c });
    co = kc.makeApiClient(CustomObjectsApi);
    await until('CRDs served', async () => (await co.listNamespacedCustomObject({ ...coords }), true));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-agent-api-'));
    // Left by a profile deleted while no agent ran: removed after the first sync.
    fs.mkdirSync(path.join(dir, 'seccomp', 'varmor'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'seccomp', 'varmor', 'varmor-default-gone.json'), DENY_MKDIR);
    agent = await Agent.start({
      nodeName: 'node-a',
      kube: kubeClient(cp.kubeconfigPath),
      seccompRoot: path.join(dir, 'seccomp'),
      containerdSocket: path.join(dir, 'no-containerd.sock'),
      hookSocket: path.join(dir, 'hook.sock'),
      metricsPort: 0,
      bpfMode: 'off',
      appArmorDir: path.join(dir, 'apparmor.d'),
      appArmorSecurityfs: path.join(dir, 'no-securityfs'),
      runtime: emptyRuntime,
      log: createLogger({ component: 'agent', silent: true, defaultMeta: { nodeName: 'node-a' } }),
    });
  }, 150_000);

  afterAll(async () => {
    await agent?.stop();
    await cp?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const seccompFile = (name: string): string => path.join(dir, 'seccomp', 'varmor', `${name}.json`);
  const getAp = async (name: string): Promise<ArmorProfile> => (await co.getNamespacedCustomObject({ ...coords, name })) as ArmorProfile;
  /** Read, edit, replace; again on 409 (the agent writes status meanwhile). */
  const editAp = async (name: string, edit: (ap: ArmorProfile) => void): Promise<void> => {
    for (let i = 0; ; i++) {
      const cur = await getAp(name);
      edit(cur);
      try {
        await co.replaceNamespacedCustomObject({ ...coords, name, body: cur });
        return;
      } catch (e) {
        if ((e as { code?: number }).code !== 409 || i > 10) throw e;
      }
    }
  };

  it('is ready and serves metrics, after removing the Seccomp file of a profile that is gone', async () => {
    expect(agent.isReady()).toBe(true);
    expect(fs.existsSync(seccompFile('varmor-default-gone'))).toBe(false);
    const ready = await fetch(`http://127.0.0.1:${agent.metricsPort}/health/readiness`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/varmor_agent_bound_containers\{node_name="node-a"\} 0/);
  }, 60_000);

  it('writes the Seccomp file of a new ArmorProfile and its own status entry, leaving other nodes entries alone', async () => {
    const ap = armorProfile({ profileName: 'varmor-default-web', enforcers: ['AppArmor', 'Seccomp'], seccomp: DENY_MKDIR, appArmor: 'profile varmor-default-web {}\n' });
    const created = (await co.createNamespacedCustomObject({ ...coords, body: { ...ap, metadata: { name: ap.metadata.name, namespace: 'default' } } })) as ArmorProfile;
    // Another node's entry, written first: the agent must keep it.
    const other = { nodeName: 'node-b', type: 'Ready', status: 'False', reason: 'LoadFailed', message: 'AppArmor: parser error', lastTransitionTime: '2026-01-01T00:00:00Z' };
    for (let i = 0, cur = created; ; i++) {
      try {
        const conditions = [...(cur.status?.conditions ?? []).filter((c) => c.nodeName !== 'node-b'), other];
        await co.replaceNamespacedCustomObjectStatus({ ...coords, name: ap.metadata.name!, body: { ...cur, status: { ...cur.status, conditions } } });
        break;
      } catch (e) {
        if ((e as { code?: number }).code !== 409 || i > 10) throw e;
        cur = await getAp(ap.metadata.name!); // the agent wrote its own entry in between
      }
    }
    await until('seccomp file', async () => fs.existsSync(seccompFile('varmor-default-web')));
    expect(fs.readFileSync(seccompFile('varmor-default-web'), 'utf8')).toBe(DENY_MKDIR);
    const st = await until('status entry', async () => {
      const got = await getAp('varmor-default-web');
      const mine = got.status?.conditions?.find((c) => c.nodeName === 'node-a');
      return mine && got.status?.conditions?.some((c) => c.nodeName === 'node-b') ? got.status : undefined;
    });
    expect(st.conditions!.find((c) => c.nodeName === 'node-a')).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'EnforcerUnavailable',
      message: expect.stringMatching(/^AppArmor: kernel has no AppArmor .*; Seccomp loaded$/),
    });
    expect(st.conditions!.find((c) => c.nodeName === 'node-b')).toEqual(other);
    expect(st.currentNumberLoaded).toBe(1);
  }, 60_000);

  it('reports a profile that cannot be decoded as False and keeps the previous file in force', async () => {
    await editAp('varmor-default-web', (ap) => (ap.spec.profile.seccompContent = '{"syscalls": "not a profile"'));
    const mine = await until('False entry', async () => {
      const c = (await getAp('varmor-default-web')).status?.conditions?.find((x) => x.nodeName === 'node-a');
      return c?.status === 'False' ? c : undefined;
    });
    expect(mine).toMatchObject({ reason: 'InvalidProfile', message: expect.stringContaining('spec.profile.seccompContent: is not JSON') });
    expect(fs.readFileSync(seccompFile('varmor-default-web'), 'utf8')).toBe(DENY_MKDIR);
  }, 60_000);

  it('watches only the pods bound to this node', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const pod = (name: string, nodeName: string) => ({
      metadata: { name, namespace: 'default', annotations: { 'container.bpf.security.beta.varmor.org/c': 'localhost/varmor-default-web' } },
      spec: { nodeName, containers: [{ name: 'c', image: 'localhost/varmor/busybox:e2e' }] },
    });
    // No controller-manager here to create the namespace's default ServiceAccount.
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'default' } } }).catch(() => undefined);
    await core.createNamespacedPod({ namespace: 'default', body: pod('here', 'node-a') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('elsewhere', 'node-b') });
    const seen = await until('pod on this node', async () => {
      const names = agent.podsOnNode();
      return names.includes('default/here') ? names : undefined;
    });
    expect(seen).toEqual(['default/here']);
  }, 60_000);

  it('uploads a per-node ArmorProfileModel when modelling ends, and removes the file when the profile goes', async () => {
    const ap = armorProfile({ profileName: 'varmor-default-model', enforcers: ['Seccomp'], mode: 'BehaviorModeling', seccomp: DENY_MKDIR, behaviorModeling: { enable: true, duration: 1 } });
    await co.createNamespacedCustomObject({ ...coords, body: { ...ap, metadata: { name: ap.metadata.name, namespace: 'default' } } });
    await until('modelled profile placed', async () => fs.existsSync(seccompFile('varmor-default-model')));
    await editAp('varmor-default-model', (ap) => (ap.spec.behaviorModeling = { enable: false, duration: 1 }));
    const model = await until('per-node model', async () =>
      (await co.getNamespacedCustomObject({ ...coords, plural: 'armorprofilemodels', name: 'varmor-default-model.node-a' })) as ArmorProfileModel,
    );
    expect(model.metadata.labels).toEqual({ 'varmor.org/model-of': 'varmor-default-model', 'varmor.org/node': 'node-a' });
    expect(model.data.dynamicResult?.bpf).toEqual({ files: [], executions: [], capabilities: [], network: [], ptrace: [], mounts: [] });

    await co.deleteNamespacedCustomObject({ ...coords, name: 'varmor-default-model' });
    await until('file removed', async () => !fs.existsSync(seccompFile('varmor-default-model')));
  }, 60_000);

  it('one profile name in two namespaces: the older ArmorProfile holds it, the younger is False, deleting the younger leaves the file', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const SHARED = 'varmor-team-prod-web'; // ns team, policy prod-web; ns team-prod, policy web
    const ALLOW_ALL = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW' });
    const create = async (namespace: string, seccomp: string) => {
      await core.createNamespace({ body: { metadata: { name: namespace } } }).catch(() => undefined);
      const ap = armorProfile({ profileName: SHARED, namespace, enforcers: ['Seccomp'], seccomp });
      await co.createNamespacedCustomObject({ ...coords, namespace, body: { ...ap, metadata: { name: SHARED, namespace } } });
    };
    await create('team', DENY_MKDIR);
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has a resolution of one second
    await create('team-prod', ALLOW_ALL);
    const entry = (namespace: string) => async () =>
      ((await co.getNamespacedCustomObject({ ...coords, namespace, name: SHARED })) as ArmorProfile).status?.conditions?.find((c) => c.nodeName === 'node-a');
    expect(await until('younger refused', async () => ((await entry('team-prod')())?.status === 'False' ? entry('team-prod')() : undefined))).toMatchObject({
      reason: 'ProfileNameConflict',
      message: expect.stringContaining(`team/${SHARED}`),
    });
    expect(await until('older holds', entry('team'))).toMatchObject({ status: 'True' });
    expect(fs.readFileSync(seccompFile(SHARED), 'utf8')).toBe(DENY_MKDIR);
    await co.deleteNamespacedCustomObject({ ...coords, namespace: 'team-prod', name: SHARED });
    await agent.settle();
    await new Promise((r) => setTimeout(r, 500));
    await agent.settle();
    expect(fs.readFileSync(seccompFile(SHARED), 'utf8')).toBe(DENY_MKDIR);
    expect(agent.node.profileNames()).toContain(SHARED);
  }, 60_000);

  it('writes a Warning Event on a Pod (a refused binding)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const events = new PodEvents(kubeClient(cp.kubeconfigPath), 'node-a', createLogger({ component: 'agent', silent: true }));
    events.warn({ namespace: 'default', name: 'here' }, 'BindingRefused', 'BindingRefused: container default/here/c not bound to x: test');
    const ev = await until('event', async () => (await core.listNamespacedEvent({ namespace: 'default' })).items.find((e) => e.reason === 'BindingRefused'));
    expect(ev).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Pod', name: 'here' }, source: { component: 'varmor-agent', host: 'node-a' } });
  }, 60_000);
});
