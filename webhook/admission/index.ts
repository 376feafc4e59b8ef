// AdmissionReview parsing and the mutate/validate handlers, independent of any server.
export * from './review.js';
export { checkPod, type PodCheck } from './pod.js';
export {
  handleMutate,
  handleValidate,
  type ErrorBody,
  type HandlerAnswer,
  type MutateOutcome,
  type MutationState,
  type PolicyValidator,
  type ValidateOutcome,
  type ValidationResult,
} from './handlers.js';
