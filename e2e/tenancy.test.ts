// Tenant isolation, played as a hostile tenant (issue 16). The attacker is a ServiceAccount whose
// RBAC covers its own two namespaces only (VarmorPolicies, Pods, pods/ephemeralcontainers, exec,
// Deployments); it attacks another tenant's sandbox and a cluster administrator's binding
// VarmorClusterPolicy on the real cluster KUBECONFIG points at. Every attempt must fail, and the
// victim's containers keep their profiles throughout (the last case checks them again).
//
//   victim     namespace t<sfx>        policy prod-web  -> profile varmor-t<sfx>-prod-web
//   attacker   namespace t<sfx>-prod   (opted in)       -> `web` there would give the same name
//              namespace t<sfx>-own    (not opted in: the webhook never sees its pods)
//   admin      VarmorClusterPolicy c<sfx>-baseline, binding, for pods labelled tier=untrusted-<sfx>

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../manifests/images/refs.js';
import { bpfPolicyId, profileName } from '../profiler/names.js';
import { serviceAccountKubeConfig } from '../testing/apiserver/harness.js';
import { collidingPolicyName } from '../testing/fnv-collide.js';
import { clients, errorText, eventually, exec, findKubectl, GiveUp, httpStatus, type Clients } from './lib/kube.js';

jest.setTimeout(240_000);

const GROUP = 'crd.varmor.org';
const VERSION = 'v1beta1';
const OPT_IN = 'sandbox.varmor.org/enable';
const BINDING = 'sandbox.varmor.org/binding';
const PRODUCT_NS = 'varmor';
const sfx = randomBytes(2).toString('hex');
const VICTIM_NS = `t${sfx}`;
const ATTACKER_NS = `t${sfx}-prod`;
const ATTACKER_OWN_NS = `t${sfx}-own`;
const VICTIM_POLICY = 'prod-web';
const VICTIM_PROFILE = profileName({ kind: 'VarmorPolicy', namespace: VICTIM_NS, name: VICTIM_POLICY });
const CLUSTER_POLICY = `c${sfx}-baseline`;
const CLUSTER_PROFILE = profileName({ kind: 'VarmorClusterPolicy', name: CLUSTER_POLICY }, PRODUCT_NS);
const UNTRUSTED = { tier: `untrusted-${sfx}` };
const SECCOMP_ROOT = process.env.VARMOR_E2E_SECCOMP_ROOT;
const MKDIR_DENIED = { syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };

let admin: Clients;
/** The attacker's clients: a token of ServiceAccount `tenant` in its namespace, bound by Roles in its two namespaces. */
let tenant: { kc: k8s.KubeConfig; core: k8s.CoreV1Api; custom: k8s.CustomObjectsApi; apps: k8s.AppsV1Api; kubeconfigFile: string };
let scratch: string;

// ---------------------------------------------------------------------------------------------

function varmorPolicy(namespace: string, name: string, policySpec: Record<string, unknown>, target: Record<string, unknown>, extra: Record<string, unknown> = {}): object {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'VarmorPolicy', metadata: { name, namespace }, spec: { target, policy: policySpec, ...extra } };
}

function podSpec(name: string, labels: Record<string, string>, annotations: Record<string, string> = {}, sc?: k8s.V1SecurityContext): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, annotations },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        { name: 'app', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], securityContext: sc },
      ],
    },
  };
}

/** The error a call ends with, or undefined when it succeeded. */
async function refusal(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await admin.core.createNamespace({ body: { metadata: { name, labels } } });
  await eventually(`ServiceAccount ${name}/default`, async () => (await admin.core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ?? undefined);
}

async function policyStatus(plural: string, namespace: string | undefined, name: string): Promise<{ ready?: boolean; phase?: string; conditions?: unknown[] } | undefined> {
  const obj = (namespace
    ? await admin.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name })
    : await admin.custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural, name })) as { status?: { ready?: boolean; phase?: string; conditions?: unknown[] } };
  return obj.status;
}

async function policyReady(plural: string, namespace: string | undefined, name: string): Promise<void> {
  await eventually(
    `${plural} ${namespace ?? ''}/${name} Ready`,
    async () => {
      const s = await policyStatus(plural, namespace, name);
      if (s?.phase === 'Error') throw new GiveUp(`phase Error: ${JSON.stringify(s.conditions)}`);
      return s?.ready === true ? true : undefined;
    },
    150_000,
  );
}

async function running(core: k8s.CoreV1Api, namespace: string, name: string): Promise<k8s.V1Pod> {
  return eventually(`Pod ${namespace}/${name} Running`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason && /Err|Invalid/.test(waiting.reason)) throw new GiveUp(`${waiting.reason}: ${waiting.message ?? ''}`);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  });
}

/** Resolves with the reason the pod's container could not start, polling until it shows one; never a Running pod. */
async function refusedToStart(namespace: string, name: string): Promise<string> {
  return eventually(`Pod ${namespace}/${name} refused to start`, async () => {
    const p = await admin.core.readNamespacedPod({ name, namespace });
    const st = p.status?.containerStatuses?.[0];
    if (st?.state?.running) throw new GiveUp('the container is running');
    const waiting = st?.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating') return `${waiting.reason}: ${waiting.message ?? ''}`;
    const terminated = st?.state?.terminated;
    if (terminated && terminated.reason !== 'Completed') return `${terminated.reason ?? ''}: ${terminated.message ?? ''}`;
    return undefined;
  });
}

async function mkdirDenied(kc: k8s.KubeConfig, namespace: string, pod: string, container: string): Promise<boolean> {
  const r = await exec(kc, namespace, pod, container, ['mkdir', `/tmp/probe-${randomBytes(3).toString('hex')}`]);
  return r.code !== 0 && /Operation not permitted/.test(r.stderr);
}

function seccompFile(profile: string): string | undefined {
  return SECCOMP_ROOT ? join(SECCOMP_ROOT, 'varmor', `${profile}.json`) : undefined;
}

async function tenantKubeConfig(): Promise<typeof tenant> {
  const rbac = admin.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await admin.core.createNamespacedServiceAccount({ namespace: ATTACKER_NS, body: { metadata: { name: 'tenant' } } });
  for (const ns of [ATTACKER_NS, ATTACKER_OWN_NS]) {
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'tenant' },
        rules: [
          { apiGroups: [GROUP], resources: ['varmorpolicies'], verbs: ['*'] },
          { apiGroups: [''], resources: ['pods', 'pods/ephemeralcontainers', 'pods/exec', 'pods/attach', 'pods/log'], verbs: ['*'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'tenant' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
        subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: ATTACKER_NS }],
      },
    });
  }
  const kc = await serviceAccountKubeConfig(admin, ATTACKER_NS, 'tenant');
  const kubeconfigFile = join(scratch, 'tenant.kubeconfig');
  writeFileSync(kubeconfigFile, kc.exportConfig(), { mode: 0o600 });
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi), apps: kc.makeApiClient(k8s.AppsV1Api), kubeconfigFile };
}

function createAsTenant(namespace: string, body: object): Promise<object> {
  return tenant.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'varmorpolicies', body });
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  if (process.env.VARMOR_E2E_UNAVAILABLE) throw new Error(`e2e cluster unavailable: ${process.env.VARMOR_E2E_UNAVAILABLE}`);
  admin = clients();
  scratch = mkdtempSync(join(tmpdir(), 'varmor-tenancy-'));
  await createNamespace(VICTIM_NS, { [OPT_IN]: 'true' });
  await createNamespace(ATTACKER_NS, { [OPT_IN]: 'true' });
  await createNamespace(ATTACKER_OWN_NS, {});
  tenant = await tenantKubeConfig();

  // The victim: a BPF + Seccomp policy (mkdir denied) and a running pod confined by it.
  await admin.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: VICTIM_NS,
    plural: 'varmorpolicies',
    body: varmorPolicy(VICTIM_NS, VICTIM_POLICY, { enforcer: 'BPFSeccomp', mode: 'EnhanceProtect', enhanceProtect: MKDIR_DENIED }, { kind: 'Pod', selector: { matchLabels: { app: 'victim' } } }),
  });
  // The administrator's binding baseline for untrusted pods in every opted-in namespace.
  await admin.custom.createClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'varmorclusterpolicies',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'VarmorClusterPolicy',
      metadata: { name: CLUSTER_POLICY, annotations: { [BINDING]: 'true' } },
      spec: { target: { kind: 'Pod', selector: { matchLabels: UNTRUSTED } }, policy: { enforcer: 'BPFSeccomp', mode: 'EnhanceProtect', enhanceProtect: MKDIR_DENIED } },
    },
  });
  await policyReady('varmorpolicies', VICTIM_NS, VICTIM_POLICY);
  await policyReady('varmorclusterpolicies', undefined, CLUSTER_POLICY);
  await admin.core.createNamespacedPod({ namespace: VICTIM_NS, body: podSpec('victim', { app: 'victim' }) });
  await running(admin.core, VICTIM_NS, 'victim');
}, 400_000);

afterAll(async () => {
  if (!admin) return;
  await admin.custom.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'varmorclusterpolicies', name: CLUSTER_POLICY }).catch(() => undefined);
  for (const ns of [VICTIM_NS, ATTACKER_NS, ATTACKER_OWN_NS]) await admin.core.deleteNamespace({ name: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the victim', () => {
  it('is confined before the attacks: profile loaded, mkdir denied', async () => {
    expect(await mkdirDenied(admin.kc, VICTIM_NS, 'victim', 'app')).toBe(true);
    const file = seccompFile(VICTIM_PROFILE);
    if (file) expect(existsSync(file)).toBe(true);
  });
});

describe('2. annotations written by the pod author', () => {
  const forged = { 'container.bpf.security.beta.varmor.org/app': `localhost/${VICTIM_PROFILE}`, 'container.seccomp.security.beta.varmor.org/app': `localhost/${VICTIM_PROFILE}` };

  it('in a namespace the webhook never sees, a container naming another namespace\'s BPF profile is refused by the node (fail closed)', async () => {
    await tenant.core.createNamespacedPod({ namespace: ATTACKER_OWN_NS, body: podSpec('forged', { app: 'forged' }, forged) });
    const reason = await refusedToStart(ATTACKER_OWN_NS, 'forged');
    expect(reason).toMatch(/hook|varmor|binding|refus/i);
  });

  it('there, a container naming the cluster policy\'s BPF profile (whose webhook signature it lacks) is refused too', async () => {
    const cluster = { 'container.bpf.security.beta.varmor.org/app': `localhost/${CLUSTER_PROFILE}` };
    await tenant.core.createNamespacedPod({ namespace: ATTACKER_OWN_NS, body: podSpec('forged-cluster', { app: 'forged' }, cluster) });
    const reason = await refusedToStart(ATTACKER_OWN_NS, 'forged-cluster');
    expect(reason).toMatch(/hook|varmor|binding|refus/i);
  });

  it('in an opted-in namespace, the webhook removes them before the pod is stored', async () => {
    const created = await tenant.core.createNamespacedPod({ namespace: ATTACKER_NS, body: podSpec('forged', { app: 'forged' }, forged) });
    const ours = Object.entries(created.metadata?.annotations ?? {}).filter(([k]) => k.includes('security.beta.varmor.org/'));
    expect(ours).toEqual([]);
  });
});

describe('1. colliding profile names and BPF policy ids', () => {
  it('a policy whose profile name is the victim\'s is refused at creation, and the victim keeps its profile', async () => {
    const attack = varmorPolicy(ATTACKER_NS, 'web', { enforcer: 'BPFSeccomp', mode: 'AlwaysAllow' }, { kind: 'Pod', selector: { matchLabels: { app: 'web' } } });
    expect(profileName({ kind: 'VarmorPolicy', namespace: ATTACKER_NS, name: 'web' })).toBe(VICTIM_PROFILE);
    const err = await refusal(createAsTenant(ATTACKER_NS, attack));
    let cleanupFailed: string | undefined;
    if (err === undefined) {
      // Accepted: let it take effect, then delete it, as an attacker would, and see what the victim lost.
      await new Promise((r) => setTimeout(r, 10_000));
      await tenant.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ATTACKER_NS, plural: 'varmorpolicies', name: 'web' });
      await new Promise((r) => setTimeout(r, 15_000));
      const file = seccompFile(VICTIM_PROFILE);
      if (file && !existsSync(file)) cleanupFailed = `deleting the attacker's policy removed the victim's Seccomp file ${file}`;
    }
    expect(cleanupFailed).toBeUndefined();
    expect(err).toBeDefined();
    expect(errorText(err)).toMatch(new RegExp(`${VICTIM_PROFILE}.*${VICTIM_NS}/${VICTIM_POLICY}|${VICTIM_NS}/${VICTIM_POLICY}.*${VICTIM_PROFILE}`));
  });

  it('a policy whose BPF policy id is the victim\'s (a crafted name) is refused at creation', async () => {
    const name = collidingPolicyName(`varmor-${ATTACKER_NS}-`, bpfPolicyId(VICTIM_PROFILE), 63 - `varmor-${ATTACKER_NS}-`.length);
    const attackerProfile = profileName({ kind: 'VarmorPolicy', namespace: ATTACKER_NS, name });
    expect(attackerProfile).not.toBe(VICTIM_PROFILE);
    expect(bpfPolicyId(attackerProfile)).toBe(bpfPolicyId(VICTIM_PROFILE));
    const err = await refusal(createAsTenant(ATTACKER_NS, varmorPolicy(ATTACKER_NS, name, { enforcer: 'BPF', mode: 'AlwaysAllow' }, { kind: 'Pod', selector: { matchLabels: { app: 'x' } } })));
    if (err === undefined) await tenant.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ATTACKER_NS, plural: 'varmorpolicies', name }).catch(() => undefined);
    expect(err).toBeDefined();
    expect(errorText(err)).toMatch(/policy id/i);
  });
});

describe('3. ephemeral containers', () => {
  it('kubectl debug --target=app in a confined pod gets the target\'s profile: mkdir is denied in the debug container', async () => {
    await tenant.core.createNamespacedPod({ namespace: ATTACKER_NS, body: podSpec('debugged', UNTRUSTED) });
    await running(tenant.core, ATTACKER_NS, 'debugged');
    expect(await mkdirDenied(tenant.kc, ATTACKER_NS, 'debugged', 'app')).toBe(true);
    const kubectl = findKubectl();
    const command = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
    if (kubectl) {
      await new Promise<void>((resolve, reject) =>
        execFile(
          kubectl,
          ['--kubeconfig', tenant.kubeconfigFile, 'debug', '-n', ATTACKER_NS, 'debugged', `--image=${BUSYBOX_IMAGE}`, '--image-pull-policy=IfNotPresent', '--target=app', '-c', 'dbg', '--', ...command],
          { encoding: 'utf8', timeout: 60_000 },
          (err, _out, stderr) => (err ? reject(new Error(`kubectl debug: ${stderr || err.message}`)) : resolve()),
        ),
      );
    } else {
      const p = await tenant.core.readNamespacedPod({ namespace: ATTACKER_NS, name: 'debugged' });
      p.spec!.ephemeralContainers = [{ name: 'dbg', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', targetContainerName: 'app', command }];
      await tenant.core.replaceNamespacedPodEphemeralcontainers({ namespace: ATTACKER_NS, name: 'debugged', body: p });
    }
    const pod = await eventually('the debug container running', async () => {
      const p = await tenant.core.readNamespacedPod({ namespace: ATTACKER_NS, name: 'debugged' });
      const st = p.status?.ephemeralContainerStatuses?.find((s) => s.name === 'dbg');
      if (st?.state?.waiting?.reason && /Err|Invalid/.test(st.state.waiting.reason)) throw new GiveUp(`${st.state.waiting.reason}: ${st.state.waiting.message ?? ''}`);
      return st?.state?.running ? p : undefined;
    });
    const dbg = pod.spec?.ephemeralContainers?.find((e) => e.name === 'dbg');
    expect(dbg?.securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: `varmor/${CLUSTER_PROFILE}.json` });
    expect(await mkdirDenied(tenant.kc, ATTACKER_NS, 'debugged', 'dbg')).toBe(true);
  });
});

describe('4. the cluster baseline cannot be weakened by a tenant', () => {
  it('a namespaced policy for the same pods does not replace the binding cluster policy', async () => {
    await createAsTenant(ATTACKER_NS, varmorPolicy(ATTACKER_NS, 'loose', { enforcer: 'Seccomp', mode: 'AlwaysAllow' }, { kind: 'Pod', selector: { matchLabels: UNTRUSTED } }));
    await policyReady('varmorpolicies', ATTACKER_NS, 'loose');
    const created = await tenant.core.createNamespacedPod({ namespace: ATTACKER_NS, body: podSpec('loose', UNTRUSTED) });
    expect(created.spec?.containers[0]?.securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: `varmor/${CLUSTER_PROFILE}.json` });
  });

  it('opt-out annotations and an Unconfined securityContext do not keep it out: mkdir is denied', async () => {
    const optOut = { 'container.seccomp.security.beta.varmor.org/app': 'unconfined', 'container.bpf.security.beta.varmor.org/app': 'unconfined' };
    const created = await tenant.core.createNamespacedPod({ namespace: ATTACKER_NS, body: podSpec('optout', UNTRUSTED, optOut, { seccompProfile: { type: 'Unconfined' } }) });
    expect(created.spec?.containers[0]?.securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: `varmor/${CLUSTER_PROFILE}.json` });
    expect(created.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']).toBe(`localhost/${CLUSTER_PROFILE}`);
    await running(tenant.core, ATTACKER_NS, 'optout');
    expect(await mkdirDenied(tenant.kc, ATTACKER_NS, 'optout', 'app')).toBe(true);
  });

  it('a tenant cannot write or loosen cluster policies', async () => {
    const err = await refusal(
      tenant.custom.patchClusterCustomObject({ group: GROUP, version: VERSION, plural: 'varmorclusterpolicies', name: CLUSTER_POLICY, body: [{ op: 'remove', path: '/metadata/annotations' }] }),
    );
    expect(httpStatus(err)).toBe(403);
  });
});

describe('5. opt-in decided by the API server', () => {
  it('pods created the moment a namespace opts in are mutated', async () => {
    const unmutated: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ns = `t${sfx}-fresh${i}`;
      await admin.core.createNamespace({ body: { metadata: { name: ns, labels: { [OPT_IN]: 'true' } } } });
      try {
        // As soon as the namespace's ServiceAccount exists: the first moment a pod can be admitted.
        const created = await eventually(
          `a pod in ${ns}`,
          async () => {
            try {
              return await admin.core.createNamespacedPod({ namespace: ns, body: podSpec('fresh', UNTRUSTED) });
            } catch (e) {
              if (/service ?account/i.test(errorText(e))) return undefined;
              throw new GiveUp(errorText(e));
            }
          },
          30_000,
          20,
        );
        if (created.spec?.containers[0]?.securityContext?.seccompProfile?.localhostProfile !== `varmor/${CLUSTER_PROFILE}.json`) unmutated.push(ns);
      } finally {
        await admin.core.deleteNamespace({ name: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
      }
    }
    expect(unmutated).toEqual([]);
  });
});

describe('7. deleting a policy with updateExistingWorkloads', () => {
  it('rolls the workload to unconfined pods, and no pod is left stuck', async () => {
    const labels = { app: `roll-${sfx}` };
    await createAsTenant(
      ATTACKER_NS,
      varmorPolicy(ATTACKER_NS, 'roll', { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: MKDIR_DENIED }, { kind: 'Deployment', selector: { matchLabels: labels } }, { updateExistingWorkloads: true }),
    );
    await policyReady('varmorpolicies', ATTACKER_NS, 'roll');
    const template = podSpec('unused', labels);
    await tenant.apps.createNamespacedDeployment({
      namespace: ATTACKER_NS,
      body: { metadata: { name: 'roll', labels }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: template.spec } } },
    });
    const profile = profileName({ kind: 'VarmorPolicy', namespace: ATTACKER_NS, name: 'roll' });
    const listPods = async () => (await tenant.core.listNamespacedPod({ namespace: ATTACKER_NS, labelSelector: `app=${labels.app}` })).items;
    await eventually('two confined pods running', async () => {
      const pods = (await listPods()).filter((p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready);
      return pods.length === 2 && pods.every((p) => p.spec?.containers[0]?.securityContext?.seccompProfile?.localhostProfile === `varmor/${profile}.json`) ? true : undefined;
    });
    await tenant.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ATTACKER_NS, plural: 'varmorpolicies', name: 'roll' });
    const stuck = new Set<string>();
    await eventually(
      'the policy gone and two unconfined pods running',
      async () => {
        const pods = await listPods();
        for (const p of pods) {
          const w = p.status?.containerStatuses?.[0]?.state?.waiting;
          if (w?.reason && /Err|Invalid/.test(w.reason)) stuck.add(`${p.metadata?.name}: ${w.reason} ${w.message ?? ''}`);
        }
        if (stuck.size) throw new GiveUp(`pods stuck: ${[...stuck].join('; ')}`);
        const gone = await admin.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ATTACKER_NS, plural: 'varmorpolicies', name: 'roll' }).then(
          () => false,
          (e: unknown) => httpStatus(e) === 404,
        );
        const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
        const ok = live.length === 2 && live.every((p) => p.status?.phase === 'Running' && p.spec?.containers[0]?.securityContext?.seccompProfile === undefined);
        return gone && ok ? true : undefined;
      },
      180_000,
      500,
    );
  });
});

describe('8. an agent writes only for its own node', () => {
  async function agentToken(): Promise<{ custom: k8s.CustomObjectsApi; core: k8s.CoreV1Api; node: string }> {
    const pods = await admin.core.listNamespacedPod({ namespace: PRODUCT_NS, labelSelector: 'app.kubernetes.io/name=varmor-agent' });
    const agent = pods.items.find((p) => p.status?.phase === 'Running');
    if (!agent?.metadata?.name || !agent.spec?.nodeName) throw new Error(`no running agent pod (${pods.items.length} listed)`);
    // What a compromised node holds: the agent's pod-bound token (it names the node).
    const kc = await serviceAccountKubeConfig(admin, PRODUCT_NS, 'varmor-agent', { name: agent.metadata.name, uid: agent.metadata.uid ?? '' });
    return { custom: kc.makeApiClient(k8s.CustomObjectsApi), core: kc.makeApiClient(k8s.CoreV1Api), node: agent.spec.nodeName };
  }

  it('with one node\'s credentials, forging another node\'s Ready entry on the victim\'s ArmorProfile is refused', async () => {
    const as = await agentToken();
    const ap = (await as.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: VICTIM_NS, plural: 'armorprofiles', name: VICTIM_PROFILE })) as {
      status?: { conditions?: Record<string, unknown>[] };
    };
    const conditions = ap.status?.conditions ?? [];
    const forgedEntry = { type: 'Ready', status: 'True', nodeName: `forged-${sfx}`, reason: 'Loaded', message: 'forged', lastTransitionTime: new Date().toISOString() };
    const body = { ...ap, status: { ...ap.status, conditions: [...conditions, forgedEntry] } };
    const err = await refusal(as.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: VICTIM_NS, plural: 'armorprofiles', name: VICTIM_PROFILE, body }));
    expect(err).toBeDefined();
    expect([403, 422]).toContain(httpStatus(err));
    // Its own node's entry is still its to write (the same entry, rewritten).
    const own = await refusal(as.custom.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: VICTIM_NS, plural: 'armorprofiles', name: VICTIM_PROFILE, body: ap }));
    expect(own).toBeUndefined();
  });

  it('creating a behaviour model in the name of another node is refused', async () => {
    const as = await agentToken();
    const err = await refusal(
      as.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: VICTIM_NS,
        plural: 'armorprofilemodels',
        body: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'ArmorProfileModel',
          metadata: { name: `${VICTIM_PROFILE}-forged-${sfx}`, namespace: VICTIM_NS, labels: { 'varmor.org/model-of': VICTIM_PROFILE, 'varmor.org/node': `forged-${sfx}` } },
          data: { dynamicResult: {}, profile: { name: VICTIM_PROFILE, enforcer: 'BPF', mode: 'DefenseInDepth' } },
        },
      }),
    );
    expect(err).toBeDefined();
    expect([403, 422]).toContain(httpStatus(err));
  });

  it('rights nothing uses are gone: the agent cannot read nodes', async () => {
    const as = await agentToken();
    const err = await refusal(as.core.readNode({ name: as.node }));
    expect(err).toBeDefined();
    expect(httpStatus(err)).toBe(403);
  });
});

describe('9. kernel table quotas', () => {
  it('a policy with more BPF entries than one policy may hold is refused, naming the field', async () => {
    const files = Array.from({ length: 1100 }, (_, i) => ({ pattern: `/data/f${i}`, permissions: ['write'], qualifiers: ['deny'] }));
    const err = await refusal(
      createAsTenant(ATTACKER_NS, varmorPolicy(ATTACKER_NS, 'huge', { enforcer: 'BPF', mode: 'EnhanceProtect', enhanceProtect: { bpfRawRules: { files } } }, { kind: 'Pod', selector: { matchLabels: { app: 'huge' } } })),
    );
    if (err === undefined) await tenant.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ATTACKER_NS, plural: 'varmorpolicies', name: 'huge' }).catch(() => undefined);
    expect(err).toBeDefined();
    expect(errorText(err)).toMatch(/bpfRawRules\.files/);
    expect(errorText(err)).toMatch(/quota|at most|limit/i);
  });
});

describe('the victim after every attack', () => {
  it('still runs confined, its profile is on the node, and a new pod of it starts confined', async () => {
    const p = await running(admin.core, VICTIM_NS, 'victim');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(await mkdirDenied(admin.kc, VICTIM_NS, 'victim', 'app')).toBe(true);
    const file = seccompFile(VICTIM_PROFILE);
    if (file) expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ defaultAction: expect.any(String) });
    await admin.core.createNamespacedPod({ namespace: VICTIM_NS, body: podSpec('victim-2', { app: 'victim' }) });
    await running(admin.core, VICTIM_NS, 'victim-2');
    expect(await mkdirDenied(admin.kc, VICTIM_NS, 'victim-2', 'app')).toBe(true);
    await policyReady('varmorpolicies', VICTIM_NS, VICTIM_POLICY);
  });
});
