// compilePolicy: a policy -> its AppArmor profile, Seccomp JSON and BPF tables, for the
// enforcers it names. Validates first (so every caller gets the same refusals with field
// paths), derives the deterministic names, then runs each enforcer's compiler. Any refusal,
// from validation or from a compiler, is one PolicyValidationError listing every finding.

import type { AnyPolicy } from './api/types.js';
import { compileAppArmor } from './apparmor/compile.js';
import { compileBpf, BpfCompileError, type BpfCompileOptions, type BpfSelectors } from './bpf/compile.js';
import type { CompileInput, CompileOptions, CompiledPolicy } from './compiled.js';
import { bpfPolicyId, DEFAULT_PRODUCT_NAMESPACE, profileName } from './names.js';
import { ProfileCompileError } from './rules/errors.js';
import { compileSeccomp } from './seccomp/compile.js';
import { PolicyValidationError, validatePolicy, type ValidateOptions, type ValidationIssue } from './validate/index.js';

export interface CompilePolicyOptions extends CompileOptions {
  /** Unknown fields in the policy: refused (default) or ignored (objects already pruned by the API server). */
  unknownFields?: ValidateOptions['unknownFields'];
  /** Addresses the controller resolved from toServices/toPods selectors, compiled into the BPF tables. */
  bpf?: BpfCompileOptions;
}

export interface CompiledPolicyResult extends CompiledPolicy {
  /** BPF egress selectors (toServices/toPods) for the controller to resolve, when the policy has any. */
  bpfSelectors?: BpfSelectors;
}

function subject(policy: AnyPolicy): string {
  const ns = policy.metadata?.namespace;
  return `${policy.kind ?? 'policy'} ${ns ? `${ns}/` : ''}${policy.metadata?.name ?? '?'}`;
}

function asIssue(e: unknown): ValidationIssue | null {
  if (e instanceof ProfileCompileError) return { path: e.path, code: e.code, message: e.message.replace(`${e.path}: `, '') };
  if (e instanceof BpfCompileError) return { path: e.field, code: 'bpf-compile', message: e.message.replace(`${e.field}: `, '') };
  return null;
}

export function compilePolicy(policy: AnyPolicy, opts: CompilePolicyOptions = {}): CompiledPolicyResult {
  const productNamespace = opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE;
  const v = validatePolicy(policy, { productNamespace, unknownFields: opts.unknownFields });
  if (!v.ok) throw new PolicyValidationError(v.errors, subject(policy));

  const name = profileName(
    { kind: policy.kind, namespace: policy.metadata.namespace, name: policy.metadata.name as string },
    productNamespace,
  );
  const input: CompileInput = {
    profileName: name,
    bpfPolicyId: bpfPolicyId(name),
    mode: v.mode,
    enforcers: v.enforcers,
    policy: policy.spec.policy,
    model: opts.model,
  };
  const out: CompiledPolicyResult = { profileName: name, bpfPolicyId: input.bpfPolicyId, enforcers: v.enforcers, mode: v.mode };
  const errors: ValidationIssue[] = [];
  const attempt = (fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      const issue = asIssue(e);
      if (!issue) throw e;
      errors.push(issue);
    }
  };
  if (v.enforcers.includes('AppArmor')) attempt(() => (out.appArmor = compileAppArmor(input)));
  if (v.enforcers.includes('Seccomp')) attempt(() => (out.seccomp = compileSeccomp(input)));
  if (v.enforcers.includes('BPF')) {
    attempt(() => {
      const r = compileBpf(input, opts.bpf);
      out.bpf = { tables: r.tables };
      if (r.selectors) out.bpfSelectors = r.selectors;
    });
  }
  if (errors.length > 0) throw new PolicyValidationError(errors, subject(policy));
  return out;
}
