// Multi-document YAML as kubectl reads it: documents separated by `---`, empty documents
// skipped, `kind: List` expanded into its items, duplicate keys refused, aliases capped (a
// billion-laughs document is an error, not an out-of-memory). Pure: takes the text, returns plain
// objects. The one reader of policy files: `varmor validate`/`compile` (cli) and the webhook's
// folder source both use it, so a file means the same to both.

import { LineCounter, parseAllDocuments } from 'yaml';

/** Aliases one document may expand; kubectl's reader (sigs.k8s.io/yaml) refuses bombs likewise. */
const MAX_ALIAS_COUNT = 100;

export class YamlParseError extends Error {
  readonly code = 'VARMOR_ERR_YAML_INVALID';
  /** 0-based index of the document that failed. */
  readonly document: number;
  /** 1-based line and column of the error in the text, when the parser knows them. */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong, without the position. */
  readonly detail: string;
  constructor(document: number, message: string, line?: number, column?: number) {
    super(`document ${document}${line ? ` (line ${line})` : ''}: ${message}`);
    this.name = 'YamlParseError';
    this.document = document;
    this.line = line;
    this.column = column;
    this.detail = message;
  }
}

/**
 * One entry of a stream: an object (with the index of its document, and of its place in a
 * `kind: List`'s items), or the error that made a document unreadable.
 */
export type YamlEntry =
  | { ok: true; document: number; item?: number; value: unknown }
  | { ok: false; document: number; error: YamlParseError };

/** Every document of the text, in order; a bad document is an error entry and the others still read. */
export function readDocuments(text: string): YamlEntry[] {
  const out: YamlEntry[] = [];
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, i) => {
    const fail = (message: string, offset: number | undefined): void => {
      const pos = offset === undefined ? undefined : lineCounter.linePos(offset);
      out.push({ ok: false, document: i, error: new YamlParseError(i, message.split('\n')[0], pos?.line, pos?.col) });
    };
    const err = doc.errors[0];
    if (err) return fail(err.message, err.pos[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // The alias cap throws from toJS (a ReferenceError), not into doc.errors.
      return fail((e as Error).message, doc.range[0]);
    }
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && !Array.isArray(value) && (value as { kind?: unknown }).kind === 'List') {
      const items = (value as { items?: unknown }).items;
      if (Array.isArray(items)) items.forEach((item: unknown, j) => out.push({ ok: true, document: i, item: j, value: item }));
      return;
    }
    out.push({ ok: true, document: i, value });
  });
  return out;
}

/** The objects of the text; throws the first document's YamlParseError, as kubectl stops at one. */
export function parseDocuments(text: string): unknown[] {
  const out: unknown[] = [];
  for (const e of readDocuments(text)) {
    if (!e.ok) throw e.error;
    out.push(e.value);
  }
  return out;
}
