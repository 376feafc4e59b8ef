// The shape of a validation finding and the error thrown when a policy is refused. Every finding
// names the field it concerns with a kubectl-style path (`spec.policy.enhanceProtect.files[0]`),
// so the webhook, the controller and the CLI can all show the user exactly what to fix.

export interface ValidationIssue {
  /** Field path, e.g. `spec.policy.enhanceProtect.bpfRawRules.files[0].pattern`. */
  path: string;
  message: string;
  /** Stable machine-readable code, e.g. `required`, `unknown-rule`, `invalid-port`. */
  code: string;
}

export class PolicyValidationError extends Error {
  readonly code = 'VARMOR_ERR_POLICY_INVALID';
  readonly errors: ValidationIssue[];
  constructor(errors: ValidationIssue[], subject?: string) {
    const head = subject ? `${subject}: ` : '';
    super(`${head}${errors.length} validation error(s): ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'PolicyValidationError';
    this.errors = errors;
  }
}

/** Collects findings; validation never stops at the first one. */
export class Issues {
  readonly list: ValidationIssue[] = [];
  /** Findings that do not refuse the policy (the webhook answers them as admission warnings). */
  readonly warnings: ValidationIssue[] = [];
  add(path: string, code: string, message: string): void {
    this.list.push({ path, code, message });
  }
  warn(path: string, code: string, message: string): void {
    this.warnings.push({ path, code, message });
  }
  get size(): number {
    return this.list.length;
  }
}

/** Appends a property or index to a field path. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}
