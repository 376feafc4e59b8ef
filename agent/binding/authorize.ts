// Who may be bound to a profile (issue 16): a pod author writes any annotation, and containerd
// copies ours into the OCI spec, so `container.bpf.security.beta.varmor.org/app: localhost/<x>`
// proves nothing by itself. A container is bound only to a profile of its own namespace (the
// namespace comes from containerd's CRI annotation, which a pod cannot set) or of a
// VarmorClusterPolicy (its ArmorProfile lives in the product namespace, labelled by the
// controller); and, when the agent holds the webhook's binding key, only when the webhook signed
// exactly these references for this namespace and container name (profiler/binding.ts). Pure.

import { bindingAnnotation, type BindingRefs, LABEL_POLICY_KIND, verifyBinding } from '../../profiler/node.js';
import type { NodeProfile } from '../profiles/decode.js';

export interface BindingClaim {
  /** The pod's namespace, from io.kubernetes.cri.sandbox-namespace. */
  podNamespace: string;
  /** The container name the references were written (and signed) for: its own, or an ephemeral container's target. */
  signedAs: string;
  /** The container's reference annotation values, by enforcer. */
  refs: BindingRefs;
  signature?: string;
}

export interface BindingPolicy {
  productNamespace: string;
  key?: Buffer;
}

/** The namespace rule alone: why a pod of `podNamespace` may not use `profile`, or undefined. */
export function namespaceRefusal(profile: NodeProfile, podNamespace: string, productNamespace: string): string | undefined {
  if (!podNamespace) return 'the container has no pod namespace (CRI annotation io.kubernetes.cri.sandbox-namespace)';
  const cluster = profile.namespace === productNamespace && profile.policyKind === 'VarmorClusterPolicy';
  if (cluster || profile.namespace === podNamespace) return undefined;
  return `profile ${profile.profileName} belongs to namespace ${profile.namespace}, not to the pod's namespace ${podNamespace} (nor to a VarmorClusterPolicy: ${LABEL_POLICY_KIND}=${profile.policyKind || 'unset'})`;
}

/** Why `claim` may not be bound to `profile`, or undefined when it may. */
export function bindingRefusal(profile: NodeProfile, claim: BindingClaim, policy: BindingPolicy): string | undefined {
  const ns = namespaceRefusal(profile, claim.podNamespace, policy.productNamespace);
  if (ns) return ns;
  if (policy.key && !verifyBinding(policy.key, claim.podNamespace, claim.signedAs, claim.refs, claim.signature)) {
    return `the references of container ${claim.signedAs} are not the webhook's: ${bindingAnnotation(claim.signedAs)} is ${claim.signature ? 'not their signature' : 'missing'}`;
  }
  return undefined;
}
