// The profiler's public API, and the only way into it from another room (the lint rule of
// scripts/eslint-rooms.mjs): what the webhook, the controller, the agent and the CLI import.
// Pure functions only (no I/O); ../shared/DESIGN.md says who may import what.

// The API: types, well-known names, the log shape.
export * from './api/types.js';
export * from './api/well-known.js';
export * from './api/log.js';
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
  type DecodedArmorProfile,
} from './armorprofile.js';
export { parseDocuments, readDocuments, YamlParseError } from './yaml.js';
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
// The BPF table encoding the agent writes into the addon (native/varmor_tables.h).
export { decodeTables, emptyTables, encodeTables } from './bpf/encode.js';
// Egress selectors (toServices, toPods) the controller resolves to addresses and compiles back in.
export type { BpfSelectors, ResolvedDestination, Disposition } from './bpf/compile.js';
export {
  egressInterest,
  interestedIn,
  resolveEgress,
  EMPTY_EGRESS_VIEW,
  staticEgressView,
  type EgressInterest,
  type EgressView,
  type EndpointSliceView,
  type PodView,
  type ServiceView,
} from './egress.js';
export { VT_MODE_RECORD } from './bpf/layout.js';
// Label selectors, as Kubernetes matches them (the webhook's policies and the controller's workloads).
export { canonicalSelector, compileSelector, matchesSelector, SelectorError, type LabelPredicate } from './selector.js';
export { bindingAnnotation, bindingKey, BindingKeyError, BINDING_ANNOTATION_PREFIX, hasProfileRefs, signBinding, verifyBinding, type BindingRefs } from './binding.js';
export { BPF_TABLE_QUOTA, quotaExcess, type BpfTableKind, type QuotaExcess } from './bpf/quota.js';
export { findCollisions, describePolicy, samePolicy, type Collision, type CollisionReason } from './validate/collision.js';
export type { PolicyRef } from './names.js';
