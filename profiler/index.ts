// The profiler's public API: what the webhook, the controller, the agent and the CLI import.
// Pure functions only (no I/O); see ../shared DESIGN for who may import what.

export * from './api/types.js';
export { OBJECT_SCHEMAS, POLICY_SPEC_SCHEMA, TARGET_KINDS, MODES, type JsonSchema, type ObjectKind } from './api/schema.js';
export {
  validatePolicy,
  validatePolicyUpdate,
  validateObject,
  parseEnforcers,
  formatEnforcers,
  ENFORCER_STRINGS,
  MODE_SUPPORT,
  PolicyValidationError,
  type ValidateOptions,
  type ValidationIssue,
  type ValidationResult,
} from './validate/index.js';
export { compilePolicy, type CompilePolicyOptions, type CompiledPolicyResult } from './compile.js';
export type { CompiledPolicy, CompileOptions, SeccompProfile, SeccompSyscall } from './compiled.js';
export {
  toArmorProfile,
  fromArmorProfile,
  armorProfileNamespace,
  ArmorProfileDecodeError,
  AP_FINALIZER,
  type DecodedArmorProfile,
} from './armorprofile.js';
export { parseDocuments, YamlParseError } from './yaml.js';
export {
  profileName,
  bpfPolicyId,
  seccompLocalhostProfile,
  maxPolicyNameLength,
  DEFAULT_PRODUCT_NAMESPACE,
  KUBELET_SECCOMP_ROOT,
  MAX_PROFILE_NAME_LENGTH,
} from './names.js';
export { BUILTIN_RULES, findBuiltinRule } from './rules/catalogue.js';
export { coverageTable } from './rules/coverage.js';
export * from './api/log.js';
