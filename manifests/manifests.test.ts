// The deployment manifests as rendered by deploy.ts: every object valid against Kubernetes' OpenAPI
// schemas (kubernetes-models), and the properties the design promises: opt-in webhook scoping that can
// never block varmor itself, least-privilege RBAC, an unprivileged agent, the certificate wired through.

import { describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { generateBundle } from '../certs/index.js';
import { renderManifests } from './deploy.js';

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
};

describe('rendered manifests', () => {
  it.each(objs.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))('%s is valid against the Kubernetes schema', (_name, o) => {
    const Model = MODELS[o.kind as string];
    expect(Model).toBeDefined();
    expect(() => new Model(o as never).validate()).not.toThrow();
  });

  it('scopes the Pod webhook to opted-in namespaces, never varmor or kube-system', () => {
    const w = one('MutatingWebhookConfiguration').webhooks[0];
    expect(w.rules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]);
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
        if (rule.resources.includes('pods')) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      }
    }
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
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['BPF', 'PERFMON', 'MAC_ADMIN'] });
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
