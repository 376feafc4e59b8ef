// Tenant isolation at admission (issue 16), played as the attacker: a pod author in an opted-in
// namespace who writes our annotations, opts out of a binding cluster policy, or relies on a
// namespaced policy to beat the cluster administrator's. Each case was seen failing before the fix.
import { describe, expect, it } from '@jest/globals';
import jsonpatch from 'fast-json-patch';
import type { AnyPolicy, Enforcer, Target } from '../../profiler/api/types.js';
import { BINDING_POLICY_ANNOTATION } from '../../profiler/api/well-known.js';
import { bindingAnnotation, signBinding, verifyBinding } from '../../profiler/binding.js';
import { mutatePod, PolicyIndex, preparePolicy, type MutationOptions, type Pod, type SecurityContext } from './index.js';

const ALL: Enforcer[] = ['AppArmor', 'BPF', 'Seccomp'];
const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const OPTED = { 'sandbox.varmor.org/enable': 'true' };
const BPF_A = 'container.bpf.security.beta.varmor.org/app';
const AA_A = 'container.apparmor.security.beta.varmor.org/app';
const SC_A = 'container.seccomp.security.beta.varmor.org/app';

function policy(name: string, target: Target, namespace?: string, annotations?: Record<string, string>): AnyPolicy {
  const spec = { target, policy: { enforcer: 'AppArmorBPFSeccomp', mode: 'EnhanceProtect' } };
  return namespace === undefined
    ? { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name, annotations }, spec }
    : { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorPolicy', metadata: { name, namespace, annotations }, spec };
}
const index = (...ps: AnyPolicy[]) => new PolicyIndex(ps.map((p) => preparePolicy(p, ALL)));
const byLabel: Target = { kind: 'Pod', selector: { matchLabels: { app: 'web' } } };

function pod(annotations?: Record<string, string>, sc?: SecurityContext, podSc?: Pod['spec']['securityContext']): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'team-a', labels: { app: 'web' }, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'app', image: 'nginx', ...(sc ? { securityContext: sc } : {}) }], ...(podSc ? { securityContext: podSc } : {}) },
  };
}

function run(p: Pod, policies: PolicyIndex, options: MutationOptions = {}) {
  const res = mutatePod({ pod: p, namespace: 'team-a', namespaceLabels: OPTED, policies, options });
  const patched = jsonpatch.applyPatch(structuredClone(p), structuredClone(res.ops) as jsonpatch.Operation[], true, false).newDocument as Pod;
  return { res, patched, annotations: patched.metadata?.annotations ?? {} };
}

describe('the webhook owns our annotations', () => {
  it('removes a pod-authored reference to another namespace\'s profile when no policy targets the Pod', () => {
    const forged = pod({ [BPF_A]: 'localhost/varmor-team-b-secret', 'example.com/keep': 'x' });
    const { annotations } = run(forged, index(policy('other', { kind: 'Pod', name: 'nothing-here' }, 'team-a')));
    expect(annotations[BPF_A]).toBeUndefined();
    expect(annotations['example.com/keep']).toBe('x');
  });

  it('removes forged references even with no policy in force, and for containers a policy skips', () => {
    const forged = pod({ [AA_A]: 'localhost/varmor-team-b-x', [bindingAnnotation('app')]: 'v1.forged', [`${BPF_A.slice(0, -3)}ghost`]: 'localhost/y' });
    const { annotations } = run(forged, index());
    expect(annotations).toEqual({});
  });

  it('overwrites a forged reference for a container a policy confines, and keeps the unconfined opt-out elsewhere', () => {
    const forged = pod({ [BPF_A]: 'localhost/varmor-team-b-secret', 'container.bpf.security.beta.varmor.org/side': 'unconfined' });
    const { annotations, res } = run(forged, index(policy('web', byLabel, 'team-a')));
    expect(annotations[BPF_A]).toBe('localhost/varmor-team-a-web');
    expect(annotations['container.bpf.security.beta.varmor.org/side']).toBe('unconfined');
    // Idempotent: the patched Pod gives no operation.
    expect(run(run(forged, index(policy('web', byLabel, 'team-a'))).patched, index(policy('web', byLabel, 'team-a'))).res.ops).toEqual([]);
    expect(res.decisions[0].applied).toEqual(['AppArmor', 'Seccomp', 'BPF']);
  });

  it('signs the final references of each confined container with the binding key, idempotently', () => {
    const policies = index(policy('web', byLabel, 'team-a'));
    const { annotations, patched } = run(pod({ [bindingAnnotation('app')]: 'v1.forged' }), policies, { bindingKey: KEY });
    const refs = { AppArmor: annotations[AA_A], BPF: annotations[BPF_A], Seccomp: annotations[SC_A] };
    expect(refs.BPF).toBe('localhost/varmor-team-a-web');
    expect(annotations[bindingAnnotation('app')]).toBe(signBinding(KEY, 'team-a', 'app', refs));
    expect(verifyBinding(KEY, 'team-a', 'app', refs, annotations[bindingAnnotation('app')])).toBe(true);
    expect(run(patched, policies, { bindingKey: KEY }).res.ops).toEqual([]);
    // Without a key: no signature at all (embedded mode).
    expect(run(pod(), policies).annotations[bindingAnnotation('app')]).toBeUndefined();
  });
});

describe('cluster policies come first; binding cluster policies cannot be opted out of', () => {
  it('a VarmorClusterPolicy beats a VarmorPolicy of the namespace', () => {
    const { res, annotations } = run(pod(), index(policy('weak', byLabel, 'team-a'), policy('admin', byLabel)));
    expect(res.decisions[0].policy).toBe('VarmorClusterPolicy/admin');
    expect(annotations[BPF_A]).toBe('localhost/varmor-cluster-varmor-admin');
  });

  const binding = () => index(policy('admin', byLabel, undefined, { [BINDING_POLICY_ANNOTATION]: 'true' }));

  it('writes its profiles over the opt-out annotations', () => {
    const { annotations, res } = run(pod({ [BPF_A]: 'unconfined', [AA_A]: 'unconfined', [SC_A]: 'unconfined' }), binding());
    expect(annotations[BPF_A]).toBe('localhost/varmor-cluster-varmor-admin');
    expect(annotations[AA_A]).toBe('localhost/varmor-cluster-varmor-admin');
    expect(annotations[SC_A]).toBe('localhost/varmor-cluster-varmor-admin');
    expect(res.decisions[0].applied).toEqual(['AppArmor', 'Seccomp', 'BPF']);
    expect(res.decisions[0].overrides?.length).toBe(3);
  });

  it('writes its profiles over Unconfined and other Localhost profiles on the container and the Pod, and the legacy annotation', () => {
    const attacker = pod(
      { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
      { appArmorProfile: { type: 'Unconfined' }, seccompProfile: { type: 'Localhost', localhostProfile: 'permissive.json' } },
      { seccompProfile: { type: 'Unconfined' }, appArmorProfile: { type: 'Unconfined' } },
    );
    const { patched, annotations, res } = run(attacker, binding());
    expect(patched.spec.containers[0].securityContext).toMatchObject({
      appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-cluster-varmor-admin' },
      seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-cluster-varmor-admin.json' },
    });
    expect(annotations['container.apparmor.security.beta.kubernetes.io/app']).toBe('localhost/varmor-cluster-varmor-admin');
    expect(res.decisions[0].overrides?.length).toBeGreaterThanOrEqual(2);
    expect(run(patched, binding()).res.ops).toEqual([]);
    // Pod-level only: the container gets its own field.
    const podLevel = run(pod(undefined, undefined, { seccompProfile: { type: 'Unconfined' } }), binding());
    expect(podLevel.patched.spec.containers[0].securityContext?.seccompProfile?.localhostProfile).toBe('varmor/varmor-cluster-varmor-admin.json');
  });

  it('still skips Seccomp for a privileged container, and says so', () => {
    const { res } = run(pod(undefined, { privileged: true }), binding());
    expect(res.decisions[0].skipped).toEqual([{ enforcer: 'Seccomp', reason: expect.stringContaining('privileged') }]);
  });

  it('a non-binding cluster policy still honours the opt-out', () => {
    const { annotations } = run(pod({ [BPF_A]: 'unconfined' }), index(policy('admin', byLabel)));
    expect(annotations[BPF_A]).toBe('unconfined');
  });
});
