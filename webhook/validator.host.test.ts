// The collision check through the real HTTPS server as startWebhook (main.ts) wires it: a policy
// folder holds ns team policy prod-web; an AdmissionReview creating ns team-prod policy web (the
// same profile name varmor-team-prod-web) is denied over TLS, naming the policy it collides with.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import https from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../profiler/index.js';
import { startWebhook, type StartedWebhook } from './main.js';

const policy = (namespace: string, name: string) => ({
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'VarmorPolicy',
  metadata: { name, namespace },
  spec: { target: { kind: 'Deployment', name: 'web' }, policy: { enforcer: 'BPF', mode: 'RuntimeDefault' } },
});

function post(url: string, ca: string, body: unknown): Promise<{ status: number; json: { response: { allowed: boolean; status?: { message?: string }; warnings?: string[] } } }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/validate`, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const review = (object: { metadata: { namespace: string; name: string } }) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u1', kind: { group: 'crd.varmor.org', version: 'v1beta1', kind: 'VarmorPolicy' }, operation: 'CREATE', namespace: object.metadata.namespace, name: object.metadata.name, object },
});

describe('the validating webhook over HTTPS refuses a profile name another namespace has', () => {
  let dir: string;
  let hook: StartedWebhook;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-collide-'));
    await writeFile(path.join(dir, 'p.json'), JSON.stringify(policy('team', 'prod-web')));
    hook = await startWebhook({
      port: 0,
      host: '127.0.0.1',
      metricsPort: 0,
      certDir: path.join(dir, 'certs'),
      service: 'varmor-webhook',
      productNamespace: 'varmor',
      policiesDir: dir,
      appArmor: 'field',
      log: silentLogger,
    });
    ca = await readFile(path.join(dir, 'certs', 'ca.crt'), 'utf8');
  });
  afterAll(async () => {
    await hook?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('denies team-prod/web and allows team-prod/api', async () => {
    const denied = await post(hook.server.url, ca, review(policy('team-prod', 'web')));
    expect(denied.status).toBe(200);
    expect(denied.json.response.allowed).toBe(false);
    expect(denied.json.response.status?.message).toContain('profile name varmor-team-prod-web is already used by VarmorPolicy team/prod-web');
    expect((await post(hook.server.url, ca, review(policy('team-prod', 'api')))).json.response.allowed).toBe(true);
  });
});

describe('the validating webhook over HTTPS warns about a rule the enforcer ignores, and admits', () => {
  let dir: string;
  let hook: StartedWebhook;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-warn-'));
    hook = await startWebhook({ port: 0, host: '127.0.0.1', metricsPort: 0, certDir: path.join(dir, 'certs'), service: 'varmor-webhook', productNamespace: 'varmor', policiesDir: dir, appArmor: 'field', log: silentLogger });
    ca = await readFile(path.join(dir, 'certs', 'ca.crt'), 'utf8');
  });
  afterAll(async () => {
    await hook?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers allowed with an AdmissionReview warning naming the field, the rule and the enforcer', async () => {
    const p = {
      ...policy('shop', 'seccomp-shell'),
      spec: { target: { kind: 'Deployment', name: 'web' }, policy: { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { attackProtectionRules: [{ rules: ['disable-chmod-x-bit', 'disable-shell'] }] } } },
    };
    const r = await post(hook.server.url, ca, review(p));
    expect(r.json.response.allowed).toBe(true);
    expect(r.json.response.warnings).toHaveLength(1);
    expect(r.json.response.warnings?.[0]).toMatch(/^spec\.policy\.enhanceProtect\.attackProtectionRules\[0\]\.rules\[1\]: rule "disable-shell" is not enforced: the chosen enforcer\(s\) Seccomp/);
    // a supported rule only: no warnings field at all
    p.spec.policy.enhanceProtect.attackProtectionRules[0].rules = ['disable-chmod-x-bit'];
    expect((await post(hook.server.url, ca, review(p))).json.response.warnings).toBeUndefined();
  });
});
