// The profiler's validation as the webhook uses it: one place that binds the product namespace, so
// the validating webhook, the folder source and the informer source accept exactly the same policies.

import { type AnyPolicy, type ValidateOptions, validatePolicy, validatePolicyUpdate } from '../profiler/index.js';
import type { PolicyValidator, ValidationResult } from './admission/handlers.js';

export function profilerValidator(opts: ValidateOptions = {}): PolicyValidator & { validatePolicy(obj: unknown): ValidationResult } {
  return {
    validatePolicy: (obj) => validatePolicy(obj, opts),
    validatePolicyUpdate: (oldObj, newObj) => validatePolicyUpdate(oldObj as AnyPolicy, newObj, opts),
  };
}
