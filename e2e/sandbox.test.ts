// The product end to end, against the cluster KUBECONFIG points at (the local cluster of e2e/cluster, or
// kind): CRDs served by the real API server, invalid policies rejected, a policy compiled to an
// ArmorProfile and loaded by the agent until it is Ready, Pods mutated only in opted-in namespaces, a
// mutated Pod running under the kubelet with the agent's Seccomp profile (a denied syscall fails inside
// it, an allowed one works), and deletion cleaning up. e2e/run.sh deploys the product first.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_IMAGE } from '../manifests/images/refs.js';
import { clients, errorText, eventually, exec, findKubectl, GiveUp, httpStatus, kubectlExec, type Clients } from './lib/kube.js';

jest.setTimeout(180_000);

const GROUP = 'crd.varmor.org';
const VERSION = 'v1beta1';
const OPT_IN_LABEL = 'sandbox.varmor.org/enable';
const suffix = randomBytes(3).toString('hex');
const optedIn = `e2e-sandbox-${suffix}`;
const plain = `e2e-plain-${suffix}`;
const POLICY = 'deny-mkdir';
const APP = { app: 'e2e-demo' };

/** Set by e2e/run.sh for the local cluster, whose node is this machine (the kubelet's seccomp root). */
const SECCOMP_ROOT = process.env.VARMOR_E2E_SECCOMP_ROOT;

let c: Clients;

interface PolicyStatus {
  profileName?: string;
  ready?: boolean;
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

function policy(name: string, namespace: string, policySpec: Record<string, unknown>, target: Record<string, unknown> = { kind: 'Pod', selector: { matchLabels: APP } }): object {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'VarmorPolicy', metadata: { name, namespace }, spec: { target, policy: policySpec } };
}

function pod(name: string, namespace: string): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: APP },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'app', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'] }],
    },
  };
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name, labels } } });
  // Pods are admitted only once the namespace's default ServiceAccount exists.
  await eventually(`ServiceAccount ${name}/default`, async () => (await c.core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ?? undefined);
}

function createPolicy(namespace: string, body: object): Promise<object> {
  return c.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'varmorpolicies', body });
}

async function readPolicy(namespace: string, name: string): Promise<{ status?: PolicyStatus }> {
  return (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'varmorpolicies', name })) as { status?: PolicyStatus };
}

async function podRunning(namespace: string, name: string): Promise<k8s.V1Pod> {
  return eventually(`Pod ${namespace}/${name} Running`, async () => {
    const p = await c.core.readNamespacedPod({ name, namespace });
    const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
    // A crash loop or a refused create (the hook failing closed, a missing profile) does not heal by waiting.
    const restarts = p.status?.containerStatuses?.[0]?.restartCount ?? 0;
    if (waiting?.reason && /Err|Invalid/.test(waiting.reason)) throw new Error(`${waiting.reason}: ${waiting.message ?? ''}`);
    if (waiting?.reason === 'CrashLoopBackOff' && restarts >= 2) throw new GiveUp(`${waiting.reason} after ${restarts} restarts: ${waiting.message ?? ''}`);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
  });
}

beforeAll(async () => {
  // e2e/run.sh sets this when the cluster could not be brought up: every test fails with the reason.
  if (process.env.VARMOR_E2E_UNAVAILABLE) throw new Error(`e2e cluster unavailable: ${process.env.VARMOR_E2E_UNAVAILABLE}`);
  c = clients();
  await createNamespace(optedIn, { [OPT_IN_LABEL]: 'true' });
  await createNamespace(plain, {});
});

afterAll(async () => {
  if (!c) return;
  for (const ns of [optedIn, plain]) {
    await c.core.deleteNamespace({ name: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
  }
});

describe('the deployment', () => {
  it('runs two manager replicas behind the webhook Service and an agent on every node', async () => {
    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    const d = await apps.readNamespacedDeployment({ name: 'varmor-manager', namespace: 'varmor' });
    expect(d.status?.availableReplicas).toBe(2);
    const ds = await apps.readNamespacedDaemonSet({ name: 'varmor-agent', namespace: 'varmor' });
    const nodes = await c.core.listNode();
    expect(ds.status?.numberReady).toBe(nodes.items.length);
    const slices = await c.kc.makeApiClient(k8s.DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'varmor', labelSelector: 'kubernetes.io/service-name=varmor-webhook' });
    const ready = slices.items.flatMap((s) => s.endpoints).filter((e) => e.conditions?.ready);
    expect(ready).toHaveLength(2);
  });
});

describe('CRDs', () => {
  it.each(['varmorpolicies', 'varmorclusterpolicies', 'armorprofiles', 'armorprofilemodels'])('%s are established and served by the API server', async (plural) => {
    const crd = await c.ext.readCustomResourceDefinition({ name: `${plural}.${GROUP}` });
    expect(crd.status?.conditions?.find((x) => x.type === 'Established')?.status).toBe('True');
    expect(crd.spec.versions.some((v) => v.name === VERSION && v.served)).toBe(true);
    const list = (await c.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: unknown[] };
    expect(Array.isArray(list.items)).toBe(true);
  });
});

describe('invalid policies are rejected', () => {
  it('by the CRD schema: a policy without spec.target', async () => {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'VarmorPolicy', metadata: { name: 'no-target', namespace: optedIn }, spec: { policy: { enforcer: 'Seccomp', mode: 'EnhanceProtect' } } };
    const err = await createPolicy(optedIn, body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(httpStatus(err)).toBe(422);
    expect(errorText(err)).toMatch(/spec\.target/);
  });

  it('not refused: a rule the enforcer ignores is admitted with a warning kubectl prints (as vArmor accepts it)', async () => {
    const kubectl = findKubectl();
    if (!kubectl) throw new Error('no kubectl: e2e/cluster/build.sh builds it (or set VARMOR_E2E_KUBECTL)');
    const body = policy('ignored-rule', optedIn, { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { attackProtectionRules: [{ rules: ['disable-chmod-x-bit', 'disable-shell'] }] } });
    const r = spawnSync(kubectl, ['--kubeconfig', process.env.KUBECONFIG ?? '', 'create', '-f', '-'], { input: JSON.stringify(body), encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: `varmorpolicy.crd.varmor.org/ignored-rule created` });
    expect(r.stderr).toMatch(/Warning: spec\.policy\.enhanceProtect\.attackProtectionRules\[0\]\.rules\[1\]: rule "disable-shell" is not enforced/);
    await c.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: optedIn, plural: 'varmorpolicies', name: 'ignored-rule' });
  });

  it('by the validating webhook: a rule name no schema can check', async () => {
    const body = policy('bad-rule', optedIn, { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { hardeningRules: ['no-such-rule-e2e'] } });
    const err = await createPolicy(optedIn, body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(errorText(err)).toMatch(/no-such-rule-e2e/);
    expect(errorText(err)).toMatch(/admission webhook "validate-policies\.varmor\.org" denied/);
  });
});

describe('a Seccomp policy, end to end', () => {
  let status: PolicyStatus = {};

  it('is compiled, loaded by the agent, and reaches Ready', async () => {
    const body = policy(POLICY, optedIn, {
      enforcer: 'Seccomp',
      mode: 'EnhanceProtect',
      enhanceProtect: { syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] },
    });
    await createPolicy(optedIn, body);
    status = await eventually(
      'policy Ready',
      async () => {
        const s = (await readPolicy(optedIn, POLICY)).status;
        if (s?.phase === 'Error') throw new Error(`policy phase Error: ${JSON.stringify(s.conditions)}`);
        return s?.ready === true ? s : undefined;
      },
      120_000,
    );
    expect(status.profileName).toBeTruthy();
    expect(status.phase).toBe('Protecting');
    const ap = (await c.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: optedIn,
      plural: 'armorprofiles',
      name: status.profileName as string,
    })) as { spec: { profile: { seccompContent?: string } }; status?: { conditions?: { nodeName?: string; status: string }[] } };
    expect(ap.spec.profile.seccompContent).toMatch(/mkdir/);
    expect(ap.status?.conditions?.some((x) => x.nodeName && x.status === 'True')).toBe(true);
    if (SECCOMP_ROOT) {
      // On the local cluster the node is this machine: the agent's file is where the kubelet looks.
      const file = join(SECCOMP_ROOT, 'varmor', `${status.profileName}.json`);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ defaultAction: expect.any(String) });
    }
  });

  it('mutates a Pod created in an opted-in namespace', async () => {
    const created = await c.core.createNamespacedPod({ namespace: optedIn, body: pod('demo', optedIn) });
    const sc = created.spec?.containers[0]?.securityContext;
    expect(sc?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: `varmor/${status.profileName}.json` });
    expect(created.metadata?.annotations?.['container.seccomp.security.beta.varmor.org/app']).toBe(`localhost/${status.profileName}`);
  });

  it('leaves a Pod in a namespace without the opt-in label alone', async () => {
    await createPolicy(
      plain,
      policy(POLICY, plain, { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { syscallRawRules: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] } }),
    );
    const created = await c.core.createNamespacedPod({ namespace: plain, body: pod('demo', plain) });
    expect(created.spec?.containers[0]?.securityContext?.seccompProfile).toBeUndefined();
    expect(Object.keys(created.metadata?.annotations ?? {}).filter((k) => k.includes('varmor.org'))).toEqual([]);
  });

  it('runs the mutated Pod under the kubelet with the agent-written profile: mkdir is denied, the rest works', async () => {
    await podRunning(optedIn, 'demo');
    const status2 = await exec(c.kc, optedIn, 'demo', 'app', ['sh', '-c', 'grep "^Seccomp:" /proc/self/status']);
    expect(status2.stdout).toMatch(/Seccomp:\s+2/);
    const denied = await exec(c.kc, optedIn, 'demo', 'app', ['mkdir', '/tmp/denied']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Operation not permitted/);
    // And as a user would check it, when a kubectl of the cluster's release is at hand.
    const kubectl = findKubectl();
    if (kubectl) {
      const viaKubectl = await kubectlExec(kubectl, optedIn, 'demo', 'app', ['mkdir', '/tmp/denied-too']);
      expect(viaKubectl.code).toBe(1);
      expect(viaKubectl.stderr).toMatch(/Operation not permitted/);
    } else {
      console.log('kubectl exec check not run: no kubectl (set VARMOR_E2E_KUBECTL, or e2e/cluster/build.sh builds one); checked through pods/exec above');
    }
    const allowed = await exec(c.kc, optedIn, 'demo', 'app', ['sh', '-c', 'echo ok > /tmp/file && cat /tmp/file']);
    expect(allowed).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  it('leaves mkdir alone in the unmutated Pod', async () => {
    await podRunning(plain, 'demo');
    const r = await exec(c.kc, plain, 'demo', 'app', ['sh', '-c', 'mkdir /tmp/fine && echo made']);
    expect(r).toMatchObject({ code: 0, stdout: 'made\n' });
  });

  it('cleans up when the policy is deleted: the ArmorProfile goes away', async () => {
    await c.core.deleteNamespacedPod({ name: 'demo', namespace: optedIn, gracePeriodSeconds: 0 });
    await c.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: optedIn, plural: 'varmorpolicies', name: POLICY });
    await eventually(
      'policy and ArmorProfile deleted',
      async () => {
        const gone = async (plural: string, name: string): Promise<boolean> =>
          c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: optedIn, plural, name }).then(
            () => false,
            (e: unknown) => httpStatus(e) === 404,
          );
        return (await gone('varmorpolicies', POLICY)) && (await gone('armorprofiles', status.profileName as string)) ? true : undefined;
      },
      90_000,
    );
    if (SECCOMP_ROOT) {
      const file = join(SECCOMP_ROOT, 'varmor', `${status.profileName}.json`);
      await eventually(`${file} removed by the agent`, async () => (existsSync(file) ? undefined : true));
    }
    // New Pods in the namespace stop getting the deleted profile (once the webhook's informer has seen it).
    let n = 0;
    await eventually('a new Pod is created unmutated', async () => {
      const after = await c.core.createNamespacedPod({ namespace: optedIn, body: pod(`after-${n++}`, optedIn) });
      return after.spec?.containers[0]?.securityContext?.seccompProfile === undefined ? true : undefined;
    });
  });
});

describe('a BPF + Seccomp policy: the OCI hook path', () => {
  const NAME = 'bpf-seccomp';
  const BPF_APP = { app: 'e2e-bpf' };

  it('annotates the Pod for the agent, which lets the hook start it bound to its policy', async () => {
    await createPolicy(
      optedIn,
      policy(
        NAME,
        optedIn,
        { enforcer: 'BPFSeccomp', mode: 'EnhanceProtect', enhanceProtect: { syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } },
        { kind: 'Pod', selector: { matchLabels: BPF_APP } },
      ),
    );
    const st = await eventually(
      'BPF policy Ready',
      async () => {
        const s = (await readPolicy(optedIn, NAME)).status;
        if (s?.phase === 'Error') throw new Error(`policy phase Error: ${JSON.stringify(s.conditions)}`);
        return s?.ready === true ? s : undefined;
      },
      120_000,
    );
    const body = pod('bpf-demo', optedIn);
    body.metadata!.labels = BPF_APP;
    const created = await c.core.createNamespacedPod({ namespace: optedIn, body });
    expect(created.metadata?.annotations?.['container.bpf.security.beta.varmor.org/app']).toBe(`localhost/${st.profileName}`);
    expect(created.spec?.containers[0]?.securityContext?.seccompProfile?.localhostProfile).toBe(`varmor/${st.profileName}.json`);
    // runc runs varmor-hook at createRuntime; it fails closed for BPF-annotated containers unless the agent answers.
    await podRunning(optedIn, 'bpf-demo');
    const denied = await exec(c.kc, optedIn, 'bpf-demo', 'app', ['mkdir', '/tmp/denied']);
    expect(denied.stderr).toMatch(/Operation not permitted/);
  });
});

describe('an AppArmor policy on a node without AppArmor', () => {
  // The local cluster's node is this machine; elsewhere (kind) the node's kernel is not visible from here.
  // The same test the kubelet and runc make: AppArmor is usable when this module parameter says Y.
  const enabled = '/sys/module/apparmor/parameters/enabled';
  const noAppArmor = SECCOMP_ROOT !== undefined && !(existsSync(enabled) && readFileSync(enabled, 'utf8').startsWith('Y'));

  it(`is Ready, the agent naming the enforcer it could not load (${noAppArmor ? 'this node has no AppArmor' : 'the node kernel is not checked from here: entries must be True'})`, async () => {
    const NAME = 'apparmor-seccomp';
    await createPolicy(
      optedIn,
      policy(NAME, optedIn, { enforcer: 'AppArmorSeccomp', mode: 'EnhanceProtect', enhanceProtect: { hardeningRules: ['disallow-mount'] } }, { kind: 'Pod', selector: { matchLabels: { app: 'e2e-apparmor' } } }),
    );
    const st = await eventually(
      'AppArmor policy Ready',
      async () => {
        const s = (await readPolicy(optedIn, NAME)).status;
        if (s?.phase === 'Error') throw new Error(`policy phase Error: ${JSON.stringify(s.conditions)}`);
        return s?.ready === true ? s : undefined;
      },
      120_000,
    );
    const ap = (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: optedIn, plural: 'armorprofiles', name: st.profileName as string })) as {
      status?: { conditions?: { nodeName?: string; status: string; reason?: string; message?: string }[] };
    };
    const entries = ap.status?.conditions?.filter((x) => x.nodeName) ?? [];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.status).toBe('True');
      if (noAppArmor) {
        expect(e.reason).toBe('EnforcerUnavailable');
        expect(e.message).toMatch(/AppArmor/);
      }
    }
  });
});

describe('Seccomp violations reach the violation log (issue 18)', () => {
  it('an SCMP_ACT_LOG rule: the agent reports the container\'s mkdir as an AUDIT violation with pod, container, profile and syscall', async () => {
    const NAME = 'seccomp-log';
    const APP = { app: 'e2e-seccomp-log' };
    await createPolicy(optedIn, policy(NAME, optedIn, { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_LOG' }] } }, { kind: 'Pod', selector: { matchLabels: APP } }));
    await eventually('policy Ready', async () => ((await readPolicy(optedIn, NAME)).status?.ready ? true : undefined), 120_000);
    const body = pod('seccomp-log', optedIn);
    body.metadata!.labels = APP;
    await c.core.createNamespacedPod({ namespace: optedIn, body });
    await podRunning(optedIn, 'seccomp-log');
    const made = await exec(c.kc, optedIn, 'seccomp-log', 'app', ['mkdir', '/tmp/logged']);
    expect(made.code).toBe(0); // logged, not denied
    const agents = await c.core.listNamespacedPod({ namespace: 'varmor', labelSelector: 'app.kubernetes.io/name=varmor-agent' });
    const v = await eventually(
      'the Seccomp violation in an agent log',
      async () => {
        for (const a of agents.items) {
          const text = String(await c.core.readNamespacedPodLog({ name: a.metadata!.name!, namespace: 'varmor', container: 'agent' }));
          for (const line of text.split('\n')) {
            if (!line.includes('"enforcer":"Seccomp"')) continue;
            const rec = JSON.parse(line) as { pod?: string; action?: string; container?: string; profileName?: string; rule?: { syscall?: string; filterAction?: string } };
            if (rec.pod === 'seccomp-log') return rec;
          }
        }
        return undefined;
      },
      30_000,
    ).catch(async (err: unknown) => {
      // say what the agents did say: their log lines about the kernel log and this pod
      for (const a of agents.items) {
        const text = String(await c.core.readNamespacedPodLog({ name: a.metadata!.name!, namespace: 'varmor', container: 'agent' }));
        const lines = text.split('\n').filter((l) => /kernel log|seccomp-log|event pump/.test(l));
        console.log(`agent ${a.metadata!.name}:\n${lines.slice(-15).join('\n')}`);
      }
      throw err;
    });
    expect(v).toMatchObject({ action: 'AUDIT', container: 'app', profileName: `varmor-${optedIn}-${NAME}`, rule: { filterAction: 'SCMP_ACT_LOG' } });
    expect(['mkdir', 'mkdirat']).toContain(v.rule?.syscall);
  });
});

describe('Ready means protected (issue 18)', () => {
  // The local cluster's node is this machine: no AppArmor in its kernel, and BPF LSM programs refused
  // (machine.md), so the agent runs the audit-only programs. Elsewhere the node entries decide.
  const enabled = '/sys/module/apparmor/parameters/enabled';
  const localNode = SECCOMP_ROOT !== undefined;
  const noAppArmor = localNode && !(existsSync(enabled) && readFileSync(enabled, 'utf8').startsWith('Y'));

  type Entry = { nodeName?: string; status: string; reason?: string; message?: string };
  async function nodeEntries(profileName: string): Promise<Entry[]> {
    const ap = (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: optedIn, plural: 'armorprofiles', name: profileName })) as { status?: { conditions?: Entry[] } };
    return ap.status?.conditions?.filter((x) => x.nodeName) ?? [];
  }
  /** The policy once every node entry is in and the status reflects them. */
  async function settled(name: string, profileName: string, entriesWanted: (e: Entry[]) => boolean): Promise<{ status: PolicyStatus; entries: Entry[] }> {
    return eventually(`policy ${name} settled`, async () => {
      const entries = await nodeEntries(profileName);
      const status = (await readPolicy(optedIn, name)).status;
      if (!status || !entriesWanted(entries)) return undefined;
      const ready = status.conditions?.find((x) => x.type === 'Ready');
      return ready && (status.ready ?? false) === (ready.status === 'True') && status.phase !== 'Pending' ? { status, entries } : undefined;
    }, 120_000);
  }
  const readyCondition = (s: PolicyStatus) => s.conditions?.find((x) => x.type === 'Ready');

  it(`an AppArmor-only policy is Ready only where AppArmor enforces (${noAppArmor ? 'this node has none: not Ready, naming node and enforcer' : 'entries decide'})`, async () => {
    const NAME = 'apparmor-only';
    await createPolicy(optedIn, policy(NAME, optedIn, { enforcer: 'AppArmor', mode: 'EnhanceProtect', enhanceProtect: { hardeningRules: ['disallow-mount'] } }, { kind: 'Pod', selector: { matchLabels: { app: 'e2e-apparmor-only' } } }));
    const profileName = `varmor-${optedIn}-${NAME}`;
    const { status, entries } = await settled(NAME, profileName, (e) => e.length > 0);
    const cond = readyCondition(status)!;
    const unprotected = entries.filter((e) => e.status === 'False');
    if (noAppArmor) {
      expect(unprotected.map((e) => e.reason)).toEqual(entries.map(() => 'NotProtected'));
      expect(status).toMatchObject({ ready: false, phase: 'Error' });
      expect(cond).toMatchObject({ status: 'False', reason: 'EnforcerUnavailable' });
      expect(cond.message).toContain(entries[0].nodeName);
      expect(cond.message).toMatch(/AppArmor: kernel has no AppArmor/);
    } else {
      expect(status.ready).toBe(unprotected.length === 0);
    }
  });

  it(`a BPF-only policy is not Ready once a target runs where BPF only audits (${localNode ? 'this node' : 'entries decide'})`, async () => {
    const NAME = 'bpf-only';
    const APP = { app: 'e2e-bpf-only' };
    await createPolicy(optedIn, policy(NAME, optedIn, { enforcer: 'BPF', mode: 'EnhanceProtect', enhanceProtect: { attackProtectionRules: [{ rules: ['disable-write-etc'] }] } }, { kind: 'Pod', selector: { matchLabels: APP } }));
    const profileName = `varmor-${optedIn}-${NAME}`;
    const body = pod('bpf-only', optedIn);
    body.metadata!.labels = APP;
    await c.core.createNamespacedPod({ namespace: optedIn, body });
    await podRunning(optedIn, 'bpf-only');
    // the tables are placed with the first target on a node: its entry appears then
    const { status, entries } = await settled(NAME, profileName, (e) => e.length > 0);
    const cond = readyCondition(status)!;
    if (localNode) {
      expect(entries.map((e) => [e.status, e.reason])).toEqual([['False', 'NotProtected']]);
      expect(entries[0].message).toMatch(/BPF: .*record only/);
      expect(status).toMatchObject({ ready: false, phase: 'Error' });
      expect(cond).toMatchObject({ status: 'False', reason: 'EnforcerUnavailable' });
      expect(cond.message).toMatch(/BPF: .*record only/);
    } else {
      expect(status.ready).toBe(entries.every((e) => e.status === 'True'));
    }
  });
});

describe('a Deployment target: the controller-manager and scheduler path', () => {
  it('sandboxes the pods the ReplicaSet creates for the targeted Deployment', async () => {
    const NAME = 'web';
    const labels = { app: 'e2e-web' };
    await createPolicy(
      optedIn,
      policy(
        'deploy-policy',
        optedIn,
        { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { syscallRawRules: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } },
        { kind: 'Deployment', selector: { matchLabels: labels } },
      ),
    );
    const st = await eventually('Deployment policy Ready', async () => {
      const s = (await readPolicy(optedIn, 'deploy-policy')).status;
      return s?.ready === true ? s : undefined;
    });
    const apps = c.kc.makeApiClient(k8s.AppsV1Api);
    const template = pod('unused', optedIn);
    await apps.createNamespacedDeployment({
      namespace: optedIn,
      body: {
        metadata: { name: NAME, labels },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: template.spec } },
      },
    });
    const p = await eventually('a running pod of the Deployment', async () => {
      const list = await c.core.listNamespacedPod({ namespace: optedIn, labelSelector: 'app=e2e-web' });
      const running = list.items.find((x) => x.status?.phase === 'Running' && x.status.containerStatuses?.[0]?.ready);
      return running;
    });
    expect(p.spec?.nodeName).toBeTruthy();
    expect(p.spec?.containers[0]?.securityContext?.seccompProfile).toEqual({ type: 'Localhost', localhostProfile: `varmor/${st.profileName}.json` });
    const denied = await exec(c.kc, optedIn, p.metadata?.name as string, 'app', ['mkdir', '/tmp/denied']);
    expect(denied.stderr).toMatch(/Operation not permitted/);
  });
});
