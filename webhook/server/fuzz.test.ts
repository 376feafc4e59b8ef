// Fuzz: 10,000+ generated malformed AdmissionReviews over keep-alive HTTPS connections. Every answer
// must be well formed (a coded 4xx, or an AdmissionReview for the request's uid whose patch, if any,
// applies cleanly to the object sent), and the server must still serve a real request afterwards.
// Deterministic: a seeded generator, so a failure names the case that reproduces it.
import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonpatch from 'fast-json-patch';
import { podReview, startTestWebhook, type TestWebhook } from '../../testing/webhook.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

const here = path.dirname(fileURLToPath(import.meta.url));
const CASES = 10_240;
const CONCURRENCY = 8;

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const deploymentReview = JSON.parse(readFileSync(path.join(here, 'testdata', 'reviews', 'deployment-pod.json'), 'utf8')) as Json;
const multiReview = podReview({
  metadata: { name: 'm', labels: { app: 'multi' }, annotations: { 'a/b~c': 'x' } },
  spec: {
    initContainers: [{ name: 'setup' }],
    containers: [{ name: 'app', securityContext: { privileged: true } }, { name: 'sidecar', securityContext: { seccompProfile: { type: 'Unconfined' } } }],
    ephemeralContainers: [{ name: 'debugger' }],
  },
}) as Json;
const webReview = podReview({ metadata: { name: 'w', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', securityContext: {} }] } }) as Json;
const policyReview: Json = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'p',
    kind: { group: 'crd.varmor.org', version: 'v1beta1', kind: 'VarmorPolicy' },
    namespace: 'team-a',
    name: 'p',
    operation: 'CREATE',
    object: {
      apiVersion: 'crd.varmor.org/v1beta1',
      kind: 'VarmorPolicy',
      metadata: { name: 'p', namespace: 'team-a' },
      spec: { target: { kind: 'Pod', selector: { matchLabels: { a: 'b' } } }, policy: { enforcer: 'BPF', mode: 'AlwaysAllow' } },
    },
  },
};

function randomValue(r: () => number, depth = 0): Json {
  const k = Math.floor(r() * (depth > 3 ? 7 : 10));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 1e308, -0, 3.5, 2 ** 53][Math.floor(r() * 6)];
    case 3:
      return ['', 'Pod', 'CREATE', 'unconfined', 'localhost/x', '~/', '__proto__', 'a'.repeat(300), '\u0000\ud800', 'admission.k8s.io/v1'][Math.floor(r() * 10)];
    case 4:
      return 'x'.repeat(Math.floor(r() * 64));
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return Array.from({ length: 1 + Math.floor(r() * 3) }, () => randomValue(r, depth + 1));
    case 8: {
      const o: { [k: string]: Json } = {};
      for (const key of ['name', 'type', 'kind', 'constructor', 'toString', 'uid', 'spec', 'containers']) if (r() < 0.3) o[key] = randomValue(r, depth + 1);
      return o;
    }
    default:
      return { name: r() < 0.5 ? 'c' : randomValue(r, depth + 1), securityContext: randomValue(r, depth + 1) };
  }
}

/** Every [parent, key] of the tree, to pick mutation points from. */
function slots(v: Json, out: [Json[] | { [k: string]: Json }, string | number][] = []) {
  if (Array.isArray(v))
    v.forEach((c, i) => {
      out.push([v, i]);
      slots(c, out);
    });
  else if (v && typeof v === 'object')
    for (const [k, c] of Object.entries(v)) {
      out.push([v, k]);
      slots(c, out);
    }
  return out;
}

function mutateTree(base: Json, r: () => number): Json {
  const doc = structuredClone(base);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = slots(doc);
    if (!all.length) break;
    const [parent, key] = all[Math.floor(r() * all.length)];
    const action = r();
    if (action < 0.3) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (action < 0.9) (parent as Record<string, Json>)[key as string] = randomValue(r);
    else if (!Array.isArray(parent)) parent[['__proto__x', 'extra', 'ownerReferences', 'annotations'][Math.floor(r() * 4)]] = randomValue(r);
  }
  return doc;
}

function generate(i: number): { route: string; body: string } {
  const r = rng(0x5eed + i);
  const pick = r();
  const route = pick < 0.8 ? '/mutate' : '/validate';
  const bases = route === '/mutate' ? [deploymentReview, multiReview, webReview] : [policyReview];
  const base = bases[Math.floor(r() * bases.length)];
  const kind = r();
  if (kind < 0.08) {
    // Broken JSON: truncated, or bytes that are not JSON at all.
    const text = JSON.stringify(base);
    return { route, body: r() < 0.5 ? text.slice(0, Math.floor(r() * text.length)) : `\u0000${text}}` };
  }
  if (kind < 0.12) return { route, body: JSON.stringify(randomValue(r)) };
  return { route, body: JSON.stringify(mutateTree(base, r)) };
}

interface Review {
  apiVersion?: unknown;
  kind?: unknown;
  response?: { uid?: unknown; allowed?: unknown; patch?: unknown; patchType?: unknown; status?: { message?: unknown } };
}

function checkAnswer(sent: string, status: number, text: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `status ${status}: body is not JSON: ${text.slice(0, 80)}`;
  }
  if (status >= 400 && status < 500) {
    const e = json as { code?: unknown; message?: unknown };
    return typeof e.code === 'string' && typeof e.message === 'string' ? null : `4xx without code/message: ${text.slice(0, 120)}`;
  }
  if (status !== 200) return `unexpected status ${status}: ${text.slice(0, 120)}`;
  const review = json as Review;
  const request = (JSON.parse(sent) as { request: { uid: string; object: Json } }).request;
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview') return 'not an AdmissionReview';
  if (!review.response || review.response.uid !== request.uid) return 'uid not echoed';
  if (typeof review.response.allowed !== 'boolean') return 'allowed is not a boolean';
  if (String(review.response.status?.message ?? '').startsWith('varmor: internal error')) return 'the handler failed inside';
  if (review.response.patch !== undefined) {
    if (review.response.patchType !== 'JSONPatch' || typeof review.response.patch !== 'string') return 'bad patch fields';
    const ops = JSON.parse(Buffer.from(review.response.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
    const problem = jsonpatch.validate(ops, structuredClone(request.object));
    if (problem) return `patch does not apply: ${problem.message}`;
  }
  return null;
}

let hook: TestWebhook;
beforeAll(async () => {
  hook = await startTestWebhook({ policiesDir: path.join(here, 'testdata', 'policies') });
  hook.agent.maxSockets = CONCURRENCY;
});
afterAll(async () => {
  await hook.close();
});

describe('fuzz', () => {
  it(`answers ${CASES} malformed reviews well formed, and keeps serving`, async () => {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let patched = 0;
    let next = 0;
    const worker = async () => {
      while (next < CASES) {
        const i = next++;
        const { route, body } = generate(i);
        const res = await hook.post(route, body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.body.includes('"patch"')) patched += 1;
        const problem = checkAnswer(body, res.status, res.body);
        if (problem && failures.length < 10) failures.push(`case ${i} ${route}: ${problem}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures).toEqual([]);
    // The generator reaches every kind of answer, and nothing inside the webhook failed.
    expect(statuses.get(200)).toBeGreaterThan(1000);
    expect(statuses.get(400)).toBeGreaterThan(1000);
    expect(patched).toBeGreaterThan(100);
    expect([...statuses.keys()].every((s) => [200, 400].includes(s))).toBe(true);
    const metrics = (await hook.getOps('/metrics')).body;
    expect(metrics).not.toMatch(/outcome="error"/);
    // Still up and still right.
    const real = await hook.post('/mutate', webReview);
    expect(real.status).toBe(200);
    expect((real.json as Review).response?.patch).toBeDefined();
  }, 120_000);
});
