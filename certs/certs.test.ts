import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  CertError,
  caBundle,
  describeCert,
  ensureCertFiles,
  generateBundle,
  generateCA,
  issueServingCert,
  readServingFiles,
  serviceDnsNames,
  toSecret,
  verifyIssued,
  writeCertFiles,
  type CertBundle,
} from './index.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

// RSA keygen is the slow part: one bundle for the whole file.
let bundle: CertBundle;
let dir: string;
beforeAll(async () => {
  bundle = generateBundle({ serviceName: 'varmor-webhook', namespace: 'varmor' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-certs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateBundle', () => {
  it('issues a serving certificate for the Service names, localhost and loopback IPs', () => {
    const info = describeCert(bundle.serving.cert);
    expect(info.dnsNames).toEqual([
      'varmor-webhook',
      'varmor-webhook.varmor',
      'varmor-webhook.varmor.svc',
      'varmor-webhook.varmor.svc.cluster.local',
      'localhost',
    ]);
    expect(info.ipAddresses).toEqual(['127.0.0.1', '::1']);
    const x = new X509Certificate(bundle.serving.cert);
    expect(x.checkHost('varmor-webhook.varmor.svc')).toBe('varmor-webhook.varmor.svc');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('evil.example.com')).toBeUndefined();
    expect(x.ca).toBe(false);
  });

  it('signs the serving certificate with the CA, and a foreign CA does not verify it', () => {
    expect(verifyIssued(bundle.ca.cert, bundle.serving.cert)).toBe(true);
    const ca = new X509Certificate(bundle.ca.cert);
    expect(ca.ca).toBe(true);
    expect(new X509Certificate(bundle.serving.cert).verify(ca.publicKey)).toBe(true);
    expect(verifyIssued(bundle.serving.cert, bundle.serving.cert)).toBe(false);
  });

  it('uses 2048-bit RSA keys and a 365-day validity by default', () => {
    const x = new X509Certificate(bundle.serving.cert);
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const info = describeCert(bundle.serving.cert);
    const days = (info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });

  it('rejects bad options with a coded error naming the field', () => {
    const err = (() => {
      try {
        serviceDnsNames('Bad_Name', 'varmor');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CertError);
    expect(err).toMatchObject({ code: 'VARMOR_ERR_CERT_INVALID_OPTION', field: 'serviceName' });
    expect(() => generateCA({ keyBits: 1024 })).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_CERT_INVALID_OPTION', field: 'keyBits' }));
    expect(() => issueServingCert(bundle.ca, { validityDays: 0 })).toThrow(expect.objectContaining({ field: 'validityDays' }));
  });
});

describe('files and Kubernetes objects', () => {
  it('writes ca.crt, ca.key, tls.crt, tls.key with private keys 0600, and reads the pair back', async () => {
    await writeCertFiles(dir, bundle);
    expect((await stat(path.join(dir, 'tls.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    const files = await readServingFiles(dir);
    expect(files).toEqual({ cert: bundle.serving.cert, key: bundle.serving.key, ca: bundle.ca.cert });
  });

  it('refuses a key that does not belong to the certificate', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'varmor-certs-'));
    try {
      await writeFile(path.join(other, 'tls.crt'), bundle.serving.cert);
      await writeFile(path.join(other, 'tls.key'), bundle.ca.key);
      await expect(readServingFiles(other)).rejects.toMatchObject({ code: 'VARMOR_ERR_CERT_KEY_MISMATCH' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('builds a kubernetes.io/tls Secret without the CA key, and the caBundle', () => {
    const files = { cert: bundle.serving.cert, key: bundle.serving.key, ca: bundle.ca.cert };
    const secret = toSecret(files, { name: 'w-tls', namespace: 'ns1' });
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'w-tls', namespace: 'ns1' } });
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(secret.data['tls.key'], 'base64').toString()).toBe(bundle.serving.key);
    expect(Buffer.from(caBundle(bundle.ca.cert), 'base64').toString()).toBe(bundle.ca.cert);
  });

  it('ensureCertFiles reuses valid files and regenerates when names are missing or expiry is near', async () => {
    const reused = await ensureCertFiles(dir);
    expect(reused.generated).toBe(false);
    expect(reused.files.cert).toBe(bundle.serving.cert);

    const future = new Date(Date.now() + 340 * 86_400_000);
    const renewed = await ensureCertFiles(dir, { now: future });
    expect(renewed.generated).toBe(true);
    expect(renewed.reason).toMatch(/expires/);
    expect(await readFile(path.join(dir, 'tls.crt'), 'utf8')).toBe(renewed.files.cert);

    const other = await ensureCertFiles(dir, { serviceName: 'other-svc' });
    expect(other.generated).toBe(true);
    expect(other.reason).toMatch(/lacks other-svc/);
    expect(describeCert(other.files.cert).dnsNames).toContain('other-svc.varmor.svc');
  });

  it('ensureCertFiles generates into an empty folder', async () => {
    const empty = path.join(dir, 'nested', 'certs');
    const res = await ensureCertFiles(empty);
    expect(res).toMatchObject({ generated: true, reason: 'no certificate yet' });
    expect(verifyIssued(res.files.ca, res.files.cert)).toBe(true);
  });
});
