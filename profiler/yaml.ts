// Multi-document YAML as kubectl reads it: documents separated by `---`, empty documents
// skipped, `kind: List` expanded into its items. Pure: takes the text, returns plain objects.

import { parseAllDocuments } from 'yaml';

export class YamlParseError extends Error {
  readonly code = 'YAML_INVALID';
  /** 0-based index of the document that failed. */
  readonly document: number;
  readonly line?: number;
  constructor(document: number, message: string, line?: number) {
    super(`document ${document}${line ? ` (line ${line})` : ''}: ${message}`);
    this.name = 'YamlParseError';
    this.document = document;
    this.line = line;
  }
}

export function parseDocuments(text: string): unknown[] {
  const out: unknown[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw new YamlParseError(i, err.message.split('\n')[0], line);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value === 'object' && !Array.isArray(value) && (value as { kind?: unknown }).kind === 'List') {
      const items = (value as { items?: unknown }).items;
      if (Array.isArray(items)) out.push(...items);
      return;
    }
    out.push(value);
  });
  return out;
}
