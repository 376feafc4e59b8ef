// The CRDs in this folder: generated from profiler/api/schema.ts and committed; this suite fails
// when they drift from the schema, and (when the local cluster harness has built kube-apiserver)
// installs them in a real API server: the example policies are accepted and read back unpruned
// (so the schema covers every field they use), malformed ones are refused by the server itself,
// and a compiled ArmorProfile survives a round trip.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CRDS, renderCrds } from '../../scripts/gen-crds.js';
import type { AnyPolicy } from '../../profiler/api/types.js';
import { compilePolicy } from '../../profiler/compile.js';
import { fromArmorProfile, toArmorProfile } from '../../profiler/armorprofile.js';
import { parseDocuments } from '../../profiler/yaml.js';

const DIR = resolve('manifests/crds');

describe('generated CRDs', () => {
  it('the committed YAML is exactly what scripts/gen-crds.ts generates (run npm run crds:generate)', () => {
    const want = renderCrds();
    const have = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
    expect(have).toEqual([...want.keys()].sort());
    for (const [file, text] of want) expect({ file, text: readFileSync(join(DIR, file), 'utf8') }).toEqual({ file, text });
  });

  it('policies have vArmor printer columns, short names and a status subresource', () => {
    const vpol = parse(renderCrds().get('crd.varmor.org_varmorpolicies.gen.yaml')!);
    const v = vpol.spec.versions[0];
    expect(v.additionalPrinterColumns.map((c: { name: string }) => c.name)).toEqual([
      'ENFORCER', 'MODE', 'TARGET-KIND', 'TARGET-NAME', 'TARGET-SELECTOR', 'PROFILE-NAME', 'READY', 'STATUS', 'AGE',
    ]);
    expect(v.subresources).toEqual({ status: {} });
    expect(CRDS.map((c) => `${c.kind}:${c.scope}:${c.shortNames.join(',')}`)).toEqual([
      'VarmorPolicy:Namespaced:vpol', 'VarmorClusterPolicy:Cluster:vcpol', 'ArmorProfile:Namespaced:ap', 'ArmorProfileModel:Namespaced:apm',
    ]);
  });
});

const apiserverBin = resolve('e2e/cluster/.work/bin/kube-apiserver');
const missing = !existsSync(apiserverBin)
  ? `${apiserverBin} is missing (e2e/cluster/build.sh builds it)`
  : !existsSync('/usr/bin/etcd') && !existsSync('/usr/local/bin/etcd')
    ? 'etcd is missing (apt-get install etcd-server)'
    : null;
if (missing) console.warn(`CRD API server tests skipped: ${missing}`);
const d = missing ? describe.skip : describe;

type ControlPlane = { kubeconfigPath: string; server: string; stop(): Promise<void> };
interface Reply {
  status: number;
  body: Record<string, unknown>;
}

d('the CRDs in a real kube-apiserver', () => {
  let cp: ControlPlane;
  let kc: KubeConfig;

  /** Raw JSON over HTTPS: client-node's typed serializers would drop x-kubernetes-* schema keys. */
  async function api(method: string, path: string, body?: unknown): Promise<Reply> {
    const url = new URL(path, cp.server);
    const opts: Record<string, unknown> = { method, headers: { 'content-type': 'application/json', accept: 'application/json' } };
    await kc.applyToHTTPSOptions(opts);
    return new Promise((res, rej) => {
      const req = request(url, opts, (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
      });
      req.on('error', rej);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const path = (p: AnyPolicy | { kind: string; metadata: { namespace?: string } }, plural: string): string =>
    p.kind === 'VarmorClusterPolicy' ? `/apis/crd.varmor.org/v1beta1/${plural}` : `/apis/crd.varmor.org/v1beta1/namespaces/${p.metadata.namespace}/${plural}`;

  beforeAll(async () => {
    const { startControlPlane } = (await import('../../testing/apiserver/control-plane.js')) as { startControlPlane: () => Promise<ControlPlane> };
    cp = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    for (const text of renderCrds().values()) {
      const r = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', parse(text));
      if (r.status !== 201) throw new Error(`CRD refused: ${JSON.stringify(r.body)}`);
    }
    for (const c of CRDS) {
      await until(`${c.plural} Established`, async () => {
        const r = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.plural}.crd.varmor.org`);
        const conds = ((r.body.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []);
        return conds.some((x) => x.type === 'Established' && x.status === 'True');
      });
    }
    for (const ns of ['shop', 'jobs']) await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  const examples = (): AnyPolicy[] =>
    readdirSync('examples/policies')
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => parseDocuments(readFileSync(join('examples/policies', f), 'utf8')) as AnyPolicy[]);

  it('accepts every example policy and stores it without pruning a field', async () => {
    for (const p of examples()) {
      const plural = p.kind === 'VarmorClusterPolicy' ? 'varmorclusterpolicies' : 'varmorpolicies';
      // Retry while the new CRD's storage comes up (404 for a moment after Established).
      let r: Reply = { status: 0, body: {} };
      await until(`create ${p.metadata.name}`, async () => {
        r = await api('POST', path(p, plural), p);
        return r.status !== 404 && r.status !== 503;
      });
      expect({ name: p.metadata.name, status: r.status }).toEqual({ name: p.metadata.name, status: 201 });
      expect(r.body.spec).toEqual(p.spec);
    }
  }, 60_000);

  it('the server itself refuses a wrong target kind, a missing mode and a wrong type, naming the fields', async () => {
    const bad = {
      apiVersion: 'crd.varmor.org/v1beta1',
      kind: 'VarmorPolicy',
      metadata: { name: 'bad', namespace: 'shop' },
      spec: { target: { kind: 'ReplicaSet', name: 'x' }, policy: { enforcer: 'AppArmor', modelingOptions: { duration: 'long' } } },
    };
    const r = await api('POST', path(bad, 'varmorpolicies'), bad);
    expect(r.status).toBe(422);
    const msg = String(r.body.message);
    expect(msg).toContain('spec.target.kind');
    expect(msg).toContain('spec.policy.mode');
    expect(msg).toContain('spec.policy.modelingOptions.duration');
  });

  it('a compiled ArmorProfile is stored and decodes back to the same profiles', async () => {
    const policy = examples().find((p) => p.metadata.name === 'web-hardening')!;
    const compiled = compilePolicy(policy);
    const ap = toArmorProfile(policy, compiled);
    const r = await api('POST', path(ap, 'armorprofiles'), ap);
    expect(r.status).toBe(201);
    const back = fromArmorProfile((await api('GET', `${path(ap, 'armorprofiles')}/${ap.metadata.name}`)).body as never);
    expect(back.profileName).toBe('varmor-shop-web-hardening');
    expect(back.enforcers).toEqual(['AppArmor', 'BPF', 'Seccomp']);
    expect(back.appArmor?.profile).toBe(compiled.appArmor!.profile);
    expect(back.seccomp).toEqual(compiled.seccomp);
    expect(Buffer.from(back.bpfTables!).equals(Buffer.from(compiled.bpf!.tables))).toBe(true);
    // status subresource: a node condition written there is kept
    const st = await api('PUT', `${path(ap, 'armorprofiles')}/${ap.metadata.name}/status`, {
      ...(r.body as object),
      status: { currentNumberLoaded: 1, conditions: [{ nodeName: 'n1', type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    });
    expect(st.status).toBe(200);
    expect((st.body.status as { currentNumberLoaded: number }).currentNumberLoaded).toBe(1);
  });
});
