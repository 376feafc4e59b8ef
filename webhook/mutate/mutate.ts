// The admission mutation as a pure function: (Pod, namespace labels, policies, options) -> JSONPatch.
// No I/O, no clock: the same input always gives the same patch, and applying the patch and calling
// again gives no operation (the API server may reinvoke the webhook).
//
// Decisions (README "What the mutation does"):
// - Opt-in: the namespace label `sandbox.varmor.org/enable: "true"`, or the same label on the Pod
//   (what vArmor users put on their workloads). `requireOptIn: false` treats every namespace as in
//   (the embedded mode without opt-in list, and the cluster mode, where the webhook configuration's
//   namespaceSelector has already decided).
// - Containers: a target without `containers` covers every regular container; init and ephemeral
//   containers only when the target names them.
// - A container's own explicit choice wins: an AppArmor or Seccomp profile of type Unconfined, or a
//   Localhost profile other than ours, set on the container (or on the Pod, when the container sets
//   none) is left alone, as is the legacy AppArmor annotation `unconfined`/`localhost/<other>`.
//   RuntimeDefault is replaced: our profiles build on the runtime default. Privileged containers
//   keep their Seccomp setting (the runtime runs them unconfined by seccomp anyway). Windows Pods get
//   neither. The value `unconfined` in one of our three annotations opts the container out of that
//   enforcer. BPF has no Pod field: only its annotation.
// - Except under a binding VarmorClusterPolicy: none of those opt-outs keep it out; its profiles
//   are written over them and the override is recorded in the decision.
// - The webhook owns our annotations: in an opted-in namespace, every pod-authored annotation under
//   our prefixes (the three enforcers and the binding signature) that the webhook did not decide is
//   removed, apart from the opt-out value `unconfined`. A pod author cannot bind a container to
//   another namespace's profile by writing `localhost/<its profile>`.
// - With a binding key, each confined container's references are signed (profiler/binding.ts), so
//   the agent can tell webhook-written references from pod-authored ones.

import {
  ANNOTATION,
  ANNOTATION_PREFIX,
  BINDING_ANNOTATION_PREFIX,
  bindingAnnotation,
  type BindingRefs,
  type Enforcer,
  hasProfileRefs,
  OPT_IN_LABEL,
  PROFILE_REF_PREFIX,
  signBinding,
  UNCONFINED,
} from '../../profiler/index.js';
import { boundedMemo } from './memo.js';
import { escapePointer } from './pointer.js';
import type { MatchPolicy } from './policies.js';
import type { PolicyIndex } from './policy-index.js';
import { type Container, type ContainerList, type JsonPatchOp, type Pod, type ProfileRef } from './types.js';
import { podWorkloads } from './workloads.js';

export type AppArmorStyle = 'field' | 'annotation' | 'both';

export interface MutationOptions {
  /** `field` (Kubernetes >= 1.30, default), `annotation` (older clusters) or `both`. */
  appArmor?: AppArmorStyle;
  /**
   * false: every namespace counts as opted in: the embedded mode without an opt-in list, and the
   * cluster mode (the API server only sends Pods of namespaces the namespaceSelector matched).
   * Default true.
   */
  requireOptIn?: boolean;
  /** The HMAC key the agents share (profiler/binding.ts); without it, nothing is signed. */
  bindingKey?: Buffer;
}

export interface MutationInput {
  pod: Pod;
  /** The AdmissionRequest's namespace (a Pod's own metadata.namespace may be empty at CREATE). */
  namespace: string;
  /** Labels of the namespace; undefined when unknown. */
  namespaceLabels?: Readonly<Record<string, string>>;
  policies: PolicyIndex;
  options?: MutationOptions;
}

export interface SkippedEnforcer {
  enforcer: Enforcer;
  reason: string;
}

export interface ContainerDecision {
  list: ContainerList;
  container: string;
  policy: string;
  profileName: string;
  /** Enforcers this container is (now) confined by. */
  applied: Enforcer[];
  skipped: SkippedEnforcer[];
  /** A binding policy's overrides of the pod author's opt-outs (`<Enforcer>: <what was overridden>`). */
  overrides?: string[];
}

export interface Conflict {
  container: string;
  winner: string;
  losers: string[];
}

export interface MutationResult {
  ops: JsonPatchOp[];
  optedIn: boolean;
  decisions: ContainerDecision[];
  conflicts: Conflict[];
}

const LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

interface ContainerKeys {
  appArmor: string;
  seccomp: string;
  bpf: string;
  legacyAppArmor: string;
}

// Container names recur across Pods: their annotation keys and escaped paths are built once.
const containerKeys = boundedMemo(
  (name): ContainerKeys => ({
    appArmor: ANNOTATION.appArmor(name),
    seccomp: ANNOTATION.seccomp(name),
    bpf: ANNOTATION.bpf(name),
    legacyAppArmor: ANNOTATION.legacyAppArmor(name),
  }),
);
const annotationPath = boundedMemo((key) => `/metadata/annotations/${escapePointer(key)}`);

export function isOptedIn(input: Pick<MutationInput, 'pod' | 'namespaceLabels' | 'options'>): boolean {
  if (input.options?.requireOptIn === false) return true;
  if (input.namespaceLabels?.[OPT_IN_LABEL] === 'true') return true;
  return input.pod.metadata?.labels?.[OPT_IN_LABEL] === 'true';
}

export function mutatePod(input: MutationInput): MutationResult {
  const result: MutationResult = { ops: [], optedIn: isOptedIn(input), decisions: [], conflicts: [] };
  if (!result.optedIn) return result;
  const { pod } = input;
  const annotations = pod.metadata?.annotations ?? NO_LABELS;
  const wanted = new Map<string, string>();
  const scOps: JsonPatchOp[] = [];
  const matched = input.policies.size === 0 ? [] : input.policies.match(input.namespace, podWorkloads(pod), pod.metadata?.labels ?? NO_LABELS);
  const ctx: Ctx = { pod, annotations, wanted, appArmor: input.options?.appArmor ?? 'field' };

  if (matched.length) decideAll(ctx, matched, result, scOps);
  const key = input.options?.bindingKey;
  if (key) for (const d of result.decisions) sign(key, input.namespace, d.container, wanted);
  addAnnotationOps(pod, annotations, wanted, result.ops);
  for (const op of scOps) result.ops.push(op);
  return result;
}

/** Signs the references the patched Pod will carry for this container, when it has any. */
function sign(key: Buffer, namespace: string, container: string, wanted: Map<string, string>): void {
  const keys = containerKeys(container);
  const refs: BindingRefs = { AppArmor: wanted.get(keys.appArmor), BPF: wanted.get(keys.bpf), Seccomp: wanted.get(keys.seccomp) };
  if (hasProfileRefs(refs)) wanted.set(bindingAnnotation(container), signBinding(key, namespace, container, refs));
}

function decideAll(ctx: Ctx, matched: readonly MatchPolicy[], result: MutationResult, scOps: JsonPatchOp[]): void {
  const { pod } = ctx;
  for (const list of LISTS) {
    const containers = pod.spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((c, index) => {
      let winner: MatchPolicy | undefined;
      let losers: string[] | undefined;
      for (const p of matched) {
        if (!(p.containers ? p.containers.has(c.name) : list === 'containers')) continue;
        if (!winner) winner = p;
        else (losers ??= []).push(p.id);
      }
      if (!winner) return;
      if (losers) result.conflicts.push({ container: c.name, winner: winner.id, losers });
      result.decisions.push(decide(ctx, winner, list, index, c, scOps));
    });
  }
}

interface Ctx {
  pod: Pod;
  annotations: Readonly<Record<string, string>>;
  wanted: Map<string, string>;
  appArmor: AppArmorStyle;
}

const sameProfile = (a: ProfileRef | undefined, type: string, localhostProfile: string) =>
  a !== undefined && a !== null && a.type === type && a.localhostProfile === localhostProfile;

/** null: no profile set here; undefined: set, and ours to replace; a string: why it keeps us out. */
function explicitProfile(ref: ProfileRef | undefined, where: 'container' | 'pod', ours: string): string | undefined | null {
  if (!ref || typeof ref !== 'object') return null;
  if (ref.type === 'Unconfined') return `${where} sets Unconfined`;
  if (ref.type === 'Localhost' && ref.localhostProfile !== ours) return `${where} sets its own Localhost profile`;
  return undefined;
}

/** Why an explicit profile (container first, then Pod) keeps us out, or undefined. */
function ownChoice(container: ProfileRef | undefined, pod: ProfileRef | undefined, ours: string): string | undefined {
  const own = explicitProfile(container, 'container', ours);
  if (own !== null) return own;
  return explicitProfile(pod, 'pod', ours) ?? undefined;
}

function decide(ctx: Ctx, p: MatchPolicy, list: ContainerList, index: number, c: Container, scOps: JsonPatchOp[]): ContainerDecision {
  const { annotations, wanted, pod } = ctx;
  const ref = p.localhostRef;
  const decision: ContainerDecision = { list, container: c.name, policy: p.id, profileName: p.profileName, applied: [], skipped: [] };
  const skipped = decision.skipped;
  const keys = containerKeys(c.name);
  const sc = c.securityContext && typeof c.securityContext === 'object' ? c.securityContext : undefined;
  const podSc = pod.spec.securityContext && typeof pod.spec.securityContext === 'object' ? pod.spec.securityContext : undefined;
  const windows = pod.spec.os?.name === 'windows';
  // A binding policy overrides these opt-outs instead of being kept out by them.
  const binding = p.binding;
  const override = (enforcer: Enforcer, why: string | undefined) => {
    if (why) (decision.overrides ??= []).push(`${enforcer}: ${why}`);
  };
  const optOut = (key: string) => (annotations[key] === UNCONFINED ? `opted out by annotation ${key}` : undefined);
  let setAppArmor = false;
  let setSeccomp = false;

  if (p.enforcers.has('AppArmor')) {
    const legacy = annotations[keys.legacyAppArmor];
    const out = optOut(keys.appArmor);
    const own = ownChoice(sc?.appArmorProfile, podSc?.appArmorProfile, p.profileName);
    const legacyOwn =
      legacy !== undefined && (legacy === UNCONFINED || (legacy.startsWith(PROFILE_REF_PREFIX) && legacy !== ref)) ? `annotation ${keys.legacyAppArmor} is ${legacy}` : undefined;
    if (out && !binding) skipped.push({ enforcer: 'AppArmor', reason: out });
    else if (windows) skipped.push({ enforcer: 'AppArmor', reason: 'Windows pod' });
    else if (own && !binding) skipped.push({ enforcer: 'AppArmor', reason: own });
    else if (legacyOwn && !binding) skipped.push({ enforcer: 'AppArmor', reason: legacyOwn });
    else {
      override('AppArmor', out);
      override('AppArmor', own);
      override('AppArmor', legacyOwn);
      decision.applied.push('AppArmor');
      wanted.set(keys.appArmor, ref);
      // An explicit profile field being overridden means the cluster has the field: write it whatever the style.
      setAppArmor = (ctx.appArmor !== 'annotation' || own !== undefined) && !sameProfile(sc?.appArmorProfile, 'Localhost', p.profileName);
      // An existing legacy annotation must agree with the field, or the API server refuses the Pod.
      if (ctx.appArmor !== 'field' || legacy !== undefined) wanted.set(keys.legacyAppArmor, ref);
    }
  }

  if (p.enforcers.has('Seccomp')) {
    const path = p.seccompPath;
    const out = optOut(keys.seccomp);
    const own = ownChoice(sc?.seccompProfile, podSc?.seccompProfile, path);
    if (out && !binding) skipped.push({ enforcer: 'Seccomp', reason: out });
    else if (windows) skipped.push({ enforcer: 'Seccomp', reason: 'Windows pod' });
    else if (sc?.privileged === true)
      // Even a binding policy cannot help here: the runtime ignores Seccomp for privileged containers.
      skipped.push({ enforcer: 'Seccomp', reason: binding ? 'privileged container (binding policy: the runtime ignores Seccomp for it)' : 'privileged container' });
    else if (own && !binding) skipped.push({ enforcer: 'Seccomp', reason: own });
    else {
      override('Seccomp', out);
      override('Seccomp', own);
      decision.applied.push('Seccomp');
      wanted.set(keys.seccomp, ref);
      setSeccomp = !sameProfile(sc?.seccompProfile, 'Localhost', path);
    }
  }

  if (p.enforcers.has('BPF')) {
    const out = optOut(keys.bpf);
    if (out && !binding) skipped.push({ enforcer: 'BPF', reason: out });
    else {
      override('BPF', out);
      decision.applied.push('BPF');
      wanted.set(keys.bpf, ref);
    }
  }

  if (setAppArmor || setSeccomp) {
    // The values are the policy's shared, frozen objects (see SecurityContextValues). `add` on an
    // existing member replaces it (RFC 6902), which is how a binding policy overrides a profile.
    const values = p.securityContext;
    const base = `/spec/${list}/${index}/securityContext`;
    if (!sc) scOps.push({ op: 'add', path: base, value: setAppArmor && setSeccomp ? values.both : setAppArmor ? values.onlyAppArmor : values.onlySeccomp });
    else {
      if (setAppArmor) scOps.push({ op: 'add', path: `${base}/appArmorProfile`, value: values.appArmorProfile });
      if (setSeccomp) scOps.push({ op: 'add', path: `${base}/seccompProfile`, value: values.seccompProfile });
    }
  }
  return decision;
}

const OUR_PREFIXES: readonly string[] = [ANNOTATION_PREFIX.AppArmor, ANNOTATION_PREFIX.BPF, ANNOTATION_PREFIX.Seccomp];

/** Whether the webhook removes this pod-authored annotation: ours, not decided now, and not an opt-out. */
function forged(key: string, value: string, wanted: Map<string, string>): boolean {
  if (wanted.has(key)) return false;
  if (key.startsWith(BINDING_ANNOTATION_PREFIX)) return true;
  for (const prefix of OUR_PREFIXES) if (key.startsWith(prefix)) return value !== UNCONFINED;
  return false;
}

/**
 * Adds to `out` the removal of pod-authored annotations of ours that were not decided, and our
 * wanted annotations that differ from what the Pod has.
 */
function addAnnotationOps(pod: Pod, existing: Readonly<Record<string, string>>, wanted: Map<string, string>, out: JsonPatchOp[]): void {
  const meta = pod.metadata && typeof pod.metadata === 'object' ? pod.metadata : undefined;
  if (meta && meta.annotations && typeof meta.annotations === 'object') {
    for (const k in existing)
      if (Object.prototype.hasOwnProperty.call(existing, k) && forged(k, existing[k], wanted)) out.push({ op: 'remove', path: annotationPath(k) });
    wanted.forEach((v, k) => {
      if (existing[k] !== v) out.push({ op: 'add', path: annotationPath(k), value: v });
    });
    return;
  }
  // No annotations object yet: one op adds it whole (JSONPatch cannot add into a missing parent).
  const changed: Record<string, string> = {};
  let any = false;
  wanted.forEach((v, k) => {
    if (existing[k] !== v) {
      changed[k] = v;
      any = true;
    }
  });
  if (!any) return;
  out.push(meta ? { op: 'add', path: '/metadata/annotations', value: changed } : { op: 'add', path: '/metadata', value: { annotations: changed } });
}
