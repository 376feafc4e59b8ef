// Policy validation: the schema (ajv, the same schema the CRDs are generated from), then the
// semantic rules of ./policy.ts. Every finding is collected; nothing stops at the first one.
// The webhook, the controller and the CLI all call validatePolicy / validatePolicyUpdate.

import { API_VERSION, type AnyPolicy, type Enforcer, type Mode } from '../api/types.js';
import type { ObjectKind } from '../api/schema.js';
import { DEFAULT_PRODUCT_NAMESPACE } from '../names.js';
import { Issues, type ValidationIssue } from './issues.js';
import { checkPolicySemantics } from './policy.js';
import { schemaIssues, type UnknownFields } from './schema.js';
import { checkPolicyUpdate } from './update.js';
import { checkBpfQuota } from './quota.js';

export { PolicyValidationError, type ValidationIssue } from './issues.js';
export { parseEnforcers, formatEnforcers, ENFORCER_STRINGS, MODE_SUPPORT } from './enforcer.js';
export { schemaIssues, type UnknownFields } from './schema.js';
export { KNOWN_SYSCALLS } from './syscalls.gen.js';

export interface ValidateOptions {
  /** Names cluster policies' profiles (and so bounds their name length). Default 'varmor'. */
  productNamespace?: string;
  /** Unknown fields: refused (default, like kubectl --validate=strict) or ignored. */
  unknownFields?: UnknownFields;
}

export type ValidationResult =
  /** `warnings`: what does not refuse the policy but the user should know (rules it ignores). */
  | { ok: true; policy: AnyPolicy; enforcers: Enforcer[]; mode: Mode; warnings: ValidationIssue[] }
  | { ok: false; errors: ValidationIssue[] };

const POLICY_KINDS = ['VarmorPolicy', 'VarmorClusterPolicy'];
export const VARMOR_KINDS: readonly ObjectKind[] = ['VarmorPolicy', 'VarmorClusterPolicy', 'ArmorProfile', 'ArmorProfileModel'];

function envelope(issues: Issues, obj: unknown, kinds: readonly string[]): string | undefined {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    issues.add('', 'type', 'a policy must be an object');
    return undefined;
  }
  const o = obj as Record<string, unknown>;
  if (o.apiVersion !== API_VERSION) {
    issues.add('apiVersion', o.apiVersion === undefined ? 'required' : 'invalid-api-version', `apiVersion must be ${API_VERSION}, got ${JSON.stringify(o.apiVersion)}`);
  }
  if (typeof o.kind !== 'string' || !kinds.includes(o.kind)) {
    issues.add('kind', o.kind === undefined ? 'required' : 'invalid-kind', `kind must be one of ${kinds.join(', ')}, got ${JSON.stringify(o.kind)}`);
    return undefined;
  }
  if (o.metadata === undefined) issues.add('metadata', 'required', 'required field is missing');
  return o.kind;
}

/** Validates a VarmorPolicy or VarmorClusterPolicy (as parsed from YAML/JSON or from an AdmissionReview). */
export function validatePolicy(obj: unknown, opts: ValidateOptions = {}): ValidationResult {
  const issues = new Issues();
  const kind = envelope(issues, obj, POLICY_KINDS);
  if (!kind) return { ok: false, errors: issues.list };
  issues.list.push(...schemaIssues(kind as ObjectKind, obj, opts.unknownFields ?? 'reject'));
  const policy = obj as AnyPolicy;
  if (policy.metadata && typeof policy.metadata === 'object') {
    if (kind === 'VarmorClusterPolicy' && policy.metadata.namespace) {
      issues.add('metadata.namespace', 'invalid-namespace', 'a VarmorClusterPolicy is cluster-scoped: remove metadata.namespace');
    }
  }
  const { enforcers, mode } = checkPolicySemantics(issues, policy, opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE);
  if (issues.size > 0 || !mode) return { ok: false, errors: issues.list };
  checkBpfQuota(issues, policy, enforcers, mode, opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE);
  if (issues.size > 0) return { ok: false, errors: issues.list };
  return { ok: true, policy, enforcers, mode, warnings: issues.warnings };
}

/**
 * Validates an update: the new object in full, plus vArmor's update rules (immutable target,
 * AppArmor/Seccomp not removable, nothing enforcer- or mode-wise while modelling).
 */
export function validatePolicyUpdate(oldObj: AnyPolicy, newObj: unknown, opts: ValidateOptions = {}): ValidationResult {
  const result = validatePolicy(newObj, opts);
  const issues = new Issues();
  if (newObj && typeof newObj === 'object') checkPolicyUpdate(issues, oldObj, newObj as AnyPolicy);
  if (issues.size === 0) return result;
  return { ok: false, errors: [...(result.ok ? [] : result.errors), ...issues.list] };
}

/** Schema-only validation of any of the four kinds (ArmorProfile and ArmorProfileModel have no semantic rules here). */
export function validateObject(obj: unknown, opts: ValidateOptions = {}): ValidationIssue[] {
  const issues = new Issues();
  const kind = envelope(issues, obj, VARMOR_KINDS);
  if (!kind) return issues.list;
  if (POLICY_KINDS.includes(kind)) {
    const r = validatePolicy(obj, opts);
    return r.ok ? [] : r.errors;
  }
  return [...issues.list, ...schemaIssues(kind as ObjectKind, obj, opts.unknownFields ?? 'reject')];
}
