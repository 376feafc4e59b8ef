// The profiler's validation as the webhook uses it: one place that binds the product namespace, so
// the validating webhook, the folder source and the informer source accept exactly the same policies.
// `admissionValidator` adds what only admission can judge: a new or updated policy whose profile
// name or BPF policy id is already another policy's is refused (issue 16, item 1), since the agent
// keys profiles and kernel tables by them and the two tenants would replace each other.

import {
  type AnyPolicy,
  type PolicyRef,
  type ValidateOptions,
  DEFAULT_PRODUCT_NAMESPACE,
  findCollisions,
  validatePolicy,
  validatePolicyUpdate,
} from '../profiler/index.js';
import type { PolicyValidator, ValidationResult } from './admission/handlers.js';

export function profilerValidator(opts: ValidateOptions = {}): PolicyValidator & { validatePolicy(obj: unknown): ValidationResult } {
  return {
    validatePolicy: (obj) => validatePolicy(obj, opts),
    validatePolicyUpdate: (oldObj, newObj) => validatePolicyUpdate(oldObj as AnyPolicy, newObj, opts),
  };
}

/**
 * `base` plus the collision check against `peers()`: the policies in force (the store the informers
 * feed; read at each request, so it sees the latest). A policy is never compared with itself
 * (same kind, namespace and name), so updates of a policy pass.
 */
export function admissionValidator(
  base: PolicyValidator,
  peers: () => Iterable<PolicyRef>,
  opts: Pick<ValidateOptions, 'productNamespace'> = {},
): PolicyValidator & { validatePolicy(obj: unknown): ValidationResult } {
  const productNamespace = opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE;
  const withCollisions = (result: ValidationResult): ValidationResult => {
    if (!result.ok) return result;
    const p = result.policy;
    const self: PolicyRef = { kind: p.kind, namespace: p.metadata.namespace, name: p.metadata.name as string };
    const found = findCollisions(self, peers(), productNamespace);
    if (found.length === 0) return result;
    return {
      ok: false,
      errors: found.map((c) => ({
        path: 'metadata.name',
        code: c.reason === 'ProfileNameConflict' ? 'profile-name-conflict' : 'policy-id-conflict',
        message: c.message,
      })),
    };
  };
  const update = base.validatePolicyUpdate;
  return {
    validatePolicy: (obj) => withCollisions(base.validatePolicy(obj)),
    validatePolicyUpdate: update ? (oldObj, newObj) => withCollisions(update.call(base, oldObj, newObj)) : undefined,
  };
}
