// Small helpers the e2e suite uses against whatever cluster KUBECONFIG points at: typed clients,
// polling without timing assertions, and `exec` through the API server's pods/exec subresource (the
// same WebSocket stream `kubectl exec` uses) returning the command's exit code and output.

import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface Clients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  ext: k8s.ApiextensionsV1Api;
  custom: k8s.CustomObjectsApi;
}

export function clients(): Clients {
  const kc = new k8s.KubeConfig();
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set: e2e/run.sh sets it (or brings up the local cluster)');
  kc.loadFromFile(process.env.KUBECONFIG);
  return { kc, core: kc.makeApiClient(k8s.CoreV1Api), ext: kc.makeApiClient(k8s.ApiextensionsV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

/**
 * A namespace for one test file, opted in to the webhook unless `optIn` is false; resolves once its
 * default ServiceAccount exists (Pods are admitted only then).
 */
export async function createTestNamespace(c: Clients, name: string, optIn = true): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name, labels: optIn ? { 'sandbox.varmor.org/enable': 'true' } : {} } } });
  await eventually(`ServiceAccount ${name}/default`, async () => (await c.core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ?? undefined);
}

/** Thrown from an `eventually` check: stop polling, the state will not get better by waiting. */
export class GiveUp extends Error {
  override readonly name = 'GiveUp';
}

/** Polls until `check` returns a value other than undefined; the message of the last miss is in the error. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = 'not yet';
    } catch (err) {
      if (err instanceof GiveUp) throw new Error(`${what}: ${err.message}`);
      last = errorText(err);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The HTTP status of a client-node error (ApiException.code), if any. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's message from a client-node error (the Status body), else the error's message. */
export function errorText(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (err as Error).message ?? String(err);
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function exec(kc: k8s.KubeConfig, namespace: string, pod: string, container: string, command: string[]): Promise<ExecResult> {
  const out = new Collect();
  const err = new Collect();
  return new Promise((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(namespace, pod, container, command, out, err, null, false, (status: k8s.V1Status) => {
        let code = 0;
        if (status.status !== 'Success') {
          const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
          code = cause?.message !== undefined ? Number(cause.message) : -1;
        }
        // The status arrives before the last frames are flushed on some servers: let the stream settle.
        setTimeout(() => resolve({ code, stdout: out.text, stderr: err.text }), 200);
      })
      .catch(reject);
  });
}

/** The kubectl to use: $VARMOR_E2E_KUBECTL, the one build.sh built (same release as the cluster), or none. */
export function findKubectl(): string | undefined {
  const built = join(dirname(fileURLToPath(import.meta.url)), '../cluster/.work/bin/kubectl');
  for (const p of [process.env.VARMOR_E2E_KUBECTL, built]) if (p && existsSync(p)) return p;
  return undefined;
}

/** `kubectl exec` itself, for the checks a user would type; resolves with the exit code, never rejects on it. */
export function kubectlExec(kubectl: string, namespace: string, pod: string, container: string, command: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      kubectl,
      ['--kubeconfig', process.env.KUBECONFIG ?? '', 'exec', '-n', namespace, pod, '-c', container, '--', ...command],
      { encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
      },
    );
  });
}
