// The deployment manifests as rendered by deploy.ts: every object valid against Kubernetes' OpenAPI
// schemas (kubernetes-models), and the properties the design promises: opt-in webhook scoping that can
// never block varmor itself, least-privilege RBAC, an unprivileged agent, the certificate wired through.

import { describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { generateBundle } from '../certs/index.js';
import { LABEL_NODE } from '../profiler/index.js';
import { BINDING_KEY_SECRET, bindingKeySecret, renderManifests } from './deploy.js';
import { cleanupPod } from './undeploy.js';

const bundle = generateBundle({ serviceName: 'varmor-webhook', namespace: 'varmor' });
const objs = renderManifests({ image: 'localhost/varmor/varmor-ts:test', containerdSocket: '/x/containerd.sock', seccompRoot: '/x/seccomp' }, bundle);
const byKind = (kind: string): Record<string, unknown>[] => objs.filter((o) => o.kind === kind) as Record<string, unknown>[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML; the schema test types them
const one = (kind: string, name?: string): any => byKind(kind).find((o) => !name || (o.metadata as { name: string }).name === name);

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  Namespace,
  ServiceAccount,
  Secret,
  Service,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  Deployment,
  DaemonSet,
  PodDisruptionBudget,
  MutatingWebhookConfiguration,
  ValidatingWebhookConfiguration,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
};

describe('rendered manifests', () => {
  it.each(objs.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))('%s is valid against the Kubernetes schema', (_name, o) => {
    const Model = MODELS[o.kind as string];
    expect(Model).toBeDefined();
    expect(() => new Model(o as never).validate()).not.toThrow();
  });

  it('scopes the Pod webhook to opted-in namespaces, never varmor or kube-system', () => {
    const w = one('MutatingWebhookConfiguration').webhooks[0];
    expect(w.rules).toEqual([
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
      { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' },
    ]);
    expect(w.namespaceSelector.matchExpressions).toEqual(
      expect.arrayContaining([
        { key: 'sandbox.varmor.org/enable', operator: 'In', values: ['true'] },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['varmor', 'kube-system'] },
      ]),
    );
    expect(w).toMatchObject({ failurePolicy: 'Fail', reinvocationPolicy: 'IfNeeded', sideEffects: 'None', admissionReviewVersions: ['v1'] });
    expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
  });

  it('fills both caBundles with the CA that signed the Secret\'s serving certificate', () => {
    const secret = one('Secret', 'varmor-webhook-tls');
    const serving = forge.pki.certificateFromPem(Buffer.from(secret.data['tls.crt'], 'base64').toString());
    for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      const ca = forge.pki.certificateFromPem(Buffer.from(one(kind).webhooks[0].clientConfig.caBundle, 'base64').toString());
      expect(ca.verify(serving)).toBe(true);
    }
    const san = serving.getExtension('subjectAltName') as { altNames: { value?: string }[] };
    expect(san.altNames.map((a) => a.value)).toContain('varmor-webhook.varmor.svc');
  });

  it('grants no wildcard, no secrets, no exec, and no pod writes', () => {
    for (const role of [...byKind('ClusterRole'), ...byKind('Role')]) {
      for (const rule of (role as { rules: { resources: string[]; verbs: string[] }[] }).rules) {
        expect(rule.verbs).not.toContain('*');
        expect(rule.resources).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
        expect(rule.resources).not.toContain('pods/exec');
        if (rule.resources.includes('pods')) expect(['get', 'list', 'watch']).toEqual(expect.arrayContaining(rule.verbs));
      }
    }
  });

  it('grants only what the code calls (issue 16, item 8): no node reads, no patch of our resources, agent model writes without list', () => {
    const rules = (name: string) => (one('ClusterRole', name).rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]);
    const verbsOf = (name: string, resource: string) => rules(name).filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs);
    expect(rules('varmor-agent').some((r) => r.resources.includes('nodes'))).toBe(false);
    expect(verbsOf('varmor-agent', 'armorprofilemodels').sort()).toEqual(['create', 'get', 'update']);
    expect(verbsOf('varmor-agent', 'armorprofiles/status').sort()).toEqual(['get', 'update']);
    // pods: a deletion waits for those using its profile; pods, services, endpointslices: egress rules
    expect(verbsOf('varmor-manager', 'pods')).toEqual(['list', 'watch']);
    expect(verbsOf('varmor-manager', 'services')).toEqual(['list', 'watch']);
    expect(verbsOf('varmor-manager', 'endpointslices')).toEqual(['list', 'watch']);
    for (const role of ['varmor-manager', 'varmor-agent']) {
      for (const r of rules(role)) if (r.apiGroups.includes('crd.varmor.org')) expect(r.verbs).not.toContain('patch');
    }
  });

  it("binds the agent's writes to its own node with a ValidatingAdmissionPolicy (e2e/controller/agent-rbac.test.ts proves it)", () => {
    const vap = one('ValidatingAdmissionPolicy', 'varmor-agent-node-scope');
    const binding = one('ValidatingAdmissionPolicyBinding', 'varmor-agent-node-scope');
    expect(binding.spec).toEqual({ policyName: 'varmor-agent-node-scope', validationActions: ['Deny'] });
    expect(vap.spec.failurePolicy).toBe('Fail');
    expect(vap.spec.matchConditions[0].expression).toContain("'system:serviceaccount:varmor:varmor-agent'");
    // the YAML cannot import LABEL_NODE: hold the two spellings together here
    const text = JSON.stringify(vap.spec);
    expect(text).toContain(`'${LABEL_NODE}'`);
    expect(text.match(/'varmor\.org\/[a-z-]+'/g)?.every((l) => l === `'${LABEL_NODE}'`)).toBe(true);
    // applied before the agent that it constrains
    const kinds = objs.map((o) => o.kind);
    expect(kinds.indexOf('ValidatingAdmissionPolicy')).toBeLessThan(kinds.indexOf('DaemonSet'));
  });

  it('mounts the binding key read-only into the manager and the agent and passes --binding-key', () => {
    for (const [kind, name] of [['Deployment', 'varmor-manager'], ['DaemonSet', 'varmor-agent']]) {
      const spec = one(kind, name).spec.template.spec;
      const vol = spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === BINDING_KEY_SECRET);
      expect(vol).toBeDefined();
      const c = spec.containers[0];
      const mount = c.volumeMounts.find((m: { name: string }) => m.name === vol.name);
      expect(mount).toMatchObject({ mountPath: '/etc/varmor/binding', readOnly: true });
      expect(c.args).toContain('--binding-key=/etc/varmor/binding/key');
    }
  });

  it('makes a binding key Secret of 32 random bytes in hex (deploy.ts creates it only when absent)', () => {
    const a = bindingKeySecret();
    const b = bindingKeySecret();
    const key = Buffer.from(a.data!.key, 'base64').toString();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(a.data!.key).not.toBe(b.data!.key);
    expect(new Secret(a as never).validate()).toBeUndefined();
    expect(a.metadata).toMatchObject({ name: BINDING_KEY_SECRET, namespace: 'varmor' });
  });

  it('runs the manager as two unprivileged, read-only replicas', () => {
    const d = one('Deployment', 'varmor-manager');
    expect(d.spec.replicas).toBe(2);
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe('localhost/varmor/varmor-ts:test');
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('gives the agent named capabilities, not privileged, and the node paths chosen at deploy time', () => {
    const ds = one('DaemonSet', 'varmor-agent');
    const spec = ds.spec.template.spec;
    const c = spec.containers[0];
    expect(c.securityContext.privileged).toBe(false);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['BPF', 'PERFMON', 'MAC_ADMIN', 'SYSLOG'] });
    expect(spec.hostNetwork).toBeUndefined();
    const hostPaths = Object.fromEntries(spec.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { name: string; hostPath: { path: string } }) => [v.name, v.hostPath.path]));
    expect(hostPaths).toEqual({
      'seccomp-root': '/x/seccomp',
      'containerd-sock': '/x/containerd.sock',
      'run-varmor': '/run/varmor',
      cgroup: '/sys/fs/cgroup',
      bpffs: '/sys/fs/bpf',
      securityfs: '/sys/kernel/security',
    });
    const cgroupMount = c.volumeMounts.find((m: { name: string }) => m.name === 'cgroup');
    expect(cgroupMount.readOnly).toBe(true);
  });
});

describe('the uninstall pod (manifests/undeploy.ts)', () => {
  it('runs varmor uninstall on its node with the agent image, host paths and path flags, and no API access', () => {
    const ds = one('DaemonSet', 'varmor-agent');
    const p = cleanupPod(ds, 'node-a');
    new Pod(p as ConstructorParameters<typeof Pod>[0]).validate();
    const spec = p.spec!;
    expect(spec.nodeName).toBe('node-a');
    expect(spec.restartPolicy).toBe('Never');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    const c = spec.containers[0];
    expect(c.image).toBe('localhost/varmor/varmor-ts:test');
    expect(c.args).toEqual(['uninstall', '--seccomp-root=/var/lib/kubelet/seccomp', '--hook-socket=/run/varmor/hook.sock', '--pin-path=/sys/fs/bpf/varmor']);
    expect(c.securityContext?.capabilities).toEqual({ drop: ['ALL'], add: ['MAC_ADMIN'] });
    const hostPaths = Object.fromEntries((spec.volumes ?? []).map((v) => [v.name, v.hostPath?.path]));
    expect(hostPaths).toEqual({ 'seccomp-root': '/x/seccomp', 'run-varmor': '/run/varmor', bpffs: '/sys/fs/bpf', securityfs: '/sys/kernel/security' });
    expect(c.volumeMounts?.map((m) => m.name).sort()).toEqual(['bpffs', 'run-varmor', 'seccomp-root', 'securityfs']);
  });
});
