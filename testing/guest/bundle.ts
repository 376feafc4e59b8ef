// Turns the guest's TypeScript (runner, scenarios, and the project modules they import: the
// profiler's BPF encoder, the addon's wrapper) into plain ESM for the guest's node. Follows
// relative imports from the entry files, transpiles each file on its own (no type check here:
// `npm run typecheck` covers these files), and keeps the repository layout under /app, so the
// addon wrapper finds build/Release/*.node at the same relative place as on the host.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { GuestBuildError } from './errors.js';

export interface BundledFile {
  /** Path relative to the repository root (.ts files become .js). */
  rel: string;
  /** Transpiled module text, or `copyFrom` for a binary asset (a required .node addon). */
  text?: string;
  copyFrom?: string;
}

const BUILTINS = new Set(builtinModules);

function isBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || BUILTINS.has(spec);
}

/** `./x.js` in a .ts file means `./x.ts` on disk (NodeNext style); plain .js/.mjs files are taken as they are. */
function resolveSource(fromFile: string, spec: string): string {
  const target = resolve(dirname(fromFile), spec);
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!hit) throw new GuestBuildError(`guest bundle: ${fromFile} imports '${spec}', which does not exist`);
  return hit;
}

function transpile(file: string): string {
  const source = readFileSync(file, 'utf8');
  if (!file.endsWith('.ts')) return source;
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return out.outputText;
}

export function bundle(repoRoot: string, entries: string[]): BundledFile[] {
  const out = new Map<string, BundledFile>();
  const queue = entries.map((e) => resolve(repoRoot, e));
  while (queue.length) {
    const file = queue.shift() as string;
    const rel = relative(repoRoot, file).replace(/\.ts$/, '.js');
    if (out.has(rel)) continue;
    if (rel.startsWith('..')) throw new GuestBuildError(`guest bundle: ${file} is outside the repository`);
    if (file.endsWith('.node')) {
      out.set(rel, { rel, copyFrom: file });
      continue;
    }
    const text = transpile(file);
    out.set(rel, { rel, text });
    // Imports are read from the transpiled output: type-only imports are gone by then.
    for (const imp of ts.preProcessFile(text, true, true).importedFiles) {
      const spec = imp.fileName;
      if (spec.startsWith('.')) queue.push(resolveSource(file, spec));
      else if (!isBuiltin(spec)) {
        throw new GuestBuildError(
          `guest bundle: ${rel} imports the package '${spec}'; the guest has no node_modules (keep guest code to node builtins and project modules)`,
        );
      }
    }
  }
  return [...out.values()];
}
