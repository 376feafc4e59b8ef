// Who may bind a container to a profile: the webhook, and only the webhook. A pod author can write
// any annotation, and containerd copies ours into the OCI spec the agent reads, so a reference
// `localhost/<profile>` proves nothing by itself. The webhook signs each container's references
// with a key only the manager and the agents hold (a Secret in the product namespace); the agent
// binds a container only when the signature matches the references it reads, for the pod's own
// namespace and container name (which the agent takes from the runtime, not from annotations).
//
// Contract (CONTRACTS.md "Binding signature"):
//   annotation  container.binding.security.beta.varmor.org/<container>: v1.<base64url HMAC-SHA256>
//   message     "varmor-binding/v1\n<namespace>\n<container>\n" + for each enforcer present, in
//               the order AppArmor, BPF, Seccomp: "<Enforcer>=<annotation value>\n"
// The value `unconfined` (an opt-out) is not signed: it binds nothing. A copied signature binds
// only the same container name, in the same namespace, to the same profiles: what the webhook
// would have written for a pod of that namespace anyway.
//
// Pure: node:crypto computes, it does no I/O.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Enforcer } from './api/types.js';
import { PROFILE_REF_PREFIX } from './api/well-known.js';

/** Prefix of the per-container signature annotation; the container's name follows it. */
export const BINDING_ANNOTATION_PREFIX = 'container.binding.security.beta.varmor.org/';
export const bindingAnnotation = (container: string): string => `${BINDING_ANNOTATION_PREFIX}${container}`;

const VERSION = 'v1';
const ORDER: readonly Enforcer[] = ['AppArmor', 'BPF', 'Seccomp'];
/** Shortest key accepted: 128 bits. */
export const MIN_BINDING_KEY_BYTES = 16;

/** The profile references of one container, as the annotation values (`localhost/<profile>`). */
export type BindingRefs = Partial<Record<Enforcer, string>>;

export class BindingKeyError extends Error {
  readonly code = 'VARMOR_ERR_BINDING_KEY';
  override readonly name = 'BindingKeyError';
}

/** Checks a key read from a file or Secret; surrounding whitespace (a trailing newline) is not part of it. */
export function bindingKey(raw: Buffer | string): Buffer {
  const key = Buffer.from(typeof raw === 'string' ? raw.trim() : raw.toString('utf8').trim(), 'utf8');
  if (key.length < MIN_BINDING_KEY_BYTES) throw new BindingKeyError(`binding key: ${key.length} bytes, at least ${MIN_BINDING_KEY_BYTES} required`);
  return key;
}

function message(namespace: string, container: string, refs: BindingRefs): string {
  let m = `varmor-binding/${VERSION}\n${namespace}\n${container}\n`;
  for (const e of ORDER) {
    const v = refs[e];
    if (v !== undefined && v.startsWith(PROFILE_REF_PREFIX)) m += `${e}=${v}\n`;
  }
  return m;
}

/** True when `refs` holds at least one profile reference (something to sign). */
export function hasProfileRefs(refs: BindingRefs): boolean {
  return ORDER.some((e) => refs[e]?.startsWith(PROFILE_REF_PREFIX) === true);
}

/** The annotation value the webhook writes: `v1.<base64url HMAC-SHA256>`. */
export function signBinding(key: Buffer, namespace: string, container: string, refs: BindingRefs): string {
  return `${VERSION}.${createHmac('sha256', key).update(message(namespace, container, refs)).digest('base64url')}`;
}

/** Whether `signature` is what signBinding gives for these references (constant time). */
export function verifyBinding(key: Buffer, namespace: string, container: string, refs: BindingRefs, signature: string | undefined): boolean {
  if (!signature) return false;
  const want = Buffer.from(signBinding(key, namespace, container, refs));
  const got = Buffer.from(signature);
  return got.length === want.length && timingSafeEqual(got, want);
}
