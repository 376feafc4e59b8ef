// Policies from a folder of YAML/JSON files (the embedded mode without a cluster): every document
// of kind VarmorPolicy or VarmorClusterPolicy is validated by the profiler; invalid ones are logged
// with their field paths and skipped. The folder is watched and re-read as a whole on change.
// Files are read by the profiler's reader (profiler/yaml.ts), as `varmor validate` reads them:
// duplicate keys refused, aliases capped, `kind: List` expanded; an unreadable document is logged
// and skipped, the rest of its file still loads.

import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { readDocuments } from '../../profiler/index.js';
import type { PolicyStore, StoreLogger } from './store.js';

export interface FolderDocument {
  obj: unknown;
  source: string; // file#document, file#document[item] for an item of a `kind: List`
}

export interface FolderLoad {
  files: number;
  loaded: number;
  rejected: number;
  /** Documents that could not be parsed or are not policies, with the reason. */
  ignored: { source: string; reason: string }[];
}

const POLICY_KINDS = new Set(['VarmorPolicy', 'VarmorClusterPolicy']);

/** The policy documents of every .yaml/.yml/.json file under `dir` (recursively, sorted by path). */
export async function readPolicyFolder(dir: string): Promise<{ docs: FolderDocument[]; files: number; ignored: FolderLoad['ignored'] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/i.test(e.name))
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
  const docs: FolderDocument[] = [];
  const ignored: FolderLoad['ignored'] = [];
  for (const file of files) {
    const rel = path.relative(dir, file);
    const text = await readFile(file, 'utf8');
    for (const entry of readDocuments(text)) {
      const source = `${rel}#${entry.document}${entry.ok && entry.item !== undefined ? `[${entry.item}]` : ''}`;
      if (!entry.ok) {
        const e = entry.error;
        ignored.push({ source, reason: `${e.line ? `line ${e.line}: ` : ''}${e.detail}` });
        continue;
      }
      const obj = entry.value as { kind?: unknown; metadata?: { namespace?: unknown } } | null;
      if (typeof obj !== 'object' || obj === null || !POLICY_KINDS.has(obj.kind as string)) {
        ignored.push({ source, reason: `not a VarmorPolicy or VarmorClusterPolicy (kind ${JSON.stringify((obj as { kind?: unknown } | null)?.kind ?? null)})` });
        continue;
      }
      // kubectl's rule: a namespaced object without a namespace goes to "default".
      if (obj.kind === 'VarmorPolicy' && obj.metadata && typeof obj.metadata === 'object' && obj.metadata.namespace === undefined)
        obj.metadata.namespace = 'default';
      docs.push({ obj, source });
    }
  }
  return { docs, files: files.length, ignored };
}

export class FolderSource {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly store: PolicyStore,
    private readonly log?: StoreLogger,
  ) {}

  async load(): Promise<FolderLoad> {
    const { docs, files, ignored } = await readPolicyFolder(this.dir);
    for (const i of ignored) this.log?.warn({ source: i.source, reason: i.reason }, 'document ignored');
    const { loaded, rejected } = this.store.replaceAll(docs);
    this.log?.info({ dir: this.dir, files, loaded, rejected }, 'policies loaded from folder');
    return { files, loaded, rejected, ignored };
  }

  /** Loads now, then re-loads after changes (debounced). */
  async start(): Promise<FolderLoad> {
    const first = await this.load();
    this.watcher = watch(this.dir, { recursive: false }, () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.chain = this.chain.then(() => this.load()).catch((err: Error) => this.log?.warn({ dir: this.dir, reason: err.message }, 'folder reload failed'));
      }, 200);
    });
    this.watcher.on('error', (err) => this.log?.warn({ dir: this.dir, reason: err.message }, 'folder watch failed'));
    return first;
  }

  /** Resolves when a reload in progress is done. */
  async settled(): Promise<void> {
    await this.chain;
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }
}
