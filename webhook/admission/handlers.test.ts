import { describe, expect, it } from '@jest/globals';
import { PolicyIndex } from '../mutate/policy-index.js';
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
  it('ignores Pod subresources and other groups', () => {
    const sub = handleMutate(review({ uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', subResource: 'ephemeralcontainers', object: {} }), state);
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
