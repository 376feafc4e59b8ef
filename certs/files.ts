// Certificates on disk (ca.crt, ca.key, tls.crt, tls.key: the layout of a kubernetes.io/tls Secret
// mounted as a volume) and as Kubernetes objects: the Secret and the webhook configuration's caBundle.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { CertError } from './errors.js';
import { describeCert, generateBundle, serviceDnsNames, verifyIssued, type CertBundle, type CertOptions } from './generate.js';

export const FILES = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  // Write beside, then rename: a watcher never sees a half-written PEM.
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, file);
}

/** Writes the CA first and the serving key before its certificate; readers tolerate the gap. */
export async function writeCertFiles(dir: string, bundle: CertBundle): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomic(path.join(dir, FILES.caCert), bundle.ca.cert, 0o644);
  await writeAtomic(path.join(dir, FILES.caKey), bundle.ca.key, 0o600);
  await writeAtomic(path.join(dir, FILES.key), bundle.serving.key, 0o600);
  await writeAtomic(path.join(dir, FILES.cert), bundle.serving.cert, 0o644);
}

export interface ServingFiles {
  cert: string;
  key: string;
  ca?: string;
}

/** The serving pair from `dir`, checked to belong together; null when a file is missing. */
export async function readServingFiles(dir: string): Promise<ServingFiles | null> {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(path.join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CertError('VARMOR_ERR_CERT_READ_FAILED', `${path.join(dir, name)}: ${(err as Error).message}`);
    }
  };
  const [cert, key, ca] = await Promise.all([read(FILES.cert), read(FILES.key), read(FILES.caCert)]);
  if (cert === undefined || key === undefined) return null;
  checkPair(cert, key);
  return { cert, key, ca };
}

/** Throws VARMOR_ERR_CERT_KEY_MISMATCH unless `key` is the private half of `cert`'s public key. */
export function checkPair(cert: string, key: string): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new CertError('VARMOR_ERR_CERT_READ_FAILED', `tls.crt: ${(err as Error).message}`);
  }
  let ok: boolean;
  try {
    ok = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new CertError('VARMOR_ERR_CERT_READ_FAILED', `tls.key: ${(err as Error).message}`);
  }
  if (!ok) throw new CertError('VARMOR_ERR_CERT_KEY_MISMATCH', 'tls.key does not match tls.crt');
}

export interface EnsureResult {
  files: ServingFiles & { ca: string };
  generated: boolean;
  reason?: string;
}

/**
 * Reuses the certificates in `dir` when they are complete, signed by the CA beside them, cover the
 * Service's names and stay valid for `renewBeforeDays`; otherwise generates and writes new ones.
 */
export async function ensureCertFiles(dir: string, opts: CertOptions & { renewBeforeDays?: number } = {}): Promise<EnsureResult> {
  const why = await reuseProblem(dir, opts);
  if (why === null) {
    const files = (await readServingFiles(dir)) as ServingFiles & { ca: string };
    return { files, generated: false };
  }
  const bundle = generateBundle(opts);
  await writeCertFiles(dir, bundle);
  return { files: { cert: bundle.serving.cert, key: bundle.serving.key, ca: bundle.ca.cert }, generated: true, reason: why };
}

async function reuseProblem(dir: string, opts: CertOptions & { renewBeforeDays?: number }): Promise<string | null> {
  let files: ServingFiles | null;
  try {
    files = await readServingFiles(dir);
  } catch (err) {
    return (err as Error).message;
  }
  if (!files) return 'no certificate yet';
  if (!files.ca) return 'no ca.crt';
  if (!verifyIssued(files.ca, files.cert)) return 'tls.crt is not signed by ca.crt';
  const info = describeCert(files.cert);
  const wanted = [...serviceDnsNames(opts.serviceName, opts.namespace), ...(opts.extraDnsNames ?? [])];
  const missing = wanted.filter((n) => !info.dnsNames.includes(n));
  if (missing.length) return `certificate lacks ${missing.join(', ')}`;
  const now = opts.now ?? new Date();
  const renewAt = info.notAfter.getTime() - (opts.renewBeforeDays ?? 30) * 86_400_000;
  if (now.getTime() >= renewAt) return `certificate expires ${info.notAfter.toISOString()}`;
  return null;
}

/** The webhook configurations' `caBundle`: the CA's PEM, base64. */
export function caBundle(caPem: string): string {
  return Buffer.from(caPem, 'utf8').toString('base64');
}

/** A kubernetes.io/tls Secret with the serving pair and the CA certificate (never the CA key). */
export function toSecret(
  files: { cert: string; key: string; ca: string },
  meta: { name?: string; namespace?: string } = {},
): {
  apiVersion: 'v1';
  kind: 'Secret';
  type: 'kubernetes.io/tls';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  data: Record<string, string>;
} {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: meta.name ?? 'varmor-webhook-tls',
      namespace: meta.namespace ?? 'varmor',
      labels: { 'app.kubernetes.io/name': 'varmor-ts', 'app.kubernetes.io/component': 'webhook' },
    },
    data: { 'tls.crt': b64(files.cert), 'tls.key': b64(files.key), 'ca.crt': b64(files.ca) },
  };
}
