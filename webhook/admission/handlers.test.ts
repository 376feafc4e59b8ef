import { describe, expect, it } from '@jest/globals';
import { BINDING_POLICY_ANNOTATION } from '../../profiler/api/well-known.js';
import { bindingAnnotation, signBinding } from '../../profiler/binding.js';
import { preparePolicy } from '../mutate/policies.js';
import { PolicyIndex } from '../mutate/policy-index.js';
import type { Pod } from '../mutate/types.js';
import { handleMutate, handleValidate, type PolicyValidator } from './handlers.js';
import { parseReview, ReviewError } from './review.js';

const state = { policies: () => PolicyIndex.empty, namespaceLabels: () => undefined, options: {} };
const review = (request: unknown) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

describe('parseReview', () => {
  it('names the field that makes a review unanswerable', () => {
    const cases: [unknown, string, string][] = [
      [null, 'VARMOR_ERR_REVIEW_NOT_OBJECT', 'body'],
      [review({ uid: 'u', kind: { kind: 'Pod' }, operation: 'CREATE', namespace: 7 }), 'VARMOR_ERR_REVIEW_FIELD_TYPE', 'request.namespace'],
      [review({ uid: 'u', kind: 'Pod', operation: 'CREATE' }), 'VARMOR_ERR_REVIEW_FIELD_TYPE', 'request.kind'],
      [review({ uid: 'u', kind: { kind: 'Pod' } }), 'VARMOR_ERR_REVIEW_FIELD_TYPE', 'request.operation'],
      [review({ uid: 'x'.repeat(300), kind: { kind: 'Pod' }, operation: 'CREATE' }), 'VARMOR_ERR_REVIEW_NO_UID', 'request.uid'],
    ];
    for (const [body, code, field] of cases) {
      let err: unknown;
      try {
        parseReview(body);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ReviewError);
      expect(err).toMatchObject({ code, field, statusCode: 400 });
    }
  });

  it('treats a null namespace or object as absent', () => {
    const req = parseReview(review({ uid: 'u', kind: { kind: 'Pod' }, operation: 'CREATE', namespace: null, object: null }));
    expect(req).toMatchObject({ uid: 'u', namespace: undefined, object: undefined, kind: { group: '', version: '', kind: 'Pod' } });
  });
});

describe('handlers', () => {
  it('ignores Pod subresources other than ephemeralcontainers, and other groups', () => {
    const sub = handleMutate(review({ uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'UPDATE', subResource: 'status', object: {} }), state);
    expect(sub.outcome).toBe('ignored');
    const other = handleMutate(review({ uid: 'u', kind: { group: 'example.com', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: {} }), state);
    expect(other.outcome).toBe('ignored');
  });

  it('refuses a policy the validator cannot read (a throwing stand-in for a validator bug)', () => {
    const throwing: PolicyValidator = {
      validatePolicy: () => {
        throw new TypeError('Cannot convert object to primitive value');
      },
    };
    const res = handleValidate(
      review({ uid: 'u', kind: { group: 'crd.varmor.org', version: 'v1beta1', kind: 'VarmorPolicy' }, operation: 'CREATE', object: { metadata: { name: [{}] } } }),
      throwing,
    );
    expect(res.outcome).toBe('malformed');
    expect(res.body).toMatchObject({ response: { uid: 'u', allowed: false, status: { code: 400, message: 'request.object: cannot be validated: Cannot convert object to primitive value' } } });
  });
});

// --- Attacks (issue 16), each seen failing before the fix ---------------------------------------

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const REF = 'localhost/varmor-team-a-web';
const podKind = { group: '', version: 'v1', kind: 'Pod' };

describe('fail closed', () => {
  it('denies a Pod it cannot read, naming the field, instead of admitting it unmutated', () => {
    const res = handleMutate(review({ uid: 'u', kind: podKind, operation: 'CREATE', namespace: 'team-a', object: { spec: { containers: [{ image: 'x' }] } } }), state);
    expect(res.body).toMatchObject({ response: { uid: 'u', allowed: false, status: { code: 400, message: expect.stringContaining('request.object.spec.containers[0].name') } } });
    const none = handleMutate(review({ uid: 'u', kind: podKind, operation: 'CREATE', namespace: 'team-a' }), state);
    expect(none.body).toMatchObject({ response: { uid: 'u', allowed: false, status: { code: 400, message: expect.stringContaining('request.object') } } });
  });
});

describe('ephemeral containers (kubectl debug --target)', () => {
  const confined = (extra: Record<string, string> = {}): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'team-a',
      annotations: {
        'container.apparmor.security.beta.varmor.org/app': REF,
        'container.seccomp.security.beta.varmor.org/app': REF,
        'container.bpf.security.beta.varmor.org/app': REF,
        ...extra,
      },
    },
    spec: { containers: [{ name: 'app', securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' } } }] },
  });
  const signed = () => confined({ [bindingAnnotation('app')]: signBinding(KEY, 'team-a', 'app', { AppArmor: REF, BPF: REF, Seccomp: REF }) });
  const debug = (old: Pod, container: Record<string, unknown>) => {
    const object = structuredClone(old);
    object.spec.ephemeralContainers = [...(old.spec.ephemeralContainers ?? []), { name: 'debugger', image: 'busybox', ...container }];
    return review({ uid: 'e', kind: podKind, operation: 'UPDATE', subResource: 'ephemeralcontainers', namespace: 'team-a', name: 'web', object, oldObject: old });
  };
  const patchOf = (body: unknown) => {
    const patch = (body as { response: { patch?: string } }).response.patch;
    return patch ? (JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as { op: string; path: string; value: unknown }[]) : [];
  };
  const keyed = { ...state, options: { bindingKey: KEY } };

  it('confines a new debug container like its target', () => {
    const res = handleMutate(debug(signed(), { targetContainerName: 'app', securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }), keyed);
    expect(res.body).toMatchObject({ response: { allowed: true } });
    expect(patchOf(res.body)).toEqual([
      { op: 'add', path: '/spec/ephemeralContainers/0/securityContext/appArmorProfile', value: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' } },
      { op: 'add', path: '/spec/ephemeralContainers/0/securityContext/seccompProfile', value: { type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-web.json' } },
    ]);
    // No target: the first container; no securityContext: one op adds it whole. No key: trusted as written.
    const plain = handleMutate(debug(confined(), {}), state);
    expect(patchOf(plain.body)).toEqual([
      { op: 'add', path: '/spec/ephemeralContainers/0/securityContext', value: { appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-team-a-web' }, seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-team-a-web.json' } } },
    ]);
  });

  it('denies a privileged or Unconfined debug container that targets a confined container', () => {
    for (const sc of [{ privileged: true }, { appArmorProfile: { type: 'Unconfined' } }, { seccompProfile: { type: 'Unconfined' } }]) {
      const res = handleMutate(debug(signed(), { targetContainerName: 'app', securityContext: sc }), keyed);
      expect(res.body).toMatchObject({ response: { uid: 'e', allowed: false, status: { code: 403 } } });
    }
  });

  it('leaves debug containers of unconfined pods (or unsigned references, with a key) alone', () => {
    const bare: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team-a' }, spec: { containers: [{ name: 'app' }] } };
    expect(handleMutate(debug(bare, { securityContext: { privileged: true } }), keyed).body).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'e', allowed: true } });
    expect(patchOf(handleMutate(debug(confined(), { targetContainerName: 'app' }), keyed).body)).toEqual([]);
    // An existing debug container is not looked at again; only the new one is patched.
    const before = signed();
    before.spec.ephemeralContainers = [{ name: 'earlier', securityContext: { privileged: true } }];
    const res = handleMutate(debug(before, { targetContainerName: 'app' }), keyed);
    expect(patchOf(res.body).map((o) => o.path)).toEqual(['/spec/ephemeralContainers/1/securityContext']);
  });
});

describe('binding cluster policies through the handler', () => {
  it('a binding VarmorClusterPolicy confines a container whose author opted out', () => {
    const admin = preparePolicy(
      { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name: 'admin', annotations: { [BINDING_POLICY_ANNOTATION]: 'true' } }, spec: { target: { kind: 'Pod', selector: { matchLabels: { app: 'web' } } }, policy: { enforcer: 'BPF', mode: 'EnhanceProtect' } } },
      ['BPF'],
    );
    const optedIn = { policies: () => new PolicyIndex([admin]), namespaceLabels: () => ({ 'sandbox.varmor.org/enable': 'true' }), options: {} };
    const pod = { metadata: { name: 'w', labels: { app: 'web' }, annotations: { 'container.bpf.security.beta.varmor.org/app': 'unconfined' } }, spec: { containers: [{ name: 'app' }] } };
    const res = handleMutate(review({ uid: 'b', kind: podKind, operation: 'CREATE', namespace: 'team-a', object: pod }), optedIn);
    expect(res.outcome).toBe('patched');
  });
});
