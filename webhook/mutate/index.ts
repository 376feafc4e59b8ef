// Admission mutation: pure functions from an admitted Pod to a JSONPatch.
export { mutatePod, isOptedIn, type AppArmorStyle, type Conflict, type ContainerDecision, type MutationInput, type MutationOptions, type MutationResult } from './mutate.js';
export { PolicyIndex, preparePolicy, type MatchPolicy, type PrepareOptions } from './policies.js';
export { compileSelector, SelectorError, type LabelPredicate } from './selector.js';
export { podWorkloads, type Workload } from './workloads.js';
export { escapePointer } from './pointer.js';
export * from './types.js';
