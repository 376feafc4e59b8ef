// The policies in force (and, in the embedded mode, which namespaces are opted in), fed by a source (folder or cluster informer) and read
// by the admission handler. Writes validate and prepare one policy; the priority index is rebuilt
// lazily on the next read, so an informer's initial list of N policies costs one sort, not N.
//
// A policy update that fails validation leaves the last valid version in force (and is logged and
// counted): the validating webhook should have refused it, and dropping protection because of a
// typo would be the wrong way to fail.
//
// A policy being deleted (metadata.deletionTimestamp set, the controller's finalizer still held while
// it restarts workloads and removes the profiles) is no longer served: a Pod created during the
// deletion must not reference a Seccomp file that is being removed (it would stall in
// CreateContainerConfigError).

import type { MutationState, ValidationResult } from '../admission/handlers.js';
import type { MutationOptions } from '../mutate/mutate.js';
import { preparePolicy, type MatchPolicy } from '../mutate/policies.js';
import { PolicyIndex } from '../mutate/policy-index.js';

export interface StoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PolicyStoreOptions {
  validate: (obj: unknown) => ValidationResult;
  productNamespace?: string;
  mutation?: MutationOptions;
  /** Labels of namespaces not known to the store; the embedded mode opts namespaces in here. */
  defaultNamespaceLabels?: (namespace: string) => Readonly<Record<string, string>> | undefined;
  log?: StoreLogger;
  onRejected?: (source: string) => void;
  onChange?: (index: PolicyIndex) => void;
}

export type UpsertResult = { ok: true; policy: MatchPolicy } | { ok: false; errors: { path: string; message: string }[] };

export function policyKey(obj: { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } }): string {
  const ns = obj.kind === 'VarmorClusterPolicy' ? '' : String(obj.metadata?.namespace ?? 'default');
  return `${String(obj.kind)}/${ns}/${String(obj.metadata?.name ?? '')}`;
}

export class PolicyStore implements MutationState {
  private readonly entries = new Map<string, MatchPolicy>();
  private readonly namespaces = new Map<string, Readonly<Record<string, string>>>();
  private index: PolicyIndex = PolicyIndex.empty;
  private dirty = false;
  readonly options: MutationOptions;

  constructor(private readonly opts: PolicyStoreOptions) {
    this.options = opts.mutation ?? {};
  }

  policies(): PolicyIndex {
    if (this.dirty) {
      this.index = new PolicyIndex(this.entries.values());
      this.dirty = false;
      this.opts.onChange?.(this.index);
    }
    return this.index;
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(namespace) ?? this.opts.defaultNamespaceLabels?.(namespace);
  }

  setNamespace(name: string, labels: Readonly<Record<string, string>> | undefined): void {
    this.namespaces.set(name, Object.freeze({ ...(labels ?? {}) }));
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  upsert(obj: unknown, source: string): UpsertResult {
    const meta = (obj as { metadata?: { deletionTimestamp?: unknown } } | null)?.metadata;
    if (meta && typeof meta === 'object' && meta.deletionTimestamp) {
      const key = policyKey(obj as Parameters<typeof policyKey>[0]);
      if (this.entries.delete(key)) {
        this.dirty = true;
        this.opts.log?.info({ policy: key, source }, 'policy no longer served: being deleted');
      }
      return { ok: false, errors: [{ path: 'metadata.deletionTimestamp', message: 'the policy is being deleted' }] };
    }
    let result: ValidationResult;
    try {
      result = this.opts.validate(obj);
    } catch (err) {
      result = { ok: false, errors: [{ path: 'metadata', message: `cannot be validated: ${(err as Error).message}`, code: 'validator-failed' }] };
    }
    const key = policyKey((obj ?? {}) as Parameters<typeof policyKey>[0]);
    if (!result.ok) {
      this.opts.onRejected?.(source);
      this.opts.log?.warn({ policy: key, source, errors: result.errors }, 'policy skipped: invalid');
      return { ok: false, errors: result.errors };
    }
    let prepared: MatchPolicy;
    try {
      prepared = preparePolicy(result.policy, result.enforcers, { productNamespace: this.opts.productNamespace });
    } catch (err) {
      const e = err as Error & { field?: string };
      this.opts.onRejected?.(source);
      this.opts.log?.warn({ policy: key, source, reason: e.message }, 'policy skipped: invalid');
      return { ok: false, errors: [{ path: e.field ?? 'spec', message: e.message }] };
    }
    this.entries.set(policyKey(result.policy), prepared);
    this.dirty = true;
    return { ok: true, policy: prepared };
  }

  delete(obj: { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } }): boolean {
    const removed = this.entries.delete(policyKey(obj));
    if (removed) this.dirty = true;
    return removed;
  }

  /** Replace everything (a folder re-read): one rebuild. */
  replaceAll(objs: { obj: unknown; source: string }[]): { loaded: number; rejected: number } {
    this.entries.clear();
    this.dirty = true;
    let loaded = 0;
    for (const { obj, source } of objs) if (this.upsert(obj, source).ok) loaded += 1;
    return { loaded, rejected: objs.length - loaded };
  }

  get size(): number {
    return this.entries.size;
  }
}
