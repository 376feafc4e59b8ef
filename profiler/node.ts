// The profiler's second entry, for the node side (agent/): the API's types and well-known names, the
// log shape, profile names and ids, ArmorProfile decoding and the BPF table encoding. It leaves out
// the validator and the YAML reader (ajv, yaml), so the agent loads no package it does not use and
// the qemu guest, which has no node_modules, can run the agent's code. Everything here is also in
// index.ts, the room's full entry.

export * from './api/types.js';
export * from './api/well-known.js';
export * from './api/log.js';
export { bpfPolicyId, profileName, seccompLocalhostProfile, DEFAULT_PRODUCT_NAMESPACE, KUBELET_SECCOMP_ROOT } from './names.js';
export { fromArmorProfile, ArmorProfileDecodeError, type DecodedArmorProfile } from './armorprofile.js';
export { decodeTables, emptyTables, encodeTables, type Tables } from './bpf/encode.js';
export { VT_MODE_ENFORCE, VT_MODE_RECORD } from './bpf/layout.js';
export { bindingAnnotation, bindingKey, BindingKeyError, BINDING_ANNOTATION_PREFIX, hasProfileRefs, signBinding, verifyBinding, type BindingRefs } from './binding.js';
export { BPF_TABLE_QUOTA, quotaExcess, type BpfTableKind, type QuotaExcess } from './bpf/quota.js';
// Syscall numbers to names, per architecture: the agent names the syscalls it records (modelling).
export { SYSCALL_NAME_BY_NR_AARCH64, SYSCALL_NAME_BY_NR_X86_64 } from './validate/syscalls.gen.js';
