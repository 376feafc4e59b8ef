// A FAKE KubeClient (controller/kube.ts) that keeps every object in memory, for the controller's
// unit tests: the reconcile runs against it end to end without an API server. It behaves as
// the kube-apiserver does where the controller relies on it: resourceVersions (409 on a stale
// replace, 422 without one), 404 on a missing object, 409 AlreadyExists on create, status
// subresources (a main-resource write keeps the stored status, a status write keeps the rest),
// generation bumped by spec changes only, finalizers holding a deletion (deletionTimestamp)
// until the last one goes, no new finalizer on an object being deleted. It has no garbage
// collector (owner references) and no admission. The real thing is e2e/controller/*.test.ts.

import { API_VERSION } from '../../profiler/api/types.js';
import { RESTARTED_AT_ANNOTATION } from '../../profiler/api/well-known.js';
import { KubeApiError } from '../../controller/errors.js';
import type { CrKind, InvolvedObject, KubeClient, Obj } from '../../controller/kube.js';
import type { WorkloadKind, WorkloadRef } from '../../controller/targets.js';
import type { PodRef } from '../../controller/pods.js';

export type Verb =
  | 'get'
  | 'list'
  | 'create'
  | 'replace'
  | 'replaceStatus'
  | 'delete'
  | 'listWorkloads'
  | 'listPods'
  | 'restartWorkload'
  | 'createEvent';

/** One call the client received, in order; `body` is a copy of what was sent. */
export interface Call {
  verb: Verb;
  kind: string;
  namespace?: string;
  name?: string;
  body?: unknown;
}

export interface RecordedEvent {
  involvedObject: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  time: string;
  component: string;
}

export interface Workload {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  generation: number;
  templateAnnotations: Record<string, string>;
}

const WRITES: readonly Verb[] = [
  'create',
  'replace',
  'replaceStatus',
  'delete',
  'restartWorkload',
  'createEvent',
];
const CLUSTER_SCOPED: readonly string[] = ['VarmorClusterPolicy'];

function copy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/** Equality, inequality and existence terms (`a=b,c!=d,e`): what the controller's selectors use. */
function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(',').every((term) => {
    const ne = term.split('!=');
    if (ne.length === 2) return l[ne[0].trim()] !== ne[1].trim();
    const eq = term.split(/==?/);
    if (eq.length === 2) return l[eq[0].trim()] === eq[1].trim();
    return term.trim() in l;
  });
}

/** Everything but metadata and status: a change here bumps the generation. */
function specOf(o: Obj): string {
  const rest: Record<string, unknown> = { ...(o as unknown as Record<string, unknown>) };
  delete rest.metadata;
  delete rest.status;
  delete rest.apiVersion;
  delete rest.kind;
  return JSON.stringify(rest);
}

export class MemoryKubeClient implements KubeClient {
  readonly calls: Call[] = [];
  readonly events: RecordedEvent[] = [];
  private readonly objects = new Map<string, Obj>();
  private readonly workloadStore = new Map<string, Workload>();
  private rv = 100;
  private uids = 0;
  private readonly faults: { verb: Verb; kind?: string; err: () => Error }[] = [];
  private readonly hooks: { verb: Verb; kind?: string; fn: () => void }[] = [];

  /** Time for creationTimestamp and deletionTimestamp (a test passes its ManualClock's). */
  constructor(private readonly now: () => Date = () => new Date()) {}

  // ---- what the test sees and arranges (not recorded as calls) ----

  /** The stored object, as a copy. */
  peek<T>(kind: CrKind, namespace: string | undefined, name: string): T | undefined {
    return copy(this.objects.get(keyOf(kind, namespace, name))) as T | undefined;
  }

  /** Every stored object of a kind, as copies, sorted by namespace and name. */
  all<T>(kind: CrKind): T[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${kind}/`))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, o]) => copy(o) as unknown as T);
  }

  /** Store an object as someone else would have written it (no call recorded); returns the stored copy. */
  seed<T extends Obj>(kind: CrKind, obj: T): T {
    return this.store(kind, obj, { keepStatus: true });
  }

  /** Change a stored object in place as someone else would (an agent's status write, a user's edit). */
  mutate<T extends Obj>(kind: CrKind, namespace: string | undefined, name: string, edit: (o: T) => T): T {
    const k = keyOf(kind, namespace, name);
    const cur = this.objects.get(k) as T | undefined;
    if (!cur) throw new Error(`mutate: no ${k}`);
    const next = edit(copy(cur));
    if (specOf(next) !== specOf(cur))
      next.metadata = { ...next.metadata, generation: (cur.metadata.generation ?? 1) + 1 };
    next.metadata = { ...next.metadata, resourceVersion: this.nextRv() };
    return this.put(kind, next);
  }

  addWorkload(kind: WorkloadKind, namespace: string, name: string, labels: Record<string, string>): void {
    this.workloadStore.set(keyOf(kind, namespace, name), {
      kind,
      namespace,
      name,
      labels,
      generation: 1,
      templateAnnotations: {},
    });
  }

  workload(kind: WorkloadKind, namespace: string, name: string): Workload | undefined {
    return copy(this.workloadStore.get(keyOf(kind, namespace, name)));
  }

  /** The next call of `verb` (on `kind`, if given) fails with this HTTP status before doing anything. */
  failNext(verb: Verb, kind: string | undefined, status: number, reason?: string): void {
    this.faults.push({
      verb,
      kind,
      err: () => new KubeApiError(status, `${verb} ${kind ?? ''}: injected ${status}`, reason),
    });
  }

  /** Run `fn` just before the next call of `verb` (on `kind`, if given) takes effect: a racing writer. */
  beforeNext(verb: Verb, kind: string | undefined, fn: () => void): void {
    this.hooks.push({ verb, kind, fn });
  }

  /** The calls that change something, in order. */
  get writes(): Call[] {
    return this.calls.filter((c) => WRITES.includes(c.verb));
  }

  /** Forget the recorded calls and events (the store stays). */
  resetCalls(): void {
    this.calls.length = 0;
    this.events.length = 0;
  }

  // ---- the KubeClient interface ----

  async get<T>(kind: CrKind, namespace: string | undefined, name: string): Promise<T | undefined> {
    this.enter({ verb: 'get', kind, namespace, name });
    return this.peek<T>(kind, namespace, name);
  }

  async list<T>(kind: CrKind, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
    this.enter({ verb: 'list', kind, namespace, body: labelSelector });
    return this.all<Obj>(kind).filter(
      (o) =>
        (namespace === undefined || o.metadata.namespace === namespace) &&
        matches(o.metadata.labels, labelSelector),
    ) as unknown as T[];
  }

  async create<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
    this.enter({
      verb: 'create',
      kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      body: obj,
    });
    const k = keyOf(kind, this.ns(kind, obj), obj.metadata.name ?? '');
    if (this.objects.has(k)) throw new KubeApiError(409, `create ${k}: already exists`, 'AlreadyExists');
    return this.store(kind, obj, { keepStatus: false });
  }

  async replace<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
    this.enter({
      verb: 'replace',
      kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      body: obj,
    });
    const cur = this.current(kind, obj);
    const next = copy(obj);
    const deleting = cur.metadata.deletionTimestamp !== undefined;
    if (deleting && (obj.metadata.finalizers ?? []).some((f) => !(cur.metadata.finalizers ?? []).includes(f)))
      throw new KubeApiError(
        422,
        `replace ${kind}: no new finalizers can be added while the object is being deleted`,
        'Invalid',
      );
    const status = (cur as unknown as { status?: unknown }).status;
    (next as unknown as { status?: unknown }).status = copy(status);
    if (status === undefined) delete (next as unknown as { status?: unknown }).status;
    next.metadata = {
      ...next.metadata,
      uid: cur.metadata.uid,
      creationTimestamp: cur.metadata.creationTimestamp,
      deletionTimestamp: cur.metadata.deletionTimestamp,
      generation: (cur.metadata.generation ?? 1) + (specOf(next) !== specOf(cur) ? 1 : 0),
      resourceVersion: this.nextRv(),
    };
    if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
    return this.put(kind, next);
  }

  async replaceStatus<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
    this.enter({
      verb: 'replaceStatus',
      kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      body: obj,
    });
    const cur = this.current(kind, obj);
    const next = copy(cur) as unknown as T & { status?: unknown };
    next.status = copy((obj as unknown as { status?: unknown }).status);
    next.metadata = { ...next.metadata, resourceVersion: this.nextRv() };
    return this.put(kind, next);
  }

  async delete(kind: CrKind, namespace: string | undefined, name: string): Promise<boolean> {
    this.enter({ verb: 'delete', kind, namespace, name });
    const k = keyOf(kind, namespace, name);
    const cur = this.objects.get(k);
    if (!cur) return false;
    if ((cur.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(k);
      return true;
    }
    if (!cur.metadata.deletionTimestamp) {
      cur.metadata = {
        ...cur.metadata,
        deletionTimestamp: this.now().toISOString(),
        resourceVersion: this.nextRv(),
      };
    }
    return true;
  }

  /** Pods as the controller sees them (controller/pods.ts PodRef), by namespace/name. */
  readonly pods = new Map<string, PodRef>();

  addPod(pod: PodRef): void {
    this.pods.set(`${pod.namespace}/${pod.name}`, copy(pod));
  }

  removePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  async listPods(namespace?: string): Promise<PodRef[]> {
    this.enter({ verb: 'listPods', kind: 'Pod', namespace });
    return [...this.pods.values()].filter((p) => namespace === undefined || p.namespace === namespace).map((p) => copy(p));
  }

  async listWorkloads(kind: WorkloadKind, namespace?: string): Promise<WorkloadRef[]> {
    this.enter({ verb: 'listWorkloads', kind, namespace });
    return [...this.workloadStore.values()]
      .filter((w) => w.kind === kind && (namespace === undefined || w.namespace === namespace))
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name, labels: { ...w.labels } }));
  }

  async restartWorkload(
    kind: WorkloadKind,
    namespace: string,
    name: string,
    stamp: string,
  ): Promise<boolean> {
    this.enter({ verb: 'restartWorkload', kind, namespace, name, body: stamp });
    const w = this.workloadStore.get(keyOf(kind, namespace, name));
    if (!w) return false;
    // A merge patch that leaves the template as it is changes nothing: no new rollout.
    if (w.templateAnnotations[RESTARTED_AT_ANNOTATION] !== stamp) {
      w.templateAnnotations[RESTARTED_AT_ANNOTATION] = stamp;
      w.generation++;
    }
    return true;
  }

  async createEvent(
    obj: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    now: Date,
    component: string,
  ): Promise<void> {
    this.enter({
      verb: 'createEvent',
      kind: 'Event',
      namespace: obj.namespace ?? 'default',
      name: obj.name,
      body: { type, reason, message },
    });
    this.events.push({
      involvedObject: copy(obj),
      type,
      reason,
      message,
      time: now.toISOString(),
      component,
    });
  }

  // ---- internals ----

  private enter(call: Call): void {
    this.calls.push({ ...call, ...(call.body !== undefined ? { body: copy(call.body) } : {}) });
    const hook = this.hooks.findIndex(
      (h) => h.verb === call.verb && (h.kind === undefined || h.kind === call.kind),
    );
    if (hook >= 0) this.hooks.splice(hook, 1)[0].fn();
    const fault = this.faults.findIndex(
      (f) => f.verb === call.verb && (f.kind === undefined || f.kind === call.kind),
    );
    if (fault >= 0) throw this.faults.splice(fault, 1)[0].err();
  }

  private nextRv(): string {
    return String(++this.rv);
  }

  private ns(kind: CrKind, obj: Obj): string | undefined {
    return CLUSTER_SCOPED.includes(kind) ? undefined : obj.metadata.namespace;
  }

  private current(kind: CrKind, obj: Obj): Obj {
    const k = keyOf(kind, this.ns(kind, obj), obj.metadata.name ?? '');
    const cur = this.objects.get(k);
    if (!cur) throw new KubeApiError(404, `${k} not found`, 'NotFound');
    if (!obj.metadata.resourceVersion)
      throw new KubeApiError(
        422,
        `${k}: metadata.resourceVersion must be specified for an update`,
        'Invalid',
      );
    if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw new KubeApiError(
        409,
        `${k}: the object has been modified; please apply your changes to the latest version and try again`,
        'Conflict',
      );
    return cur;
  }

  /** Store a new object: server-set metadata, the status dropped unless seeded. */
  private store<T extends Obj>(kind: CrKind, obj: T, o: { keepStatus: boolean }): T {
    const next = copy(obj) as T & { status?: unknown; apiVersion?: string; kind?: string };
    if (!o.keepStatus) delete next.status;
    next.apiVersion ??= API_VERSION;
    next.kind ??= kind;
    const ns = this.ns(kind, obj);
    next.metadata = {
      ...next.metadata,
      ...(ns !== undefined ? { namespace: ns } : {}),
      uid: next.metadata.uid ?? `uid-${++this.uids}`,
      creationTimestamp: next.metadata.creationTimestamp ?? this.now().toISOString(),
      generation: next.metadata.generation ?? 1,
      resourceVersion: this.nextRv(),
    };
    return this.put(kind, next);
  }

  /** Write `obj` as the stored object; a deleted object whose last finalizer went is removed. */
  private put<T extends Obj>(kind: CrKind, obj: T): T {
    const k = keyOf(kind, this.ns(kind, obj), obj.metadata.name ?? '');
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0)
      this.objects.delete(k);
    else this.objects.set(k, copy(obj));
    return copy(obj);
  }
}
