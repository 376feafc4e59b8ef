import { describe, expect, it } from '@jest/globals';
import { parseDocuments, readDocuments, YamlParseError } from './yaml.js';

describe('parseDocuments', () => {
  it('reads several documents, skips empty ones and expands kind: List, like kubectl', () => {
    const text = ['---', 'a: 1', '---', '# only a comment', '---', 'kind: List', 'items: [{b: 2}, {c: 3}]', '---', '{"d": 4}', ''].join('\n');
    expect(parseDocuments(text)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
    expect(parseDocuments('')).toEqual([]);
  });

  it('names the document and line of a syntax error', () => {
    let err: unknown;
    try {
      parseDocuments('a: 1\n---\nb: [1, 2\nc: 3\n');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(YamlParseError);
    expect((err as YamlParseError).document).toBe(1);
    expect((err as YamlParseError).code).toBe('VARMOR_ERR_YAML_INVALID');
  });

  it('refuses duplicate keys (kubectl does too)', () => {
    expect(() => parseDocuments('a: 1\na: 2\n')).toThrow(YamlParseError);
  });

  it('caps aliases: a billion-laughs document is a YamlParseError, not an exception of the library', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]'].join('\n');
    expect(() => parseDocuments(bomb)).toThrow(YamlParseError);
  });
});

describe('readDocuments', () => {
  it('gives every document, a bad one as an error with its line and column, and List items with their place', () => {
    const text = ['a: 1', '---', 'b: 1', 'b: 2', '---', 'kind: List', 'items: [{c: 1}, {c: 2}]', '---', 'd: [1, 2', ''].join('\n');
    const entries = readDocuments(text);
    expect(entries.map((e) => (e.ok ? { document: e.document, item: e.item, value: e.value } : { document: e.document, line: e.error.line, column: e.error.column, detail: e.error.detail }))).toEqual([
      { document: 0, item: undefined, value: { a: 1 } },
      { document: 1, line: 4, column: 1, detail: 'Map keys must be unique' },
      { document: 2, item: 0, value: { c: 1 } },
      { document: 2, item: 1, value: { c: 2 } },
      { document: 3, line: expect.any(Number), column: expect.any(Number), detail: expect.any(String) },
    ]);
    const last = entries[4];
    expect(!last.ok && last.error).toMatchObject({ code: 'VARMOR_ERR_YAML_INVALID', document: 3 });
    expect(() => parseDocuments(text)).toThrow(expect.objectContaining({ document: 1, line: 4 }));
  });
});
