// The admission mutation as a pure function: (Pod, namespace labels, policies, options) -> JSONPatch.
// No I/O, no clock: the same input always gives the same patch, and applying the patch and calling
// again gives no operation (the API server may reinvoke the webhook).
//
// Decisions (README "Admission"):
// - Opt-in: the namespace label `sandbox.varmor.org/enable: "true"`, or the same label on the Pod
//   (what vArmor users put on their workloads). `requireOptIn: false` treats every namespace as in.
// - Containers: a target without `containers` covers every regular container; init and ephemeral
//   containers only when the target names them.
// - A container's own explicit choice wins: an AppArmor or Seccomp profile of type Unconfined, or a
//   Localhost profile other than ours, set on the container (or on the Pod, when the container sets
//   none) is left alone, as is the legacy AppArmor annotation `unconfined`/`localhost/<other>`.
//   RuntimeDefault is replaced: our profiles build on the runtime default. Privileged containers
//   keep their Seccomp setting (the runtime runs them unconfined by seccomp anyway). Windows Pods get
//   neither. The value `unconfined` in one of our three annotations opts the container out of that
//   enforcer. BPF has no Pod field: only its annotation.
// - Only our annotations and the two securityContext fields are written; nothing is removed.

import type { Enforcer } from '../../profiler/api/types.js';
import { escapePointer } from './pointer.js';
import type { MatchPolicy, PolicyIndex } from './policies.js';
import { ANNOTATION, OPT_IN_LABEL, UNCONFINED, type Container, type ContainerList, type JsonPatchOp, type Pod, type ProfileRef } from './types.js';
import { podWorkloads, type Workload } from './workloads.js';

export type AppArmorStyle = 'field' | 'annotation' | 'both';

export interface MutationOptions {
  /** `field` (Kubernetes >= 1.30, default), `annotation` (older clusters) or `both`. */
  appArmor?: AppArmorStyle;
  /** false: every namespace counts as opted in (the embedded mode without a cluster). Default true. */
  requireOptIn?: boolean;
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

export function isOptedIn(input: Pick<MutationInput, 'pod' | 'namespaceLabels' | 'options'>): boolean {
  if (input.options?.requireOptIn === false) return true;
  if (input.namespaceLabels?.[OPT_IN_LABEL] === 'true') return true;
  return input.pod.metadata?.labels?.[OPT_IN_LABEL] === 'true';
}

function podMatches(p: MatchPolicy, workloads: readonly Workload[], labels: Readonly<Record<string, string>>): boolean {
  for (const w of workloads) {
    if (w.kind !== p.targetKind) continue;
    if (p.targetName !== undefined) return w.name === p.targetName;
    return p.selector !== undefined && p.selector(labels);
  }
  return false;
}

export function mutatePod(input: MutationInput): MutationResult {
  const result: MutationResult = { ops: [], optedIn: isOptedIn(input), decisions: [], conflicts: [] };
  if (!result.optedIn || input.policies.size === 0) return result;
  const { pod } = input;
  const labels = pod.metadata?.labels ?? NO_LABELS;
  const workloads = podWorkloads(pod);
  const matched: MatchPolicy[] = [];
  for (const list of input.policies.candidates(input.namespace)) {
    for (const p of list) if (podMatches(p, workloads, labels)) matched.push(p);
  }
  if (matched.length === 0) return result;

  const annotations = pod.metadata?.annotations ?? NO_LABELS;
  const wanted = new Map<string, string>();
  const scOps: JsonPatchOp[] = [];
  const ctx: Ctx = { pod, annotations, wanted, appArmor: input.options?.appArmor ?? 'field' };

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

  result.ops.push(...annotationOps(pod, annotations, wanted), ...scOps);
  return result;
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
  const sc = c.securityContext && typeof c.securityContext === 'object' ? c.securityContext : undefined;
  const podSc = pod.spec.securityContext && typeof pod.spec.securityContext === 'object' ? pod.spec.securityContext : undefined;
  const windows = pod.spec.os?.name === 'windows';
  const fields: Record<string, ProfileRef> = {};

  if (p.enforcers.has('AppArmor')) {
    const key = ANNOTATION.appArmor(c.name);
    const legacyKey = ANNOTATION.legacyAppArmor(c.name);
    const legacy = annotations[legacyKey];
    const own = ownChoice(sc?.appArmorProfile, podSc?.appArmorProfile, p.profileName);
    if (annotations[key] === UNCONFINED) skipped.push({ enforcer: 'AppArmor', reason: `opted out by annotation ${key}` });
    else if (windows) skipped.push({ enforcer: 'AppArmor', reason: 'Windows pod' });
    else if (own) skipped.push({ enforcer: 'AppArmor', reason: own });
    else if (legacy !== undefined && (legacy === UNCONFINED || (legacy.startsWith('localhost/') && legacy !== ref)))
      skipped.push({ enforcer: 'AppArmor', reason: `annotation ${legacyKey} is ${legacy}` });
    else {
      decision.applied.push('AppArmor');
      wanted.set(key, ref);
      if (ctx.appArmor !== 'annotation' && !sameProfile(sc?.appArmorProfile, 'Localhost', p.profileName))
        fields.appArmorProfile = { type: 'Localhost', localhostProfile: p.profileName };
      // An existing legacy annotation must agree with the field, or the API server refuses the Pod.
      if (ctx.appArmor !== 'field' || legacy !== undefined) wanted.set(legacyKey, ref);
    }
  }

  if (p.enforcers.has('Seccomp')) {
    const key = ANNOTATION.seccomp(c.name);
    const path = p.seccompPath;
    const own = ownChoice(sc?.seccompProfile, podSc?.seccompProfile, path);
    if (annotations[key] === UNCONFINED) skipped.push({ enforcer: 'Seccomp', reason: `opted out by annotation ${key}` });
    else if (windows) skipped.push({ enforcer: 'Seccomp', reason: 'Windows pod' });
    else if (sc?.privileged === true) skipped.push({ enforcer: 'Seccomp', reason: 'privileged container' });
    else if (own) skipped.push({ enforcer: 'Seccomp', reason: own });
    else {
      decision.applied.push('Seccomp');
      wanted.set(key, ref);
      if (!sameProfile(sc?.seccompProfile, 'Localhost', path)) fields.seccompProfile = { type: 'Localhost', localhostProfile: path };
    }
  }

  if (p.enforcers.has('BPF')) {
    const key = ANNOTATION.bpf(c.name);
    if (annotations[key] === UNCONFINED) skipped.push({ enforcer: 'BPF', reason: `opted out by annotation ${key}` });
    else {
      decision.applied.push('BPF');
      wanted.set(key, ref);
    }
  }

  const names = Object.keys(fields);
  if (names.length) {
    const base = `/spec/${list}/${index}/securityContext`;
    if (!sc) scOps.push({ op: 'add', path: base, value: fields });
    else for (const f of names) scOps.push({ op: 'add', path: `${base}/${escapePointer(f)}`, value: fields[f] });
  }
  return decision;
}

function annotationOps(pod: Pod, existing: Readonly<Record<string, string>>, wanted: Map<string, string>): JsonPatchOp[] {
  const changes: [string, string][] = [];
  for (const [k, v] of wanted) if (existing[k] !== v) changes.push([k, v]);
  if (!changes.length) return [];
  if (!pod.metadata || typeof pod.metadata !== 'object') return [{ op: 'add', path: '/metadata', value: { annotations: Object.fromEntries(changes) } }];
  if (!pod.metadata.annotations || typeof pod.metadata.annotations !== 'object')
    return [{ op: 'add', path: '/metadata/annotations', value: Object.fromEntries(changes) }];
  return changes.map(([k, v]) => ({ op: 'add', path: `/metadata/annotations/${escapePointer(k)}`, value: v }));
}
