// Named errors of the policy controller. Each carries a `code` so logs, status reasons and
// tests can tell failures apart without matching message text.

export class ControllerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControllerError';
    this.code = code;
  }
}

/** The API server answered with an HTTP error; `status` is its HTTP status code. */
export class KubeApiError extends ControllerError {
  readonly status: number;
  readonly reason?: string;
  constructor(status: number, message: string, reason?: string, options?: { cause?: unknown }) {
    super(status === 409 ? 'VARMOR_ERR_KUBE_CONFLICT' : status === 404 ? 'VARMOR_ERR_KUBE_NOT_FOUND' : 'VARMOR_ERR_KUBE_API', message, options);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

/** A policy cannot be compiled or applied as written; the message is meant for the user. */
export class PolicyRejectedError extends ControllerError {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('VARMOR_ERR_POLICY_REJECTED', message);
    this.name = 'PolicyRejectedError';
    this.reason = reason;
  }
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 403;
}
