// The webhook against a real kube-apiserver (e2e/cluster's control plane, our CRDs): the informers
// feed the store, and the API server itself calls /mutate and /validate through registered webhook
// configurations, so the Pods it stores carry our patch after its own validation.
import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import { AdmissionregistrationV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { caBundle, ensureCertFiles } from '../../certs/index.js';
import { startEnv, unavailableReason, waitUntil, type Env } from '../../testing/apiserver/harness.js';
import { startWebhookServer, type RunningWebhook } from '../server/app.js';
import { profilerValidator } from '../validator.js';
import { parseWebhookArgs, startManager } from '../../cli/webhook.js';
import { podReview, postMutate } from '../../testing/webhook.js';
import { InformerSource } from './informer.js';
import { PolicyStore } from './store.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

const reason = unavailableReason();
if (reason) console.log(`webhook cluster tests skipped: ${reason}`);
const maybe = reason ? it.skip : it;

let env: Env;
let server: RunningWebhook;
let informers: InformerSource;
let store: PolicyStore;
let dir: string;

const GROUP = { group: 'crd.varmor.org', version: 'v1beta1' };
const policy = (name: string, enforcer: string) => ({
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'VarmorPolicy',
  metadata: { name, namespace: 'shop' },
  spec: { target: { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, policy: { enforcer, mode: 'RuntimeDefault' } },
});
const pod = (name: string): V1Pod => ({ metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });

beforeAll(async () => {
  if (reason) return;
  env = await startEnv(['shop', 'plain']);
  const shop = await env.core.readNamespace({ name: 'shop' });
  shop.metadata!.labels = { ...(shop.metadata!.labels ?? {}), 'sandbox.varmor.org/enable': 'true' };
  await env.core.replaceNamespace({ name: 'shop', body: shop });
  // No controller-manager here: the ServiceAccount admission plugin needs the "default" account.
  for (const namespace of ['shop', 'plain']) await env.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'default' } } });

  dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-cluster-'));
  const { files } = await ensureCertFiles(dir);
  const validator = profilerValidator();
  // As the cluster mode builds it (webhook/main.ts): the namespaceSelector decides opt-in.
  store = new PolicyStore({ validate: validator.validatePolicy, mutation: { requireOptIn: false } });
  informers = new InformerSource({ kubeConfig: env.kc, store });
  await informers.start();
  server = await startWebhookServer({ port: 0, metricsPort: 0, tls: { certDir: dir }, state: store, validator, ready: () => informers.synced() });

  const adm = env.kc.makeApiClient(AdmissionregistrationV1Api);
  const clientConfig = (p: string) => ({ url: `https://127.0.0.1:${server.port}${p}`, caBundle: caBundle(files.ca) });
  await adm.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'varmor-test' },
      webhooks: [
        {
          name: 'mutate-pods.varmor.org',
          admissionReviewVersions: ['v1'],
          clientConfig: clientConfig('/mutate'),
          rules: [
            { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
            { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/ephemeralcontainers'] },
          ],
          namespaceSelector: { matchLabels: { 'sandbox.varmor.org/enable': 'true' } },
          failurePolicy: 'Fail',
          reinvocationPolicy: 'IfNeeded',
          sideEffects: 'None',
          timeoutSeconds: 5,
        },
      ],
    },
  });
  await adm.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: 'varmor-test' },
      webhooks: [
        {
          name: 'validate-policies.varmor.org',
          admissionReviewVersions: ['v1'],
          clientConfig: clientConfig('/validate'),
          rules: [{ apiGroups: ['crd.varmor.org'], apiVersions: ['v1beta1'], operations: ['CREATE', 'UPDATE'], resources: ['varmorpolicies', 'varmorclusterpolicies'] }],
          failurePolicy: 'Fail',
          sideEffects: 'None',
          timeoutSeconds: 5,
        },
      ],
    },
  });
}, 180_000);

afterAll(async () => {
  if (reason) return;
  await informers?.stop();
  await server?.close();
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('webhook with a real API server', () => {
  maybe(
    'the informer loads a policy and the API server stores Pods with our patch',
    async () => {
      const custom = env.kc.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'shop', plural: 'varmorpolicies', body: policy('web', 'AppArmorBPFSeccomp') });
      await waitUntil('the informer delivers the policy', async () => store.policies().size === 1);
      expect(informers.synced()).toBe(true);

      // Retried: the webhook configuration takes a moment to reach the API server's admission chain.
      const created = await waitUntil('a mutated Pod', async () => {
        const p = await env.core.createNamespacedPod({ namespace: 'shop', body: { ...pod('web-1'), metadata: { generateName: 'web-', labels: { app: 'web' } } } });
        if (p.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']) return p;
        return false;
      });
      expect(created.metadata?.annotations).toMatchObject({
        'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-shop-web',
        'container.apparmor.security.beta.varmor.org/app': 'localhost/varmor-shop-web',
        'container.seccomp.security.beta.varmor.org/app': 'localhost/varmor-shop-web',
      });
      expect(created.spec?.containers[0].securityContext?.appArmorProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor-shop-web' });
      expect(created.spec?.containers[0].securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor/varmor-shop-web.json' });

      // kubectl debug --target=app: the API server sends the ephemeralcontainers UPDATE, and stores
      // the debug container with its target's profiles; a privileged one is refused.
      const name = created.metadata!.name!;
      const withDebug = structuredClone(created);
      withDebug.spec!.ephemeralContainers = [{ name: 'dbg', image: 'busybox', targetContainerName: 'app' }];
      const debugged = await env.core.replaceNamespacedPodEphemeralcontainers({ name, namespace: 'shop', body: withDebug });
      const dbg = debugged.spec?.ephemeralContainers?.find((e) => e.name === 'dbg');
      expect(dbg?.securityContext?.appArmorProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor-shop-web' });
      expect(dbg?.securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: 'varmor/varmor-shop-web.json' });
      const privileged = structuredClone(debugged);
      privileged.spec!.ephemeralContainers!.push({ name: 'root', image: 'busybox', targetContainerName: 'app', securityContext: { privileged: true } });
      let refused = '';
      try {
        await env.core.replaceNamespacedPodEphemeralcontainers({ name, namespace: 'shop', body: privileged });
      } catch (err) {
        refused = String((err as { body?: unknown }).body ?? (err as Error).message);
      }
      expect(refused).toContain('VARMOR_ERR_REVIEW_EPHEMERAL_UNCONFINED');

      // A namespace that did not opt in is not even sent to us (namespaceSelector).
      const plain = await env.core.createNamespacedPod({ namespace: 'plain', body: pod('web-2') });
      expect(plain.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']).toBeUndefined();
    },
    120_000,
  );

  maybe(
    'the API server refuses an invalid policy with our field paths, and a deleted policy stops applying',
    async () => {
      const custom = env.kc.makeApiClient(CustomObjectsApi);
      let message = '';
      try {
        await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'shop', plural: 'varmorpolicies', body: policy('bad', 'AppArmorSELinux') });
      } catch (err) {
        message = String((err as { body?: unknown }).body ?? (err as Error).message);
      }
      expect(message).toContain('VarmorPolicy shop/bad is invalid');
      expect(message).toContain('spec.policy.enforcer');

      await custom.deleteNamespacedCustomObject({ ...GROUP, namespace: 'shop', plural: 'varmorpolicies', name: 'web' });
      await waitUntil('the informer drops the policy', async () => store.policies().size === 0);
      const after = await env.core.createNamespacedPod({ namespace: 'shop', body: pod('web-3') });
      expect(after.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']).toBeUndefined();
    },
    120_000,
  );

  maybe(
    '`varmor webhook --kubeconfig` serves from the informers and runs the controller',
    async () => {
      const custom = env.kc.makeApiClient(CustomObjectsApi);
      await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'shop', plural: 'varmorpolicies', body: policy('api', 'BPF') });
      const cfg = parseWebhookArgs(['--kubeconfig', env.cp.kubeconfigPath, '--port', '0', '--metrics-port', '0', '--cert-dir', dir, '--log-level', 'silent']);
      if (cfg === 'help') throw new Error('unexpected');
      const started = await startManager(cfg);
      try {
        const ready = await fetch(`http://127.0.0.1:${started.server.metricsPort}/readyz`);
        expect(ready.status).toBe(200);
        // The controller (controller) compiles the policy into its ArmorProfile.
        const ap = await waitUntil('the ArmorProfile of the policy', async () => {
          try {
            return await custom.getNamespacedCustomObject({ ...GROUP, namespace: 'shop', plural: 'armorprofiles', name: 'varmor-shop-api' });
          } catch {
            return false;
          }
        }, 60_000);
        expect((ap as { spec: { profile: { name: string } } }).spec.profile.name).toBe('varmor-shop-api');
        // And the admission path sees the same policy through main's informers.
        const ca = await readFile(path.join(dir, 'ca.crt'), 'utf8');
        const answer = (await postMutate(started.server.port, ca, podReview({ metadata: { name: 'w', labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } }, { namespace: 'shop' }))).json;
        const ops = JSON.parse(Buffer.from(answer.response.patch ?? '', 'base64').toString()) as { value: unknown }[];
        expect(ops).toEqual([{ op: 'add', path: '/metadata/annotations', value: { 'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-shop-api' } }]);

        // Attack (issue 16, fail-open opt-in): a Pod of a namespace the webhook has not seen labelled
        // (created a moment ago; here "plain", unlabelled in any cache) reaches /mutate only because
        // the API server's namespaceSelector matched it. It must be sandboxed, not admitted unmutated.
        await custom.createNamespacedCustomObject({ ...GROUP, namespace: 'plain', plural: 'varmorpolicies', body: { ...policy('fresh', 'BPF'), metadata: { name: 'fresh', namespace: 'plain' } } });
        const fresh = await waitUntil(
          'a Pod of a namespace not known as opted in is patched',
          async () => {
            const a = (await postMutate(started.server.port, ca, podReview({ metadata: { name: 'f', labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } }, { namespace: 'plain' }))).json;
            return a.response.patch ? a : false;
          },
          20_000,
        );
        expect(Buffer.from(fresh.response.patch ?? '', 'base64').toString()).toContain('localhost/varmor-plain-fresh');
      } finally {
        await started.stop();
      }
    },
    120_000,
  );
});
