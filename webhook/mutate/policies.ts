// Policies prepared for admission: each validated VarmorPolicy / VarmorClusterPolicy becomes a
// MatchPolicy with its selector compiled and its names derived once; policy-index.ts finds the ones
// that target a Pod.
//
// Priority, when several policies target the same container (vArmor picks one at random):
//   1. a VarmorClusterPolicy before a VarmorPolicy, as vArmor tries cluster policies first: a
//      tenant's namespaced policy must not replace the cluster administrator's (a binding cluster
//      policy, BINDING_POLICY_ANNOTATION, before any other);
//   2. a target by name before a target by selector (the more specific target);
//   3. a target that lists containers before one for all containers;
//   4. then by namespace and name, alphabetically.
// The losers are reported as conflicts (log line and metric), never silently dropped.

import { type AnyPolicy, BINDING_POLICY_ANNOTATION, bpfPolicyId, compileSelector, DEFAULT_PRODUCT_NAMESPACE, type Enforcer, type LabelPredicate, profileName, seccompLocalhostProfile } from '../../profiler/index.js';
import type { ProfileRef } from './types.js';

/**
 * The securityContext values a patch writes for this policy, built once and deep-frozen: every
 * patch shares them (never copies), and the patch serializer keeps their JSON (patch-json.ts).
 */
export interface SecurityContextValues {
  appArmorProfile: Readonly<ProfileRef>;
  seccompProfile: Readonly<ProfileRef>;
  /** A whole securityContext, for a container that has none, by the fields it gets. */
  onlyAppArmor: Readonly<{ appArmorProfile: ProfileRef }>;
  onlySeccomp: Readonly<{ seccompProfile: ProfileRef }>;
  both: Readonly<{ appArmorProfile: ProfileRef; seccompProfile: ProfileRef }>;
}

function securityContextValues(profileName: string, seccompPath: string): SecurityContextValues {
  const appArmorProfile = Object.freeze({ type: 'Localhost', localhostProfile: profileName });
  const seccompProfile = Object.freeze({ type: 'Localhost', localhostProfile: seccompPath });
  return Object.freeze({
    appArmorProfile,
    seccompProfile,
    onlyAppArmor: Object.freeze({ appArmorProfile }),
    onlySeccomp: Object.freeze({ seccompProfile }),
    both: Object.freeze({ appArmorProfile, seccompProfile }),
  });
}

export interface MatchPolicy {
  kind: 'VarmorPolicy' | 'VarmorClusterPolicy';
  /**
   * A VarmorClusterPolicy annotated BINDING_POLICY_ANNOTATION "true": the pod author's opt-outs
   * (our `unconfined` annotations, Unconfined or other Localhost profiles) do not keep it out.
   */
  binding: boolean;
  /** The policy's namespace; undefined for a cluster policy. */
  namespace?: string;
  name: string;
  /** `VarmorPolicy/ns/name` or `VarmorClusterPolicy/name`, for logs and conflict reports. */
  id: string;
  profileName: string;
  /** `localhost/<profileName>`, the value of our annotations. */
  localhostRef: string;
  /** `varmor/<profileName>.json`, the seccompProfile.localhostProfile. */
  seccompPath: string;
  securityContext: SecurityContextValues;
  bpfPolicyId: number;
  enforcers: ReadonlySet<Enforcer>;
  mode: string;
  targetKind: string;
  targetName?: string;
  selector?: LabelPredicate;
  /**
   * One label the selector requires (its first matchLabels pair), so the index can find the policy
   * from a Pod's labels instead of asking every selector; undefined when it requires none.
   */
  requiredLabel?: readonly [key: string, value: string];
  /** Named containers; undefined means every regular container. */
  containers?: ReadonlySet<string>;
  /** Sort key, see the priority rules above. */
  rank: string;
}

export interface PrepareOptions {
  productNamespace?: string;
}

function firstMatchLabel(labels: Readonly<Record<string, string>> | undefined): readonly [string, string] | undefined {
  for (const key in labels) if (Object.prototype.hasOwnProperty.call(labels, key)) return [key, labels[key]];
  return undefined;
}

/** `policy` must already be validated by the profiler; `enforcers` is what it parsed. */
export function preparePolicy(policy: AnyPolicy, enforcers: readonly Enforcer[], opts: PrepareOptions = {}): MatchPolicy {
  const name = policy.metadata.name ?? '';
  const cluster = policy.kind === 'VarmorClusterPolicy';
  const namespace = cluster ? undefined : (policy.metadata.namespace ?? 'default');
  const pn = profileName({ kind: policy.kind, namespace, name }, opts.productNamespace ?? DEFAULT_PRODUCT_NAMESPACE);
  const target = policy.spec.target;
  const byName = typeof target.name === 'string' && target.name !== '';
  const containers = target.containers && target.containers.length ? new Set(target.containers) : undefined;
  const seccompPath = seccompLocalhostProfile(pn);
  // Only a cluster policy can bind: tenants may write VarmorPolicies, not VarmorClusterPolicies.
  const binding = cluster && policy.metadata.annotations?.[BINDING_POLICY_ANNOTATION] === 'true';
  return {
    kind: policy.kind,
    binding,
    namespace,
    name,
    id: cluster ? `VarmorClusterPolicy/${name}` : `VarmorPolicy/${namespace}/${name}`,
    profileName: pn,
    localhostRef: `localhost/${pn}`,
    seccompPath,
    securityContext: securityContextValues(pn, seccompPath),
    bpfPolicyId: bpfPolicyId(pn),
    enforcers: new Set(enforcers),
    mode: policy.spec.policy.mode,
    targetKind: target.kind,
    targetName: byName ? target.name : undefined,
    // vArmor: a target name takes precedence over the selector.
    selector: !byName && target.selector ? compileSelector(target.selector, 'spec.target.selector') : undefined,
    requiredLabel: byName ? undefined : firstMatchLabel(target.selector?.matchLabels),
    containers,
    rank: [binding ? 0 : cluster ? 1 : 2, byName ? 0 : 1, containers ? 0 : 1, namespace ?? '', name].join('\u0000'),
  };
}
