// Checks that an admitted object has the shape the mutation relies on (types of the fields it
// reads), so malformed input gets a message naming the field instead of a wrong patch. The API
// server validates the Pod fully after mutation; this only guards our reads. Pure.

import type { Pod } from '../mutate/types.js';

export type PodCheck = { ok: true; pod: Pod } | { ok: false; field: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;

class ShapeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

function stringMap(v: unknown, field: string): void {
  if (absent(v)) return;
  if (!isObject(v)) throw new ShapeError(field, 'must be an object of strings');
  // for...in rather than Object.entries: this runs on every request, over every label and annotation.
  for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k) && typeof v[k] !== 'string') throw new ShapeError(`${field}[${JSON.stringify(k)}]`, 'must be a string');
}

function profile(v: unknown, field: string): void {
  if (absent(v)) return;
  if (!isObject(v) || typeof v.type !== 'string') throw new ShapeError(field, 'must be an object with a string type');
  if (!absent(v.localhostProfile) && typeof v.localhostProfile !== 'string') throw new ShapeError(`${field}.localhostProfile`, 'must be a string');
}

function securityContext(v: unknown, field: string): void {
  if (absent(v)) return;
  if (!isObject(v)) throw new ShapeError(field, 'must be an object');
  profile(v.appArmorProfile, `${field}.appArmorProfile`);
  profile(v.seccompProfile, `${field}.seccompProfile`);
  if (!absent(v.privileged) && typeof v.privileged !== 'boolean') throw new ShapeError(`${field}.privileged`, 'must be a boolean');
}

function containers(v: unknown, field: string, required: boolean): void {
  if (absent(v)) {
    if (required) throw new ShapeError(field, 'a Pod needs at least one container');
    return;
  }
  if (!Array.isArray(v)) throw new ShapeError(field, 'must be an array');
  if (required && v.length === 0) throw new ShapeError(field, 'a Pod needs at least one container');
  v.forEach((c, i) => {
    const where = `${field}[${i}]`;
    if (!isObject(c)) throw new ShapeError(where, 'must be an object');
    if (typeof c.name !== 'string' || c.name === '') throw new ShapeError(`${where}.name`, 'must be a non-empty string');
    securityContext(c.securityContext, `${where}.securityContext`);
  });
}

export function checkPod(obj: unknown, field = 'request.object'): PodCheck {
  try {
    if (!isObject(obj)) throw new ShapeError(field, 'must be a Pod object');
    if (!absent(obj.kind) && obj.kind !== 'Pod') throw new ShapeError(`${field}.kind`, `must be Pod, got ${JSON.stringify(obj.kind)}`);
    const meta = obj.metadata;
    if (!absent(meta)) {
      if (!isObject(meta)) throw new ShapeError(`${field}.metadata`, 'must be an object');
      for (const k of ['name', 'generateName', 'namespace'] as const)
        if (!absent(meta[k]) && typeof meta[k] !== 'string') throw new ShapeError(`${field}.metadata.${k}`, 'must be a string');
      stringMap(meta.labels, `${field}.metadata.labels`);
      stringMap(meta.annotations, `${field}.metadata.annotations`);
      if (!absent(meta.ownerReferences)) {
        if (!Array.isArray(meta.ownerReferences)) throw new ShapeError(`${field}.metadata.ownerReferences`, 'must be an array');
        meta.ownerReferences.forEach((o, i) => {
          if (!isObject(o)) throw new ShapeError(`${field}.metadata.ownerReferences[${i}]`, 'must be an object');
        });
      }
    }
    const spec = obj.spec;
    if (!isObject(spec)) throw new ShapeError(`${field}.spec`, 'must be an object');
    containers(spec.containers, `${field}.spec.containers`, true);
    containers(spec.initContainers, `${field}.spec.initContainers`, false);
    containers(spec.ephemeralContainers, `${field}.spec.ephemeralContainers`, false);
    securityContext(spec.securityContext, `${field}.spec.securityContext`);
    if (!absent(spec.os) && !isObject(spec.os)) throw new ShapeError(`${field}.spec.os`, 'must be an object');
    return { ok: true, pod: obj as unknown as Pod };
  } catch (err) {
    if (err instanceof ShapeError) return { ok: false, field: err.field, message: err.message };
    throw err;
  }
}
