// admission.k8s.io/v1 AdmissionReview: reading requests defensively (the body is untrusted input:
// anything that is not a well-formed review is refused with a coded error naming the field) and
// building responses. Pure.

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';

export type ReviewErrorCode =
  | 'VARMOR_ERR_REVIEW_NOT_OBJECT'
  | 'VARMOR_ERR_REVIEW_API_VERSION'
  | 'VARMOR_ERR_REVIEW_KIND'
  | 'VARMOR_ERR_REVIEW_NO_REQUEST'
  | 'VARMOR_ERR_REVIEW_NO_UID'
  | 'VARMOR_ERR_REVIEW_FIELD_TYPE';

/** The body cannot be answered as an AdmissionReview at all (no uid to answer to): HTTP 400. */
export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  readonly statusCode = 400;
  constructor(
    readonly code: ReviewErrorCode,
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  userInfo?: unknown;
}

export interface AdmissionStatus {
  code?: number;
  reason?: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof REVIEW_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalString(req: Record<string, unknown>, field: string): string | undefined {
  const v = req[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ReviewError('VARMOR_ERR_REVIEW_FIELD_TYPE', `request.${field}: must be a string`, `request.${field}`);
  return v;
}

/** Reads an AdmissionReview; throws ReviewError for anything that cannot be answered. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new ReviewError('VARMOR_ERR_REVIEW_NOT_OBJECT', 'body: must be a JSON object (an AdmissionReview)', 'body');
  if (body.apiVersion !== REVIEW_API_VERSION)
    throw new ReviewError('VARMOR_ERR_REVIEW_API_VERSION', `apiVersion: must be ${REVIEW_API_VERSION}, got ${JSON.stringify(body.apiVersion ?? null)}`, 'apiVersion');
  if (body.kind !== 'AdmissionReview')
    throw new ReviewError('VARMOR_ERR_REVIEW_KIND', `kind: must be AdmissionReview, got ${JSON.stringify(body.kind ?? null)}`, 'kind');
  const req = body.request;
  if (!isObject(req)) throw new ReviewError('VARMOR_ERR_REVIEW_NO_REQUEST', 'request: missing (an AdmissionReview sent to a webhook carries a request)', 'request');
  if (typeof req.uid !== 'string' || req.uid === '' || req.uid.length > 256)
    throw new ReviewError('VARMOR_ERR_REVIEW_NO_UID', 'request.uid: must be a non-empty string', 'request.uid');
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || typeof (kind.version ?? '') !== 'string' || typeof (kind.group ?? '') !== 'string')
    throw new ReviewError('VARMOR_ERR_REVIEW_FIELD_TYPE', 'request.kind: must be {group, version, kind} strings', 'request.kind');
  if (typeof req.operation !== 'string') throw new ReviewError('VARMOR_ERR_REVIEW_FIELD_TYPE', 'request.operation: must be a string', 'request.operation');
  const resource = req.resource;
  return {
    uid: req.uid,
    kind: { group: (kind.group as string | undefined) ?? '', version: (kind.version as string | undefined) ?? '', kind: kind.kind },
    resource: isObject(resource) ? (resource as AdmissionRequest['resource']) : undefined,
    subResource: optionalString(req, 'subResource'),
    name: optionalString(req, 'name'),
    namespace: optionalString(req, 'namespace'),
    operation: req.operation,
    object: req.object ?? undefined,
    oldObject: req.oldObject ?? undefined,
    dryRun: req.dryRun === true,
    userInfo: req.userInfo,
  };
}

export function review(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response };
}

/** Allowed, with a JSONPatch (its JSON text, see serializePatch) when there is anything to change. */
export function allow(uid: string, patchJson?: string, warnings?: string[]): AdmissionReviewResponse {
  const response: AdmissionResponse = { uid, allowed: true };
  if (patchJson !== undefined && patchJson !== '[]') {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(patchJson).toString('base64');
  }
  if (warnings && warnings.length) response.warnings = warnings;
  return review(response);
}

/** Allowed without change, with the reason in the status and a warning kubectl shows. */
export function allowWithMessage(uid: string, message: string, code = 400): AdmissionReviewResponse {
  return review({ uid, allowed: true, status: { code, message }, warnings: [message] });
}

export function deny(uid: string, message: string, code = 422, reason = 'Invalid'): AdmissionReviewResponse {
  return review({ uid, allowed: false, status: { code, reason, message } });
}
