// Structural validation with ajv against the one schema of profiler/api/schema.ts, with ajv's
// errors turned into field-path findings. Unknown fields are refused by default (as
// `kubectl --validate=strict` does) so a misspelt field is not silently dropped; the webhook,
// which sees objects the API server has already pruned, may choose to ignore them.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import { OBJECT_SCHEMAS, type JsonSchema, type ObjectKind } from '../api/schema.js';
import { at, type ValidationIssue } from './issues.js';

export type UnknownFields = 'reject' | 'ignore';

const addFormats = (formatsModule as unknown as { default?: FormatsPlugin }).default ?? (formatsModule as unknown as FormatsPlugin);

/** A copy of the schema that forbids properties it does not list (except in free-form objects). */
export function closeSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, closeSchema(v)]));
    if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties === undefined) {
      out.additionalProperties = false;
    }
  }
  if (schema.items) out.items = closeSchema(schema.items);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = closeSchema(schema.additionalProperties);
  }
  return out;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  // Kubernetes' extension keywords are annotations for the API server; ajv only needs to accept them.
  ajv.addVocabulary(['x-kubernetes-preserve-unknown-fields']);
  addFormats(ajv, ['date-time', 'int64']);
  return ajv;
}

const cache = new Map<string, ValidateFunction>();

function validator(kind: ObjectKind, unknownFields: UnknownFields): ValidateFunction {
  const key = `${kind}/${unknownFields}`;
  let fn = cache.get(key);
  if (!fn) {
    const schema = unknownFields === 'reject' ? closeSchema(OBJECT_SCHEMAS[kind]) : OBJECT_SCHEMAS[kind];
    fn = newAjv().compile(schema);
    cache.set(key, fn);
  }
  return fn;
}

/** `/spec/policy/enhanceProtect/files/0` -> `spec.policy.enhanceProtect.files[0]`. */
export function pointerToPath(pointer: string): string {
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = /^\d+$/.test(part) ? at(path, Number(part)) : at(path, part);
  }
  return path;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function toIssue(e: ErrorObject, root: unknown): ValidationIssue {
  const path = pointerToPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: at(path, String(params.missingProperty)), code: 'required', message: 'required field is missing' };
    case 'additionalProperties':
      return {
        path: at(path, String(params.additionalProperty)),
        code: 'unknown-field',
        message: `unknown field "${String(params.additionalProperty)}"`,
      };
    case 'type': {
      const value = e.instancePath.split('/').slice(1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], root);
      return { path, code: 'type', message: `must be ${String(params.type)}, got ${describe(value)}` };
    }
    case 'enum':
      return {
        path,
        code: 'enum',
        message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'format':
      return { path, code: 'format', message: `must be a valid ${String(params.format)}` };
    default:
      return { path, code: e.keyword, message: e.message ?? 'invalid' };
  }
}

/** Schema findings for an object of the given kind; empty when it conforms. */
export function schemaIssues(kind: ObjectKind, obj: unknown, unknownFields: UnknownFields = 'reject'): ValidationIssue[] {
  const fn = validator(kind, unknownFields);
  if (fn(obj)) return [];
  const seen = new Set<string>();
  const out: ValidationIssue[] = [];
  for (const e of fn.errors ?? []) {
    const issue = toIssue(e, obj);
    const key = `${issue.path}\0${issue.code}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  }
  return out;
}
