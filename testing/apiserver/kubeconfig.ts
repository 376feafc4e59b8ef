// Kubeconfig files with embedded certificates, and a probe of an HTTPS health endpoint with the same
// credentials (used to wait for /readyz and /healthz without a Kubernetes client).

import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { stringify } from 'yaml';

export interface Credentials {
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

export function writeKubeconfig(path: string, c: Credentials, user = 'admin', clusterName = 'varmor-local'): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: c.server, 'certificate-authority-data': b64(c.caFile) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(c.certFile), 'client-key-data': b64(c.keyFile) } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user } }],
    'current-context': clusterName,
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
}

/** GETs `url` with the client certificate; resolves to the status code and body. */
export function httpsGet(url: string, c: Omit<Credentials, 'server'>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(c.caFile), cert: readFileSync(c.certFile), key: readFileSync(c.keyFile), timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return res.ok;
}
