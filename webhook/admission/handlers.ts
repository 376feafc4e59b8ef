// The two admission handlers as functions from a request body to an HTTP answer, so the server
// plugins stay thin and the decisions (what is refused with 400, what is allowed with a message,
// what is patched) are tested here. Pure apart from calling the injected validator.

import type { AnyPolicy, Enforcer, Mode } from '../../profiler/index.js';
import { confineEphemeral } from '../mutate/ephemeral.js';
import { mutatePod, type MutationOptions, type MutationResult } from '../mutate/mutate.js';
import { serializePatch } from '../mutate/patch-json.js';
import type { PolicyIndex } from '../mutate/policy-index.js';
import { checkPod } from './pod.js';
import { allow, deny, parseReview, ReviewError, type AdmissionRequest, type AdmissionReviewResponse } from './review.js';

export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
}

export type MutateOutcome = 'patched' | 'unchanged' | 'ignored' | 'denied' | 'malformed' | 'bad-review';
export type ValidateOutcome = 'allowed' | 'denied' | 'ignored' | 'malformed' | 'bad-review';

export interface HandlerAnswer<O extends string> {
  statusCode: number;
  body: AdmissionReviewResponse | ErrorBody;
  outcome: O;
  request?: AdmissionRequest;
}

export interface MutationState {
  policies(): PolicyIndex;
  /** Labels of a namespace, undefined when unknown. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  options: MutationOptions;
}

function badReview(err: unknown): HandlerAnswer<'bad-review'> {
  if (err instanceof ReviewError) return { statusCode: 400, body: { code: err.code, message: err.message, field: err.field }, outcome: 'bad-review' };
  throw err;
}

/** A Pod (or oldObject) the mutation cannot read: refused with 400, the field named. */
export const POD_MALFORMED = 'VARMOR_ERR_REVIEW_POD_MALFORMED';
/** A privileged or Unconfined ephemeral container targeting a sandboxed container: refused with 403. */
export const EPHEMERAL_UNCONFINED = 'VARMOR_ERR_REVIEW_EPHEMERAL_UNCONFINED';

export function handleMutate(body: unknown, state: MutationState): HandlerAnswer<MutateOutcome> & { mutation?: MutationResult } {
  let req: AdmissionRequest;
  try {
    req = parseReview(body);
  } catch (err) {
    return badReview(err);
  }
  const ok = (b: AdmissionReviewResponse, outcome: MutateOutcome, mutation?: MutationResult) => ({ statusCode: 200, body: b, outcome, request: req, mutation });
  // Fail closed: a Pod we cannot read is not admitted (admitting it unmutated would start it unsandboxed).
  const malformed = (message: string) => ok(deny(req.uid, `varmor: not admitted (${POD_MALFORMED}): ${message}`, 400, 'BadRequest'), 'malformed');
  const sub = req.subResource ?? '';
  // Pod CREATE and the ephemeralcontainers UPDATE are ours; anything else the API server sends (a misconfigured rule) passes unchanged.
  const create = req.operation === 'CREATE' && sub === '';
  const debug = req.operation === 'UPDATE' && sub === 'ephemeralcontainers';
  if (req.kind.kind !== 'Pod' || req.kind.group !== '' || !(create || debug)) return ok(allow(req.uid), 'ignored');
  if (req.object === undefined) return malformed('request.object: missing, nothing to mutate');
  const checked = checkPod(req.object);
  if (!checked.ok) return malformed(checked.message);
  const namespace = req.namespace || checked.pod.metadata?.namespace || 'default';

  if (debug) {
    if (req.oldObject === undefined) return malformed('request.oldObject: missing, cannot tell new ephemeral containers');
    const old = checkPod(req.oldObject, 'request.oldObject');
    if (!old.ok) return malformed(old.message);
    const r = confineEphemeral({ pod: checked.pod, oldPod: old.pod, namespace, appArmor: state.options.appArmor, bindingKey: state.options.bindingKey });
    const mutation: MutationResult = { ops: r.ops, optedIn: true, decisions: r.decisions, conflicts: [] };
    if (r.denied) return ok(deny(req.uid, `${r.denied} (${EPHEMERAL_UNCONFINED})`, 403, 'Forbidden'), 'denied', mutation);
    if (!r.ops.length) return ok(allow(req.uid), 'unchanged', mutation);
    return ok(allow(req.uid, serializePatch(r.ops)), 'patched', mutation);
  }

  const mutation = mutatePod({
    pod: checked.pod,
    namespace,
    namespaceLabels: state.namespaceLabels(namespace),
    policies: state.policies(),
    options: state.options,
  });
  if (!mutation.ops.length) return ok(allow(req.uid), 'unchanged', mutation);
  return ok(allow(req.uid, serializePatch(mutation.ops)), 'patched', mutation);
}

export type ValidationResult =
  /** `warnings`: accepted, but answered as admission warnings (e.g. a rule the enforcers ignore). */
  | { ok: true; policy: AnyPolicy; enforcers: Enforcer[]; mode: Mode; warnings?: { path: string; message: string; code: string }[] }
  | { ok: false; errors: { path: string; message: string; code: string }[] };

export interface PolicyValidator {
  validatePolicy(obj: unknown): ValidationResult;
  /** Checks what may not change between two versions (e.g. the target); optional. */
  validatePolicyUpdate?(oldObj: unknown, newObj: unknown): ValidationResult;
}

const POLICY_KINDS = new Set(['VarmorPolicy', 'VarmorClusterPolicy']);

export function handleValidate(body: unknown, validator: PolicyValidator): HandlerAnswer<ValidateOutcome> {
  let req: AdmissionRequest;
  try {
    req = parseReview(body);
  } catch (err) {
    return badReview(err);
  }
  const ok = (b: AdmissionReviewResponse, outcome: ValidateOutcome) => ({ statusCode: 200, body: b, outcome, request: req });
  if (!POLICY_KINDS.has(req.kind.kind) || req.kind.group !== 'crd.varmor.org' || (req.subResource ?? '') !== '')
    return ok(allow(req.uid), 'ignored');
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return ok(allow(req.uid), 'ignored');
  if (req.object === undefined || req.object === null)
    return ok(deny(req.uid, 'request.object: missing, nothing to validate', 400, 'BadRequest'), 'malformed');
  let result: ValidationResult;
  try {
    result =
      req.operation === 'UPDATE' && validator.validatePolicyUpdate && req.oldObject !== undefined
        ? validator.validatePolicyUpdate(req.oldObject, req.object)
        : validator.validatePolicy(req.object);
  } catch (err) {
    // The validator could not even read the object: refuse it (a policy nobody can check must not
    // reach the controller), naming the failure.
    return ok(deny(req.uid, `request.object: cannot be validated: ${(err as Error).message}`, 400, 'BadRequest'), 'malformed');
  }
  if (result.ok) return ok(allow(req.uid, undefined, (result.warnings ?? []).map((w) => `${w.path}: ${w.message}`)), 'allowed');
  const who = `${req.kind.kind} ${req.namespace ? `${req.namespace}/` : ''}${req.name ?? ''}`.trim();
  const details = result.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return ok(deny(req.uid, `${who} is invalid: ${details}`), 'denied');
}
