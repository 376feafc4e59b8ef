// The real HTTPS server, real AdmissionReview JSON, the returned patch applied with fast-json-patch
// and the result checked against the Pod schema of Kubernetes' OpenAPI (kubernetes-models).
import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonpatch from 'fast-json-patch';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { podReview, startTestWebhook, type TestWebhook } from '../../testing/webhook.js';
import { startWebhookServer } from './app.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

const here = path.dirname(fileURLToPath(import.meta.url));
const policiesDir = path.join(here, 'testdata', 'policies');
const fixture = (name: string) => JSON.parse(readFileSync(path.join(here, 'testdata', 'reviews', name), 'utf8')) as Record<string, unknown>;

interface ReviewAnswer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; patchType?: string; patch?: string; status?: { code?: number; message: string; reason?: string }; warnings?: string[] };
}

let hook: TestWebhook;
beforeAll(async () => {
  hook = await startTestWebhook({ policiesDir });
});
afterAll(async () => {
  await hook.close();
});

type Obj = Record<string, unknown>;
async function mutate(review: object): Promise<{ answer: ReviewAnswer; ops: jsonpatch.Operation[]; patched: Obj }> {
  const res = await hook.post('/mutate', review);
  expect(res.status).toBe(200);
  const answer = res.json as ReviewAnswer;
  const object = (review as { request: { object: Obj } }).request.object;
  const ops = answer.response.patch ? (JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[]) : [];
  if (answer.response.patch) expect(answer.response.patchType).toBe('JSONPatch');
  // validateOperation=true: fast-json-patch refuses paths that do not exist, malformed ops...
  const patched = jsonpatch.applyPatch(structuredClone(object), ops, true, false).newDocument as Obj;
  return { answer, ops, patched };
}

/** Throws with the failing field paths when the object is not a valid core/v1 Pod. */
function checkPodSchema(pod: Obj): void {
  const { status: _status, ...rest } = pod;
  const meta = { ...(rest.metadata as Obj) };
  if (meta.creationTimestamp === null) delete meta.creationTimestamp; // what the API server sends before it sets one
  new PodModel({ ...rest, metadata: meta } as ConstructorParameters<typeof PodModel>[0]).validate();
}

const containers = (p: Obj, list = 'containers') => (p.spec as Obj)[list] as Obj[];
const annotations = (p: Obj) => (p.metadata as Obj).annotations as Record<string, string>;

describe('POST /mutate', () => {
  it('patches a one-container Pod and the result is a valid Pod', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'team-a', labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } };
    const { answer, patched } = await mutate(podReview(pod, { uid: 'u-1', name: 'web-1' }));
    expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-1', allowed: true } });
    checkPodSchema(patched);
    expect(containers(patched)[0].securityContext).toEqual({
      appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' },
      seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-web.json' },
    });
    expect(annotations(patched)['container.bpf.security.beta.varmor.org/nginx']).toBe('localhost/varmor-team-a-web');
  });

  it("patches a Deployment's Pod (real API server review) through its owner, keeping every other field", async () => {
    const review = fixture('deployment-pod.json');
    const { answer, patched, ops } = await mutate(review);
    expect(answer.response.uid).toBe('3f7c1a52-9d8e-4b6a-a1f0-5e2d7c9b8a41');
    checkPodSchema(patched);
    // The cluster policy "shop" is BPF only: annotations for both containers, no securityContext change.
    expect(ops.every((o) => o.path.startsWith('/metadata/annotations/'))).toBe(true);
    expect(annotations(patched)).toEqual({
      'kubectl.kubernetes.io/restartedAt': '2026-11-20T10:00:00Z',
      'container.bpf.security.beta.varmor.org/shop': 'localhost/varmor-cluster-varmor-shop',
      'container.bpf.security.beta.varmor.org/metrics-exporter': 'localhost/varmor-cluster-varmor-shop',
    });
    const original = (review.request as Obj).object as Obj;
    expect(patched.spec).toEqual(original.spec);
    // Reinvocation with the patched Pod: nothing more to do.
    const again = await mutate({ ...review, request: { ...(review.request as Obj), object: patched } });
    expect(again.answer.response.patch).toBeUndefined();
  });

  it('handles several containers, init and ephemeral containers, an existing securityContext, keys that need escaping', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'multi',
        labels: { app: 'multi' },
        annotations: { 'example.com/odd~key/x': 'v', 'container.apparmor.security.beta.varmor.org/sidecar': 'unconfined' },
      },
      spec: {
        initContainers: [{ name: 'setup', image: 'busybox', securityContext: { runAsUser: 1000 } }],
        containers: [
          { name: 'app', image: 'app:1' },
          { name: 'sidecar', image: 'side:1', securityContext: { readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } } },
        ],
        ephemeralContainers: [{ name: 'debugger', image: 'busybox', targetContainerName: 'app' }],
      },
    };
    const { patched, ops } = await mutate(podReview(pod, { name: 'multi' }));
    checkPodSchema(patched);
    const prof = { type: 'Localhost', localhostProfile: 'varmor-team-a-debug' };
    const sec = { type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-debug.json' };
    // "app" is not in the target's containers; "sidecar", "setup" and "debugger" are.
    expect(containers(patched)[0].securityContext).toBeUndefined();
    // "sidecar" opted out of AppArmor by annotation; its RuntimeDefault seccomp is replaced.
    expect(containers(patched)[1].securityContext).toEqual({ readOnlyRootFilesystem: true, seccompProfile: sec });
    expect(containers(patched, 'initContainers')[0].securityContext).toEqual({ runAsUser: 1000, appArmorProfile: prof, seccompProfile: sec });
    expect(containers(patched, 'ephemeralContainers')[0].securityContext).toEqual({ appArmorProfile: prof, seccompProfile: sec });
    expect(annotations(patched)['example.com/odd~key/x']).toBe('v');
    expect(annotations(patched)['container.apparmor.security.beta.varmor.org/sidecar']).toBe('unconfined');
    expect(ops.filter((o) => o.path.startsWith('/metadata/annotations/')).every((o) => o.path.includes('~1'))).toBe(true);
    expect(annotations(patched)['container.seccomp.security.beta.varmor.org/setup']).toBe('localhost/varmor-team-a-debug');
  });

  it('answers other kinds and operations with allowed and no patch', async () => {
    const update = await hook.post('/mutate', podReview({ spec: { containers: [{ name: 'a' }] }, metadata: { labels: { app: 'web' } } }, { operation: 'UPDATE' }));
    expect(update.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true } });
    const cm = podReview({ data: {} }) as { request: Obj };
    cm.request.kind = { group: '', version: 'v1', kind: 'ConfigMap' };
    expect((await hook.post('/mutate', cm)).json).toMatchObject({ response: { allowed: true } });
    expect(((await hook.post('/mutate', cm)).json as ReviewAnswer).response.patch).toBeUndefined();
  });

  it('refuses what is not an answerable AdmissionReview with 4xx and a coded message', async () => {
    const cases: [unknown, number, string][] = [
      ['{not json', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
      ['[]', 400, 'VARMOR_ERR_REVIEW_NOT_OBJECT'],
      [{ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }, 400, 'VARMOR_ERR_REVIEW_API_VERSION'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'Pod' }, 400, 'VARMOR_ERR_REVIEW_KIND'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 400, 'VARMOR_ERR_REVIEW_NO_REQUEST'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' }, operation: 'CREATE' } }, 400, 'VARMOR_ERR_REVIEW_NO_UID'],
      ['{"__proto__": {"x": 1}}', 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ];
    for (const [body, status, code] of cases) {
      const res = await hook.post('/mutate', body);
      expect({ status: res.status, code: (res.json as { code?: string }).code }).toEqual({ status, code });
      expect(typeof (res.json as { message?: string }).message).toBe('string');
    }
    // fastify reads text/plain as a string: not an object. Other types have no parser.
    const text = await hook.post('/mutate', '{}', { 'content-type': 'text/plain' });
    expect({ status: text.status, code: (text.json as { code: string }).code }).toEqual({ status: 400, code: 'VARMOR_ERR_REVIEW_NOT_OBJECT' });
    const xml = await hook.post('/mutate', '<x/>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
  });

  it('refuses a body over the limit with 413 and keeps serving on the same connection pool', async () => {
    const big = podReview({ metadata: { annotations: { x: 'a'.repeat(4 * 1024 * 1024) } }, spec: { containers: [{ name: 'a' }] } });
    const res = await hook.post('/mutate', big);
    expect(res.status).toBe(413);
    expect((res.json as { code: string }).code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
    const ok = await hook.post('/mutate', podReview({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a' }] } }));
    expect(ok.status).toBe(200);
  });

  it('denies (fails closed), and says why, when the object is missing or not a usable Pod', async () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /request\.object: missing/],
      [{ metadata: { labels: { app: 'web' } }, spec: { containers: [] } }, /request\.object\.spec\.containers: a Pod needs at least one container/],
      [{ metadata: { labels: { app: 'web' } }, spec: {} }, /a Pod needs at least one container/],
      [{ spec: { containers: [{ image: 'x' }] } }, /request\.object\.spec\.containers\[0\]\.name: must be a non-empty string/],
      [{ metadata: { annotations: { a: 1 } }, spec: { containers: [{ name: 'a' }] } }, /metadata\.annotations\["a"\]: must be a string/],
      [{ spec: { containers: [{ name: 'a', securityContext: { seccompProfile: 'Unconfined' } }] } }, /securityContext\.seccompProfile: must be an object/],
      ['a string', /request\.object: must be a Pod object/],
    ];
    for (const [object, message] of cases) {
      const review = podReview({}, { uid: 'bad' }) as { request: Obj };
      if (object === undefined) delete review.request.object;
      else review.request.object = object;
      const res = await hook.post('/mutate', review);
      expect(res.status).toBe(200);
      const answer = res.json as ReviewAnswer;
      expect(answer.response).toMatchObject({ uid: 'bad', allowed: false, status: { code: 400 } });
      expect(answer.response.patch).toBeUndefined();
      expect(answer.response.status?.message).toMatch(message);
    }
  });

  it('fails closed on an internal error: the Pod is not admitted (attack: a crash must not admit it unconfined)', async () => {
    const broken = await startWebhookServer({
      port: 0,
      metricsPort: null,
      tls: { certDir: hook.certDir },
      state: {
        policies: () => {
          throw new TypeError('boom');
        },
        namespaceLabels: () => ({ 'sandbox.varmor.org/enable': 'true' }),
        options: {},
      },
    });
    try {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'w', labels: { app: 'web' } }, spec: { containers: [{ name: 'app' }] } };
      const body = JSON.stringify(podReview(pod, { uid: 'crash' }));
      const answer = await new Promise<ReviewAnswer>((resolve, reject) => {
        const req = https.request(
          { host: '127.0.0.1', port: broken.port, method: 'POST', path: '/mutate', ca: hook.ca, servername: 'localhost', agent: false, headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString('utf8')));
            res.on('end', () => resolve(JSON.parse(text) as ReviewAnswer));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(answer.response).toMatchObject({ uid: 'crash', allowed: false, status: { code: 500, message: 'varmor: internal error (VARMOR_ERR_SERVER_INTERNAL), pod not admitted' } });
    } finally {
      await broken.close();
    }
  });

  it('speaks TLS 1.2 or newer only, with the generated certificate for localhost', async () => {
    const tls11 = new Promise<string>((resolve) => {
      const req = https.request(
        { host: '127.0.0.1', port: hook.server.port, method: 'POST', path: '/mutate', ca: hook.ca, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1', agent: false },
        () => resolve('connected'),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end('{}');
    });
    expect(await tls11).not.toBe('connected');
    const untrusted = new Promise<string>((resolve) => {
      const req = https.request({ host: '127.0.0.1', port: hook.server.port, method: 'POST', path: '/mutate', servername: 'localhost', agent: false }, () => resolve('connected'));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end('{}');
    });
    expect(await untrusted).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/);
  });
});

describe('POST /validate', () => {
  const review = (object: unknown, operation = 'CREATE', oldObject: unknown = null, kind = 'VarmorPolicy') => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'v-1',
      kind: { group: 'crd.varmor.org', version: 'v1beta1', kind },
      resource: { group: 'crd.varmor.org', version: 'v1beta1', resource: 'varmorpolicies' },
      name: 'p',
      namespace: 'team-a',
      operation,
      object,
      oldObject,
    },
  });
  const policy = (spec: object) => ({ apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', metadata: { name: 'p', namespace: 'team-a' }, spec });
  const good = policy({ target: { kind: 'Deployment', name: 'shop' }, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } });

  it('allows a valid policy', async () => {
    const res = await hook.post('/validate', review(good));
    expect(res.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'v-1', allowed: true } });
  });

  it('rejects what the profiler rejects, naming the fields', async () => {
    const bad = policy({ target: { kind: 'CronJob', name: 'x' }, policy: { enforcer: 'SELinux', mode: 'AlwaysAllow' } });
    const res = await hook.post('/validate', review(bad));
    const answer = res.json as ReviewAnswer;
    expect(answer.response).toMatchObject({ uid: 'v-1', allowed: false, status: { code: 422, reason: 'Invalid' } });
    expect(answer.response.status?.message).toMatch(/^VarmorPolicy team-a\/p is invalid: /);
    expect(answer.response.status?.message).toContain('spec.target.kind');
    expect(answer.response.status?.message).toContain('spec.policy.enforcer');
  });

  it("applies the profiler's update rules on UPDATE", async () => {
    const moved = policy({ target: { kind: 'Deployment', name: 'other' }, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } });
    const res = await hook.post('/validate', review(moved, 'UPDATE', good));
    const answer = res.json as ReviewAnswer;
    expect(answer.response.allowed).toBe(false);
    expect(answer.response.status?.message).toContain('spec.target');
    const same = await hook.post('/validate', review(good, 'UPDATE', good));
    expect((same.json as ReviewAnswer).response.allowed).toBe(true);
  });

  it('ignores other kinds and DELETE, and refuses malformed reviews with 400', async () => {
    expect(((await hook.post('/validate', review(good, 'DELETE'))).json as ReviewAnswer).response.allowed).toBe(true);
    const other = review(good) as { request: Obj };
    other.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
    expect(((await hook.post('/validate', other)).json as ReviewAnswer).response.allowed).toBe(true);
    const noObject = review(undefined);
    expect(((await hook.post('/validate', noObject)).json as ReviewAnswer).response).toMatchObject({ allowed: false, status: { code: 400 } });
    expect((await hook.post('/validate', { kind: 'AdmissionReview' })).status).toBe(400);
  });
});

describe('operations port', () => {
  it('serves /healthz, /readyz and Prometheus metrics that counted the requests above', async () => {
    expect(await hook.getOps('/healthz')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await hook.getOps('/readyz')).status).toBe(200);
    const metrics = (await hook.getOps('/metrics')).body;
    expect(metrics).toMatch(/varmor_webhook_requests_total\{handler="mutate",outcome="patched"\} [1-9]/);
    expect(metrics).toMatch(/varmor_webhook_requests_total\{handler="validate",outcome="denied"\} [1-9]/);
    expect(metrics).toMatch(/varmor_webhook_request_duration_seconds_bucket\{le="0.005",handler="mutate"\} [1-9]/);
    expect(metrics).toMatch(/varmor_webhook_pods_patched_total [1-9]/);
    expect(metrics).toMatch(/varmor_webhook_errors_total\{handler="mutate",code="VARMOR_ERR_REVIEW_NO_UID"\} 1/);
    expect(metrics).toMatch(/varmor_webhook_enforcer_skipped_total\{enforcer="AppArmor"\} [1-9]/);
    expect(metrics).toMatch(/varmor_webhook_policies\{kind="VarmorPolicy"\} 2/);
  });
  it('counts every answer exactly once across scrapes, refusals included, and times each one', async () => {
    const read = async () => {
      const body = (await hook.getOps('/metrics')).body;
      const num = (re: RegExp) => Number(body.match(re)?.[1] ?? 0);
      return {
        patched: num(/varmor_webhook_requests_total\{handler="mutate",outcome="patched"\} (\d+)/),
        badRequest: num(/varmor_webhook_requests_total\{handler="mutate",outcome="bad-request"\} (\d+)/),
        timed: num(/varmor_webhook_request_duration_seconds_count\{handler="mutate"\} (\d+)/),
      };
    };
    const before = await read();
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-9', namespace: 'team-a', labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } };
    for (let i = 0; i < 3; i++) expect((await hook.post('/mutate', podReview(pod, { uid: `count-${i}` }))).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await hook.post('/mutate', '{"not json', { 'content-type': 'application/json' })).status).toBe(400);
    const after = await read();
    expect({ patched: after.patched - before.patched, badRequest: after.badRequest - before.badRequest, timed: after.timed - before.timed }).toEqual({ patched: 3, badRequest: 2, timed: 5 });
    expect(await read()).toEqual(after);
  });
});
