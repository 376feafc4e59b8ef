// Egress to Services and Pods (issue 18) against a real kube-apiserver, with the controller running
// as varmor-manager under manifests/rbac.yaml: toServices, toPods and block-access-to-kube-apiserver
// resolve to the addresses the cluster holds, the ArmorProfile follows as endpoints come and go, and
// a restarted manager never writes a profile from a cache that has not listed yet.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DiscoveryV1Api, type V1EndpointSlice } from '@kubernetes/client-node';
import type { AnyPolicy, ArmorProfile } from '../../profiler/api/types.js';
import { decodeTables } from '../../profiler/bpf/encode.js';
import { startController, type ControllerHandle } from '../../controller/index.js';
import {
  PRODUCT_NS,
  ROOT,
  applyManifest,
  getAp,
  memoryLogger,
  policy,
  serviceAccountKubeConfig,
  startEnv,
  unavailableReason,
  waitUntil,
  type Env,
} from '../../testing/apiserver/harness.js';

const RBAC = join(ROOT, 'manifests', 'rbac.yaml');
const reason = unavailableReason() ?? (existsSync(RBAC) ? undefined : `no ${RBAC}`);
if (reason) console.warn(`controller egress e2e skipped: ${reason}`);
const suite = reason ? describe.skip : describe;
jest.setTimeout(90_000);

/** The addresses in an ArmorProfile's BPF tables, with the ports each is denied on ('all' for every port). */
function deniedAddresses(ap: ArmorProfile | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const content = ap?.spec.profile.bpfContent;
  if (!content) return out;
  const t = decodeTables(Buffer.from(content, 'base64'));
  for (const n of t.net) {
    if (n.deny) out.set(n.addr, 'all');
    else if (n.portBits) {
      const ports = t.netPorts.filter((p) => (n.portBits >> BigInt(p.index)) & 1n).flatMap((p) => p.ranges.map((r) => `${r.lo}`));
      out.set(n.addr, ports.join(','));
    }
  }
  return out;
}

function slice(name: string, service: string, addresses: string[], port: number): V1EndpointSlice {
  return {
    metadata: { name, namespace: 'db', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a] })),
    ports: [{ name: 'pg', port, protocol: 'TCP' }],
  };
}

suite(`egress to Services and Pods${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let env: Env;
  let ctl: ControllerHandle | undefined;
  let discovery: DiscoveryV1Api;
  let pgClusterIP = '';
  const log = memoryLogger();

  const start = async (identity: string): Promise<ControllerHandle> =>
    startController({
      kubeConfig: await serviceAccountKubeConfig(env, PRODUCT_NS, 'varmor-manager'),
      namespace: PRODUCT_NS,
      identity,
      leaderElection: false,
      log,
      resyncSeconds: 5,
    });

  beforeAll(async () => {
    env = await startEnv(['shop', 'db']);
    await applyManifest(env, RBAC);
    discovery = env.kc.makeApiClient(DiscoveryV1Api);
    pgClusterIP = (
      await env.core.createNamespacedService({ namespace: 'db', body: { metadata: { name: 'pg', labels: { tier: 'data' } }, spec: { ports: [{ port: 5432 }] } } })
    ).spec!.clusterIP!;
    await discovery.createNamespacedEndpointSlice({ namespace: 'db', body: slice('pg-a', 'pg', ['10.244.0.7'], 5432) });
    // a Pod the toPods rule selects, with the address a kubelet would have reported
    // (no controller-manager runs here to create the namespace's default ServiceAccount)
    await env.core.createNamespacedServiceAccount({ namespace: 'db', body: { metadata: { name: 'default' } } });
    await env.core.createNamespacedPod({
      namespace: 'db',
      body: { metadata: { name: 'pg-0', labels: { app: 'pg' } }, spec: { automountServiceAccountToken: false, containers: [{ name: 'pg', image: 'pg' }] } },
    });
    // (a status write replaces the metadata too: write back the Pod as read)
    const pg0 = await env.core.readNamespacedPod({ namespace: 'db', name: 'pg-0' });
    await env.core.replaceNamespacedPodStatus({
      namespace: 'db',
      name: 'pg-0',
      body: { ...pg0, status: { phase: 'Running', podIP: '10.244.0.7', podIPs: [{ ip: '10.244.0.7' }] } },
    });
    ctl = await start('egress-0');
  }, 120_000);

  afterAll(async () => {
    await ctl?.stop();
    await env?.stop();
  }, 60_000);

  const egressPolicy = policy('egress', {
    target: { kind: 'Pod', selector: { matchLabels: { app: 'client' } } },
    policy: {
      enforcer: 'BPF',
      mode: 'EnhanceProtect',
      enhanceProtect: {
        privileged: true,
        attackProtectionRules: [{ rules: ['block-access-to-kube-apiserver'] }],
        bpfRawRules: {
          network: {
            egress: {
              toServices: [{ namespace: 'db', serviceSelector: { matchLabels: { tier: 'data' } }, qualifiers: ['deny'] }],
              toPods: [{ namespace: 'db', podSelector: { matchLabels: { app: 'pg' } }, ports: [{ port: 8080 }], qualifiers: ['deny'] }],
            },
          },
        },
      },
    },
  });

  it('compiles the API server Service, a selected Service and its endpoints, and a selected Pod into the ArmorProfile', async () => {
    const k8sService = await env.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' });
    // The test control plane (on loopback) runs no endpoint reconciler nor kube-controller-manager:
    // the slice they would write for the kubernetes Service is written here, with a node-like address
    // (an EndpointSlice refuses loopback ones) and the port clients reach the API server on.
    const apiserverEndpoint = '192.168.49.2';
    const apiserverPort = Number(new URL(env.kc.getCurrentCluster()!.server).port);
    await discovery.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [apiserverEndpoint] }],
        ports: [{ name: 'https', port: apiserverPort, protocol: 'TCP' }],
      },
    });

    await env.client.create<AnyPolicy>('VarmorPolicy', egressPolicy);
    const ap = await waitUntil('the ArmorProfile with the API server', async () => {
      const a = await getAp(env, 'shop', 'varmor-shop-egress');
      return deniedAddresses(a).has(k8sService.spec!.clusterIP!) && a;
    });
    const denied = deniedAddresses(ap);
    expect(denied.get(k8sService.spec!.clusterIP!)).toBe('all');
    expect(denied.get(apiserverEndpoint!)).toBe(String(apiserverPort));
    expect(denied.get(pgClusterIP)).toBe('all');
    // the Service's endpoint (port 5432) and the Pod (port 8080) are the same address: both port sets
    expect(denied.get('10.244.0.7')?.split(',').sort()).toEqual(['5432', '8080']);
  });

  it('follows a new endpoint, a new Service and a Pod going away', async () => {
    const t0 = Date.now();
    await discovery.createNamespacedEndpointSlice({ namespace: 'db', body: slice('pg-b', 'pg', ['10.244.0.8'], 5432) });
    await waitUntil('the new endpoint', async () => deniedAddresses(await getAp(env, 'shop', 'varmor-shop-egress')).has('10.244.0.8'), 30_000, 20);
    const endpointMs = Date.now() - t0;

    const replica = await env.core.createNamespacedService({ namespace: 'db', body: { metadata: { name: 'replica', labels: { tier: 'data' } }, spec: { ports: [{ port: 5432 }] } } });
    await waitUntil('the new Service', async () => deniedAddresses(await getAp(env, 'shop', 'varmor-shop-egress')).has(replica.spec!.clusterIP!), 30_000, 20);

    await env.core.deleteNamespacedPod({ namespace: 'db', name: 'pg-0', gracePeriodSeconds: 0 });
    await waitUntil('the Pod port gone', async () => deniedAddresses(await getAp(env, 'shop', 'varmor-shop-egress')).get('10.244.0.7') === '5432', 30_000, 20);
    console.log(`egress: a new endpoint reached the ArmorProfile in ${endpointMs} ms`);
  });

  it('a restarted manager leaves the ArmorProfile alone until its caches have listed', async () => {
    const before = await getAp(env, 'shop', 'varmor-shop-egress');
    await ctl?.stop();
    ctl = await start('egress-1');
    // the new controller reconciles at once (no leader election) and again at each resync
    await new Promise((r) => setTimeout(r, 6_000));
    const after = await getAp(env, 'shop', 'varmor-shop-egress');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(deniedAddresses(after)).toEqual(deniedAddresses(before));
  });
});
