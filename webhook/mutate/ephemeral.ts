// Ephemeral containers (`kubectl debug --target=<c>`, UPDATE of pods/ephemeralcontainers) as a pure
// function: a new debug container joins its target's namespaces, so it gets its target's Seccomp and
// AppArmor profiles, or the sandbox has a door. The target's references are read from the Pod's
// annotations, written (and, with a key, signed) at CREATE; the API server keeps the old metadata
// on this subresource, so only spec operations are emitted. BPF needs nothing here: the agent binds
// an ephemeral container to its target's BPF policy.
//
// A privileged debug container, or one asking for Unconfined, that targets a container we confine is
// refused: it would run outside the sandbox while seeing the sandboxed processes.

import { ANNOTATION, bindingAnnotation, type BindingRefs, type Enforcer, hasProfileRefs, PROFILE_REF_PREFIX, seccompLocalhostProfile, verifyBinding } from '../../profiler/index.js';
import type { AppArmorStyle, ContainerDecision } from './mutate.js';
import type { Container, JsonPatchOp, Pod, ProfileRef } from './types.js';

export interface EphemeralInput {
  pod: Pod;
  /** The Pod before this update: its ephemeral containers are not new. */
  oldPod: Pod;
  namespace: string;
  appArmor?: AppArmorStyle;
  bindingKey?: Buffer;
}

export interface EphemeralResult {
  ops: JsonPatchOp[];
  decisions: ContainerDecision[];
  /** Set when the update must be refused; names the container and why. */
  denied?: string;
}

/** The target's references as the Pod's annotations hold them, or undefined when we do not confine it. */
function targetRefs(pod: Pod, namespace: string, target: string, key: Buffer | undefined): BindingRefs | undefined {
  const a = pod.metadata?.annotations ?? {};
  const refs: BindingRefs = { AppArmor: a[ANNOTATION.appArmor(target)], BPF: a[ANNOTATION.bpf(target)], Seccomp: a[ANNOTATION.seccomp(target)] };
  if (!hasProfileRefs(refs)) return undefined;
  // With a key, only what the webhook signed is ours: anything else a pod author wrote binds nothing.
  if (key && !verifyBinding(key, namespace, target, refs, a[bindingAnnotation(target)])) return undefined;
  return refs;
}

const profileOf = (ref: string | undefined) => (ref?.startsWith(PROFILE_REF_PREFIX) ? ref.slice(PROFILE_REF_PREFIX.length) : undefined);

function unconfinedAsk(c: Container): string | undefined {
  const sc = c.securityContext;
  if (!sc) return undefined;
  if (sc.privileged === true) return 'is privileged';
  if (sc.appArmorProfile?.type === 'Unconfined') return 'asks for an Unconfined AppArmor profile';
  if (sc.seccompProfile?.type === 'Unconfined') return 'asks for an Unconfined Seccomp profile';
  return undefined;
}

const same = (a: ProfileRef | undefined, b: ProfileRef) => a?.type === b.type && a?.localhostProfile === b.localhostProfile;

export function confineEphemeral(input: EphemeralInput): EphemeralResult {
  const result: EphemeralResult = { ops: [], decisions: [] };
  const { pod } = input;
  const list = pod.spec.ephemeralContainers;
  if (!Array.isArray(list) || list.length === 0) return result;
  const old = new Set((input.oldPod.spec.ephemeralContainers ?? []).map((c) => c.name));
  const first = pod.spec.containers[0]?.name;

  list.forEach((c, index) => {
    if (old.has(c.name)) return;
    const target = typeof c.targetContainerName === 'string' && c.targetContainerName !== '' ? c.targetContainerName : first;
    if (target === undefined) return;
    const refs = targetRefs(pod, input.namespace, target, input.bindingKey);
    if (!refs) return; // the target is not confined by us: `kubectl debug` works as without varmor
    const ask = unconfinedAsk(c);
    if (ask) {
      result.denied ??= `varmor: ephemeral container ${c.name} ${ask} but targets container ${target}, which is sandboxed: it would escape the sandbox`;
      return;
    }
    const appArmor = input.appArmor !== 'annotation' ? profileOf(refs.AppArmor) : undefined;
    const seccomp = profileOf(refs.Seccomp);
    const decision: ContainerDecision = {
      list: 'ephemeralContainers',
      container: c.name,
      policy: `target ${target}`,
      profileName: profileOf(refs.BPF) ?? profileOf(refs.Seccomp) ?? profileOf(refs.AppArmor) ?? '',
      applied: [],
      skipped: [],
    };
    const set: Partial<Record<'appArmorProfile' | 'seccompProfile', ProfileRef>> = {};
    if (appArmor) set.appArmorProfile = { type: 'Localhost', localhostProfile: appArmor };
    else if (refs.AppArmor?.startsWith(PROFILE_REF_PREFIX))
      // Clusters before 1.30 take AppArmor from an annotation, and annotations cannot change here.
      decision.skipped.push({ enforcer: 'AppArmor', reason: 'AppArmor by annotation (--apparmor annotation): cannot be set on an ephemeral container' });
    if (seccomp) set.seccompProfile = { type: 'Localhost', localhostProfile: seccompLocalhostProfile(seccomp) };
    const applied: Enforcer[] = [];
    if (set.appArmorProfile) applied.push('AppArmor');
    if (set.seccompProfile) applied.push('Seccomp');
    if (refs.BPF?.startsWith(PROFILE_REF_PREFIX)) applied.push('BPF');
    decision.applied = applied;
    result.decisions.push(decision);

    const base = `/spec/ephemeralContainers/${index}/securityContext`;
    const sc = c.securityContext && typeof c.securityContext === 'object' ? c.securityContext : undefined;
    if (!sc) {
      if (set.appArmorProfile || set.seccompProfile) result.ops.push({ op: 'add', path: base, value: set });
      return;
    }
    // `add` replaces an existing member: whatever profile the debug container asked for, it gets its target's.
    if (set.appArmorProfile && !same(sc.appArmorProfile, set.appArmorProfile)) result.ops.push({ op: 'add', path: `${base}/appArmorProfile`, value: set.appArmorProfile });
    if (set.seccompProfile && !same(sc.seccompProfile, set.seccompProfile)) result.ops.push({ op: 'add', path: `${base}/seccompProfile`, value: set.seccompProfile });
  });
  if (result.denied) result.ops = [];
  return result;
}
