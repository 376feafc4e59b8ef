import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OBJECT_SCHEMAS, POLICY_SPEC_SCHEMA, POLICY_STATUS_SCHEMA, type JsonSchema } from './schema.js';

interface RefNode {
  type: string;
  format?: string;
  required: string[];
  free: boolean;
  itemType?: string;
  children: Map<string, RefNode>;
}

/** Parses the indented field list of the reference (`name: type  (required: a, b)`). */
function parseReference(text: string): Map<string, RefNode> {
  const root: RefNode = { type: 'object', required: [], free: false, children: new Map() };
  const stack: { indent: number; node: RefNode }[] = [{ indent: -1, node: root }];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const m = /^\s*(\w+): (object|array of string|array|string|boolean|integer)(?: \((int64|date-time)\))?(?:\s+\((required|item requires): ([\w, ]+)\))?(?:\s+\((NetworkProxy[^)]*)\))?\s*$/.exec(line);
    if (!m) throw new Error(`unparsed reference line: ${line}`);
    const [, name, type, format, , required, free] = m;
    const node: RefNode = {
      type: type === 'array of string' ? 'array' : type,
      itemType: type === 'array of string' ? 'string' : type === 'array' ? 'object' : undefined,
      format,
      required: required ? required.split(',').map((s) => s.trim()).sort() : [],
      free: free !== undefined,
      children: new Map(),
    };
    while (stack[stack.length - 1].indent >= indent) stack.pop();
    stack[stack.length - 1].node.children.set(name, node);
    stack.push({ indent, node });
  }
  return root.children;
}

function compare(path: string, ref: RefNode, s: JsonSchema, problems: string[]): void {
  if (s.type !== ref.type) problems.push(`${path}: type ${s.type}, reference ${ref.type}`);
  if ((s.format ?? undefined) !== ref.format) problems.push(`${path}: format ${s.format}, reference ${ref.format}`);
  let obj: JsonSchema | undefined = s;
  if (ref.type === 'array') {
    if (s.items?.type !== ref.itemType) problems.push(`${path}[]: item type ${s.items?.type}, reference ${ref.itemType}`);
    obj = s.items;
  }
  if (!obj) return;
  if (ref.free) {
    if (!obj['x-kubernetes-preserve-unknown-fields']) problems.push(`${path}: should be a free-form object`);
    return;
  }
  if (JSON.stringify([...(obj.required ?? [])].sort()) !== JSON.stringify(ref.required)) {
    problems.push(`${path}: required ${JSON.stringify(obj.required ?? [])}, reference ${JSON.stringify(ref.required)}`);
  }
  const mine = Object.keys(obj.properties ?? {}).sort();
  const theirs = [...ref.children.keys()].sort();
  if (ref.children.size === 0 && ref.type === 'object') {
    // a map (matchLabels) or an object without listed fields
    if (mine.length > 0) problems.push(`${path}: has properties ${mine.join(',')}, reference lists none`);
    return;
  }
  if (ref.type === 'array' && ref.itemType === 'string') return;
  if (JSON.stringify(mine) !== JSON.stringify(theirs)) problems.push(`${path}: fields ${mine.join(',')}, reference ${theirs.join(',')}`);
  for (const [name, child] of ref.children) {
    const sub = obj.properties?.[name];
    if (sub) compare(`${path}.${name}`, child, sub, problems);
  }
}

/** Every node typed; no additionalProperties beside properties; preserve-unknown-fields only on objects. */
function structuralProblems(path: string, s: JsonSchema, out: string[]): void {
  if (!s.type) out.push(`${path}: no type`);
  if (s.properties && s.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties together`);
  if (s['x-kubernetes-preserve-unknown-fields'] && s.type !== 'object') out.push(`${path}: preserve-unknown-fields on a non-object`);
  for (const [k, v] of Object.entries(s.properties ?? {})) structuralProblems(`${path}.${k}`, v, out);
  if (s.items) structuralProblems(`${path}[]`, s.items, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') structuralProblems(`${path}{}`, s.additionalProperties, out);
}

describe('the policy schema', () => {
  const ref = parseReference(readFileSync(join(import.meta.dirname ?? __dirname, 'testdata', 'varmor-api-spec.txt'), 'utf8'));

  it('parses the reference field list', () => {
    expect([...ref.keys()]).toEqual(['spec', 'status']);
    expect(ref.get('spec')!.children.get('policy')!.children.size).toBe(6);
  });

  it('matches vArmor field for field: names, types, required lists, int64 and date-time formats', () => {
    const problems: string[] = [];
    compare('spec', ref.get('spec')!, POLICY_SPEC_SCHEMA, problems);
    compare('status', ref.get('status')!, POLICY_STATUS_SCHEMA, problems);
    expect(problems).toEqual([]);
  });

  it('the comparison notices a difference (a field renamed in a copy)', () => {
    const copy = structuredClone(POLICY_SPEC_SCHEMA);
    const target = copy.properties!.target;
    target.properties!.containerNames = target.properties!.containers;
    delete target.properties!.containers;
    const problems: string[] = [];
    compare('spec', ref.get('spec')!, copy, problems);
    expect(problems).toEqual(['spec.target: fields containerNames,kind,name,selector, reference containers,kind,name,selector']);
  });

  it.each(Object.keys(OBJECT_SCHEMAS))('%s is a structural schema', (kind) => {
    const out: string[] = [];
    structuralProblems(kind, OBJECT_SCHEMAS[kind as keyof typeof OBJECT_SCHEMAS], out);
    expect(out).toEqual([]);
  });
});
