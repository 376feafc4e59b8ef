// BehaviorModeling, the controller's half: when a run ends, whether every node has uploaded,
// and how the per-node records merge into one model. Pure; see CONTRACTS.md "BehaviorModeling
// records" for what the agents write.

import { ANN_MODELING_START, type AnyPolicy, type ArmorProfile, type ArmorProfileModel, type BehaviorData, type Enforcer } from '../profiler/index.js';


/**
 * When the current run started: kept while the ArmorProfile was last built in BehaviorModeling
 * mode (a restart of the controller continues the run), `now` when the policy enters the mode
 * (a new run, even if an earlier one left its annotation behind).
 */
export function modelingStart(
  ap: ArmorProfile | undefined,
  builtForMode: string | undefined,
  now: Date,
): string {
  const prev = ap?.metadata.annotations?.[ANN_MODELING_START];
  return prev && builtForMode === 'BehaviorModeling' ? prev : now.toISOString();
}

/** The merged model belongs to this run: built at or after its start. */
export function modelBuiltForRun(builtAt: string | undefined, start: string): boolean {
  return builtAt !== undefined && Date.parse(builtAt) >= Date.parse(start);
}

export type DynamicResult = NonNullable<ArmorProfileModel['data']['dynamicResult']>;

export interface ModelingInput {
  /** RFC3339 start of the run (annotation on the ArmorProfile). */
  start: string;
  durationMinutes: number;
  now: Date;
  /** Nodes with an entry in the ArmorProfile's status: those expected to upload. */
  expectedNodes: readonly string[];
  /** Nodes whose per-node model exists. */
  uploadedNodes: readonly string[];
  /** How long after the deadline to wait for missing nodes before building without them. */
  graceMs: number;
  /** The merged model is already built (status.ready). */
  modelReady: boolean;
}

export interface ModelingDecision {
  state: 'recording' | 'collecting' | 'completed';
  /** `spec.behaviorModeling.enable` on the ArmorProfile. */
  enable: boolean;
  /** Build the merged model now. */
  build: boolean;
  /** Check again after this long (real time), if set. */
  recheckMs?: number;
  missingNodes: string[];
  message: string;
}

export function modelingDecision(i: ModelingInput): ModelingDecision {
  const startMs = Date.parse(i.start);
  const deadline =
    (Number.isFinite(startMs) ? startMs : i.now.getTime()) + Math.max(0, i.durationMinutes) * 60_000;
  const now = i.now.getTime();
  const uploaded = new Set(i.uploadedNodes);
  const missing = i.expectedNodes.filter((n) => !uploaded.has(n)).sort();
  if (i.modelReady) {
    return {
      state: 'completed',
      enable: false,
      build: false,
      missingNodes: [],
      message: 'behaviour model built',
    };
  }
  if (now < deadline) {
    return {
      state: 'recording',
      enable: true,
      build: false,
      recheckMs: deadline - now,
      missingNodes: missing,
      message: `modelling until ${new Date(deadline).toISOString()}`,
    };
  }
  const graceOver = now >= deadline + i.graceMs;
  if (missing.length === 0 || graceOver) {
    const note = missing.length > 0 ? ` (no records from ${missing.join(', ')})` : '';
    return {
      state: 'completed',
      enable: false,
      build: true,
      missingNodes: missing,
      message: `modelling ended; building the model from ${uploaded.size} node(s)${note}`,
    };
  }
  return {
    state: 'collecting',
    enable: false,
    build: false,
    recheckMs: deadline + i.graceMs - now,
    missingNodes: missing,
    message: `modelling ended; waiting for records from ${missing.join(', ')}`,
  };
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (!a && !b) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])].sort();
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const it of items) m.set(key(it), it);
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
}

/** Canonical JSON (sorted keys): equal records give equal keys whatever order a node wrote them in. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function mergeBehaviorData(
  x: BehaviorData | undefined,
  y: BehaviorData | undefined,
): BehaviorData | undefined {
  if (!x && !y) return undefined;
  const a = x ?? {};
  const b = y ?? {};
  const files = new Map<string, Set<string>>();
  for (const f of [...(a.files ?? []), ...(b.files ?? [])]) {
    const s = files.get(f.path) ?? new Set<string>();
    for (const p of f.permissions ?? []) s.add(p);
    files.set(f.path, s);
  }
  const ptrace = new Map<string, Set<string>>();
  for (const p of [...(a.ptrace ?? []), ...(b.ptrace ?? [])]) {
    const s = ptrace.get(p.peer ?? '') ?? new Set<string>();
    for (const x of p.permissions ?? []) s.add(x);
    ptrace.set(p.peer ?? '', s);
  }
  const out: BehaviorData = {};
  if (a.files || b.files)
    out.files = [...files.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([path, s]) => ({ path, permissions: [...s].sort() }));
  const ex = union(a.executions, b.executions);
  if (ex) out.executions = ex;
  const caps = union(a.capabilities, b.capabilities);
  if (caps) out.capabilities = caps;
  if (a.network || b.network) out.network = uniqueBy([...(a.network ?? []), ...(b.network ?? [])], canon);
  if (a.ptrace || b.ptrace) {
    out.ptrace = [...ptrace.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([peer, s]) => (peer ? { peer, permissions: [...s].sort() } : { permissions: [...s].sort() }));
  }
  if (a.mounts || b.mounts) out.mounts = uniqueBy([...(a.mounts ?? []), ...(b.mounts ?? [])], canon);
  const sys = union(a.syscalls, b.syscalls);
  if (sys) out.syscalls = sys;
  return out;
}

/** Union of the nodes' records: the model allows what any node saw. */
export function mergeDynamicResults(results: readonly (DynamicResult | undefined)[]): DynamicResult {
  let out: DynamicResult = {};
  for (const r of results) {
    if (!r) continue;
    const next: DynamicResult = {};
    const aa = mergeBehaviorData(out.appArmor, r.appArmor);
    if (aa) next.appArmor = aa;
    const bpf = mergeBehaviorData(out.bpf, r.bpf);
    if (bpf) next.bpf = bpf;
    const sys = union(out.seccomp?.syscalls, r.seccomp?.syscalls);
    if (out.seccomp || r.seccomp) next.seccomp = sys ? { syscalls: sys } : {};
    out = next;
  }
  return out;
}

/**
 * The AppArmor allow-list is built from `appArmor` records. Nodes without AppArmor in the
 * kernel record through the BPF audit programs instead, which see the same operations (file
 * opens, execs, capabilities, sockets, ptrace, mounts) in the same shape: use those when no node
 * recorded AppArmor events. Seccomp needs syscall names, which only Seccomp's log gives.
 */
export function withAppArmorFallback(r: DynamicResult): DynamicResult {
  if (r.appArmor || !r.bpf) return r;
  return { ...r, appArmor: structuredClone(r.bpf) };
}

/** The enforcers a model profile can be built for from these records. */
export function modelableEnforcers(r: DynamicResult, enforcers: readonly Enforcer[]): Enforcer[] {
  return enforcers.filter((e) =>
    e === 'AppArmor' ? r.appArmor !== undefined : e === 'Seccomp' ? r.seccomp?.syscalls !== undefined : false,
  );
}

/**
 * The policy the model's own profile is compiled from: DefenseInDepth over the model, for the
 * enforcers that mode supports (AppArmor and Seccomp; vArmor builds no profile from BPF data).
 */
export function modelProfilePolicy(policy: AnyPolicy, enforcers: readonly Enforcer[]): AnyPolicy | undefined {
  const aa = enforcers.includes('AppArmor');
  const sc = enforcers.includes('Seccomp');
  if (!aa && !sc) return undefined;
  return {
    ...policy,
    spec: {
      ...policy.spec,
      policy: {
        enforcer: `${aa ? 'AppArmor' : ''}${sc ? 'Seccomp' : ''}`,
        mode: 'DefenseInDepth',
        defenseInDepth: {
          ...(aa ? { appArmor: { profileType: 'BehaviorModel' } } : {}),
          ...(sc ? { seccomp: { profileType: 'BehaviorModel' } } : {}),
        },
      },
    },
  } as AnyPolicy;
}

/** Does this DefenseInDepth policy compile from a recorded model? */
export function usesBehaviorModel(policy: AnyPolicy): boolean {
  const d = policy.spec?.policy?.defenseInDepth;
  return (
    policy.spec?.policy?.mode === 'DefenseInDepth' &&
    (d?.appArmor?.profileType === 'BehaviorModel' || d?.seccomp?.profileType === 'BehaviorModel')
  );
}
