// Removing the product from the local cluster leaves nothing behind (manifests/undeploy.ts), while a
// confined workload keeps running. Its own jest project (`uninstall`): e2e/run.sh runs it once the
// main suite is done, against the local cluster only, whose node is this machine, so the node's
// state (bpffs pins, the programs behind them, the kubelet's seccomp root, the hook socket) is read
// here directly.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../../manifests/images/refs.js';
import { undeploy, type UndeployReport } from '../../manifests/undeploy.js';
import { clients, eventually, exec, type Clients } from '../lib/kube.js';

jest.setTimeout(420_000);

const GROUP = 'crd.varmor.org';
const VERSION = 'v1beta1';
const PIN = '/sys/fs/bpf/varmor';
const HOOK_SOCKET = '/run/varmor/hook.sock';
const SECCOMP_ROOT = process.env.VARMOR_E2E_SECCOMP_ROOT ?? '';
const CONTAINERD_SOCKET = process.env.VARMOR_E2E_CONTAINERD_SOCKET;
const ns = `e2e-uninstall-${randomBytes(3).toString('hex')}`;
const APP = { app: 'e2e-uninstall' };

let c: Clients;
let before: { progIds: number[]; progsLoaded: boolean; seccompFiles: string[]; hookSocket: boolean; pod: k8s.V1Pod };
/** A profile file an agent left behind (it crashed before its profile was deleted): only the node cleanup removes it. */
const STALE = 'varmor-e2e-stale-left.json';
let report: UndeployReport;
let lines: string[] = [];

function pod(name: string): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: APP },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }],
    },
  };
}

async function running(name: string): Promise<k8s.V1Pod> {
  return eventually(`Pod ${ns}/${name} Running`, async () => {
    const p = await c.core.readNamespacedPod({ name, namespace: ns });
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  });
}

/** The ids of the programs behind the pinned links (what the kernel runs on every hook). */
function pinnedProgramIds(): number[] {
  if (!existsSync(PIN)) return [];
  return readdirSync(PIN)
    .filter((f) => f.startsWith('link_'))
    .map((f) => (JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show', 'pinned', join(PIN, f)], { encoding: 'utf8' })) as { prog_id: number }).prog_id);
}

function programLoaded(id: number): boolean {
  try {
    execFileSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (process.env.VARMOR_E2E_UNAVAILABLE) throw new Error(`e2e cluster unavailable: ${process.env.VARMOR_E2E_UNAVAILABLE}`);
  if (!SECCOMP_ROOT) throw new Error('VARMOR_E2E_SECCOMP_ROOT is not set: this suite runs on the local cluster (e2e/run.sh)');
  c = clients();
  await c.core.createNamespace({ body: { metadata: { name: ns, labels: { 'sandbox.varmor.org/enable': 'true' } } } });
  await eventually(`ServiceAccount ${ns}/default`, async () => (await c.core.readNamespacedServiceAccount({ name: 'default', namespace: ns })) ?? undefined);
  const policy = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'VarmorPolicy',
    metadata: { name: 'confine', namespace: ns },
    spec: {
      target: { kind: 'Pod', selector: { matchLabels: APP } },
      policy: { enforcer: 'BPFSeccomp', mode: 'EnhanceProtect', enhanceProtect: { attackProtectionRules: [{ rules: ['disable-write-etc'] }], syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } },
    },
  };
  await c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'varmorpolicies', body: policy });
  await eventually('policy Ready', async () => {
    const p = (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'varmorpolicies', name: 'confine' })) as { status?: { ready?: boolean } };
    return p.status?.ready ? true : undefined;
  });
  await c.core.createNamespacedPod({ namespace: ns, body: pod('workload') });
  const p = await running('workload');
  const denied = await exec(c.kc, ns, 'workload', 'app', ['mkdir', '/tmp/x']);
  expect(denied.code).not.toBe(0); // confined before the uninstall
  writeFileSync(join(SECCOMP_ROOT, 'varmor', STALE), '{"defaultAction":"SCMP_ACT_ALLOW"}');
  before = {
    progIds: pinnedProgramIds(),
    progsLoaded: false,
    seccompFiles: readdirSync(join(SECCOMP_ROOT, 'varmor')),
    hookSocket: existsSync(HOOK_SOCKET),
    pod: p,
  };
  before.progsLoaded = before.progIds.every(programLoaded);
  report = await undeploy(c.kc, { seccompRoot: SECCOMP_ROOT, containerdSocket: CONTAINERD_SOCKET, log: (m) => lines.push(m) });
});

afterAll(async () => {
  if (report) console.log(`undeploy took ${(report.durationMs / 1000).toFixed(1)} s:\n${lines.join('\n')}`);
  if (c) await c.core.deleteNamespace({ name: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
});

describe('uninstall', () => {
  it('the node had programs, pins and Seccomp files to remove (the test can fail)', () => {
    // this host's kernel loads the audit-mode programs only (tp_btf), three links
    expect(before.progIds.length).toBeGreaterThan(0);
    expect(before.progsLoaded).toBe(true);
    expect(before.seccompFiles).toEqual(expect.arrayContaining([`varmor-${ns}-confine.json`, STALE]));
    expect(before.hookSocket).toBe(true);
  });

  it('ran varmor uninstall on every node, which removed the pins and the Seccomp files', async () => {
    const nodes = (await c.core.listNode()).items.map((n) => n.metadata?.name).sort();
    expect(report.nodes.map((n) => n.node).sort()).toEqual(nodes);
    for (const n of report.nodes) {
      expect(n.phase).toBe('Succeeded');
      expect(n.log).toContain(`pins under ${PIN} removed, programs detached`);
      // the agent removed the policy's own file when the policy went; the stale one is the node cleanup's
      expect(n.log).toContain('seccomp: 1 profile file(s) removed');
    }
    expect(report.finalizersForced).toEqual([]);
    expect(report.policiesDeleted).toBeGreaterThan(0);
  });

  it('no program left attached, no pin, no Seccomp file, no hook socket on the node', async () => {
    expect(existsSync(PIN)).toBe(false);
    await eventually('every pinned program freed', async () => (before.progIds.some(programLoaded) ? undefined : true), 30_000);
    expect(before.progIds.filter(programLoaded)).toEqual([]);
    expect(existsSync(join(SECCOMP_ROOT, 'varmor'))).toBe(false);
    expect(existsSync(HOOK_SOCKET)).toBe(false);
  });

  it('nothing left in the API: no CRD, namespace, webhook, cluster role or finalizer', async () => {
    const crds = (await c.ext.listCustomResourceDefinition()).items.filter((d) => d.spec.group === GROUP);
    expect(crds.map((d) => d.metadata?.name)).toEqual([]);
    await expect(c.core.readNamespace({ name: 'varmor' })).rejects.toMatchObject({ code: 404 });
    const adm = c.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    expect((await adm.listMutatingWebhookConfiguration()).items.map((w) => w.metadata?.name).filter((n) => n?.startsWith('varmor'))).toEqual([]);
    expect((await adm.listValidatingWebhookConfiguration()).items.map((w) => w.metadata?.name).filter((n) => n?.startsWith('varmor'))).toEqual([]);
    const rbac = c.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    expect((await rbac.listClusterRole()).items.map((r) => r.metadata?.name).filter((n) => n?.startsWith('varmor'))).toEqual([]);
    // the workload's namespace is not stuck: nothing of ours holds a finalizer in it
    const left = await c.core.readNamespace({ name: ns });
    expect(left.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('the confined workload kept running through it, and new pods start unmutated', async () => {
    const p = await c.core.readNamespacedPod({ name: 'workload', namespace: ns });
    expect(p.metadata?.uid).toBe(before.pod.metadata?.uid);
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(before.pod.status?.containerStatuses?.[0]?.restartCount);
    expect((await exec(c.kc, ns, 'workload', 'app', ['true'])).code).toBe(0);
    // the webhook is gone: a new pod in the opted-in namespace is admitted as written and starts
    await c.core.createNamespacedPod({ namespace: ns, body: pod('after') });
    const after = await running('after');
    expect(Object.keys(after.metadata?.annotations ?? {}).filter((k) => k.includes('varmor'))).toEqual([]);
    expect((await exec(c.kc, ns, 'after', 'app', ['mkdir', '/tmp/x'])).code).toBe(0);
  });

  it('a second run finds nothing to do and succeeds', async () => {
    const again: string[] = [];
    const r = await undeploy(c.kc, { seccompRoot: SECCOMP_ROOT, containerdSocket: CONTAINERD_SOCKET, log: (m) => again.push(m) });
    expect(r).toMatchObject({ policiesDeleted: 0, finalizersForced: [], nodes: [] });
    expect(again.filter((l) => l.startsWith('deleted'))).toEqual([]);
    lines = [...lines, `second run: ${again.join(' | ')}`];
  });
});
