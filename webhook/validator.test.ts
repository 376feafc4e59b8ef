// The attacker of issue 16 item 1 at admission: a tenant picks a policy name whose profile name
// or BPF policy id is another namespace's, to replace or unload that namespace's profile.
import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy } from '../profiler/index.js';
import { bpfPolicyId, profileName } from '../profiler/index.js';
import { findCollidingName } from '../testing/fnv-collide.js';
import { handleValidate } from './admission/handlers.js';
import { PolicyStore } from './sources/store.js';
import { admissionValidator, profilerValidator } from './validator.js';

const policy = (namespace: string | undefined, name: string): AnyPolicy =>
  ({
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: namespace === undefined ? 'VarmorClusterPolicy' : 'VarmorPolicy',
    metadata: namespace === undefined ? { name } : { name, namespace },
    spec: { target: { kind: 'Deployment', name: 'web' }, policy: { enforcer: 'BPF', mode: 'RuntimeDefault' } },
  }) as AnyPolicy;

/** The webhook as main.ts wires it: a store of the policies in force and /validate over it. */
function webhook(existing: AnyPolicy[]) {
  const base = profilerValidator();
  const store = new PolicyStore({ validate: base.validatePolicy });
  for (const p of existing) expect(store.upsert(p, 'cluster:test').ok).toBe(true);
  const validator = admissionValidator(base, () => store.policies().list());
  return (operation: 'CREATE' | 'UPDATE', object: AnyPolicy) =>
    handleValidate(
      {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: 'u',
          kind: { group: 'crd.varmor.org', version: 'v1beta1', kind: object.kind },
          operation,
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          object,
          oldObject: operation === 'UPDATE' ? object : undefined,
        },
      },
      validator,
    );
}

const message = (r: ReturnType<ReturnType<typeof webhook>>): string => (r.body as { response: { status?: { message?: string } } }).response.status?.message ?? '';

describe('the validating webhook refuses profile-name and BPF-id collisions', () => {
  it('refuses ns team-prod policy web while ns team policy prod-web exists (same profile name)', () => {
    const validate = webhook([policy('team', 'prod-web')]);
    const r = validate('CREATE', policy('team-prod', 'web'));
    expect(r.outcome).toBe('denied');
    expect(message(r)).toContain('profile name varmor-team-prod-web is already used by VarmorPolicy team/prod-web');
    // an UPDATE of the intruder (it slipped in while the webhook was down) is refused too
    expect(webhook([policy('team', 'prod-web'), policy('team-prod', 'web')])('UPDATE', policy('team-prod', 'web')).outcome).toBe('denied');
  });

  it('refuses a namespaced policy that takes a cluster policy profile name', () => {
    const r = webhook([policy(undefined, 'base')])('CREATE', policy('cluster-varmor', 'base'));
    expect(r.outcome).toBe('denied');
    expect(message(r)).toContain('is already used by VarmorClusterPolicy base');
  });

  it('refuses a policy name chosen so its BPF policy id is another namespace policy id', () => {
    const victim = policy('victim', 'web');
    const name = findCollidingName('varmor-attacker-', bpfPolicyId(profileName({ kind: 'VarmorPolicy', namespace: 'victim', name: 'web' })));
    expect(name).toBeDefined();
    const r = webhook([victim])('CREATE', policy('attacker', name as string));
    expect(r.outcome).toBe('denied');
    expect(message(r)).toMatch(/BPF policy id \d+ of profile varmor-attacker-\w+ is already used by VarmorPolicy victim\/web/);
  });

  it('allows the policy itself to be updated, and unrelated policies', () => {
    const validate = webhook([policy('team', 'prod-web')]);
    expect(validate('UPDATE', policy('team', 'prod-web')).outcome).toBe('allowed');
    expect(validate('CREATE', policy('team', 'api')).outcome).toBe('allowed');
    expect(validate('CREATE', policy('other', 'prod-web')).outcome).toBe('allowed');
  });
});
