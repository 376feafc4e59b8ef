// Rotation under load: a client keeps opening fresh TLS connections (no session reuse) while the
// certificate folder is rotated; every handshake must succeed and the new certificate be served.
import { describe, expect, it, beforeAll, afterAll, jest } from '@jest/globals';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { CertReloader, generateBundle, issueServingCert, readServingFiles, writeCertFiles, type CertBundle } from './index.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

let dir: string;
let first: CertBundle;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-reload-'));
  first = generateBundle();
  await writeCertFiles(dir, first);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function get(port: number, ca: string[]): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/', ca, agent: false, servername: 'localhost', minVersion: 'TLSv1.2' },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('error', reject);
  });
}

describe('CertReloader', () => {
  it('rotates the served certificate while a client loops, without a failed handshake', async () => {
    const files = await readServingFiles(dir);
    const server = https.createServer({ cert: files!.cert, key: files!.key, minVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const reloads: string[] = [];
    const reloader = new CertReloader(dir, server, { debounceMs: 20, pollMs: 0, onReload: (f) => reloads.push(f.cert) });
    reloader.start(files!.cert);
    // The new serving cert is signed by the same CA, as a renewal of the leaf would be.
    const next = issueServingCert(first.ca);
    const ca = [first.ca.cert];
    const serials = new Set<string>();
    let failures = 0;
    let requests = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          const r = await get(port, ca);
          requests += 1;
          serials.add(r.serial);
          if (r.status !== 200) failures += 1;
        } catch {
          failures += 1;
        }
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 150));
      await writeCertFiles(dir, { ca: first.ca, serving: next });
      // Wait until the loop sees the new certificate (bounded by the test timeout, not a timing claim).
      const nextSerial = new (await import('node:crypto')).X509Certificate(next.cert).serialNumber;
      while (!serials.has(nextSerial)) await new Promise((r) => setTimeout(r, 25));
      const after = requests;
      while (requests < after + 5) await new Promise((r) => setTimeout(r, 10));
    } finally {
      stop = true;
      await loop;
      reloader.stop();
      await new Promise((r) => server.close(r));
    }
    expect(failures).toBe(0);
    expect(serials.size).toBe(2);
    expect(reloads).toEqual([next.cert]);
    expect(requests).toBeGreaterThan(5);
  }, 60_000);

  it('keeps the old context when the folder holds a mismatched pair', async () => {
    const installed: string[] = [];
    const errors: Error[] = [];
    const target = { setSecureContext: (o: { cert: string }) => installed.push(o.cert) };
    const reloader = new CertReloader(dir, target, { pollMs: 0, onError: (e) => errors.push(e) });
    const other = generateBundle();
    // Key of one pair, certificate of another: what a reader may see mid-rotation.
    await writeCertFiles(dir, { ca: first.ca, serving: { cert: other.serving.cert, key: first.serving.key } });
    expect(await reloader.reload()).toBe(false);
    expect(installed).toEqual([]);
    expect(errors[0]).toMatchObject({ code: 'VARMOR_ERR_CERT_KEY_MISMATCH' });
    await writeCertFiles(dir, other);
    expect(await reloader.reload()).toBe(true);
    expect(installed).toEqual([other.serving.cert]);
    expect(await reloader.reload()).toBe(false);
  });
});
