import { describe, expect, it } from '@jest/globals';
import { parseDocuments, YamlParseError } from './yaml.js';

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
    expect((err as YamlParseError).code).toBe('YAML_INVALID');
  });

  it('refuses duplicate keys (kubectl does too)', () => {
    expect(() => parseDocuments('a: 1\na: 2\n')).toThrow(YamlParseError);
  });
});
