// Admission mutation: pure functions from an admitted Pod to a JSONPatch.
export { mutatePod, isOptedIn, type AppArmorStyle, type Conflict, type ContainerDecision, type MutationInput, type MutationOptions, type MutationResult } from './mutate.js';
export { confineEphemeral, type EphemeralInput, type EphemeralResult } from './ephemeral.js';
export { preparePolicy, type MatchPolicy, type PrepareOptions, type SecurityContextValues } from './policies.js';
export { PolicyIndex } from './policy-index.js';
export { podWorkloads, type Workload } from './workloads.js';
export { escapePointer } from './pointer.js';
export { serializePatch } from './patch-json.js';
export * from './types.js';
