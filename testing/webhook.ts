// Test support (not used by the product): starts the real webhook server on 127.0.0.1 with a
// generated certificate and the policies of a folder, and gives a keep-alive HTTPS client that
// trusts the generated CA. Shared by the integration tests, the fuzz test and the benchmark.

import https from 'node:https';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureCertFiles } from '../certs/index.js';
import type { MutationOptions } from '../webhook/mutate/mutate.js';
import { FolderSource } from '../webhook/sources/folder.js';
import { PolicyStore } from '../webhook/sources/store.js';
import { profilerValidator } from '../webhook/validator.js';
import { startWebhookServer, type RunningWebhook } from '../webhook/server/app.js';
import { createMetrics, observePolicies } from '../webhook/server/metrics.js';

export interface TestWebhook {
  server: RunningWebhook;
  store: PolicyStore;
  ca: string;
  certDir: string;
  agent: https.Agent;
  post(pathname: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: string; json: unknown }>;
  getOps(pathname: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export interface TestWebhookOptions {
  policiesDir?: string;
  mutation?: MutationOptions;
  /** Namespace labels used when the store knows none; default: every namespace opted in. */
  defaultNamespaceLabels?: (ns: string) => Readonly<Record<string, string>> | undefined;
  bodyLimit?: number;
  certDir?: string;
}

export async function startTestWebhook(opts: TestWebhookOptions = {}): Promise<TestWebhook> {
  const ownDir = opts.certDir === undefined;
  const certDir = opts.certDir ?? (await mkdtemp(path.join(os.tmpdir(), 'varmor-webhook-test-')));
  const { files } = await ensureCertFiles(certDir);
  const validator = profilerValidator();
  const metrics = createMetrics();
  const store = new PolicyStore({
    validate: validator.validatePolicy,
    onChange: (index) => observePolicies(metrics, index),
    mutation: opts.mutation,
    defaultNamespaceLabels: opts.defaultNamespaceLabels ?? (() => ({ 'sandbox.varmor.org/enable': 'true' })),
  });
  if (opts.policiesDir) await new FolderSource(opts.policiesDir, store).load();
  store.policies();
  const server = await startWebhookServer({ port: 0, metricsPort: 0, tls: { certDir }, state: store, validator, metrics, bodyLimit: opts.bodyLimit });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: files.ca });
  const post: TestWebhook['post'] = (pathname, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const req = https.request(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: server.port,
          method: 'POST',
          path: pathname,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: text, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const getOps: TestWebhook['getOps'] = (pathname) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: server.metricsPort, path: pathname }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        })
        .on('error', reject);
    });
  return {
    server,
    store,
    ca: files.ca,
    certDir,
    agent,
    post,
    getOps,
    async close() {
      agent.destroy();
      await server.close();
      if (ownDir) await rm(certDir, { recursive: true, force: true });
    },
  };
}

/** An AdmissionReview as the API server sends it for a Pod CREATE. */
export function podReview(pod: object, opts: { uid?: string; namespace?: string; operation?: string; name?: string } = {}): object {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: opts.name,
      namespace: opts.namespace ?? 'team-a',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'admin', groups: ['system:authenticated'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

/** POSTs an AdmissionReview to a webhook's /mutate over a fresh TLS connection that trusts `ca`. */
export function postMutate(port: number, ca: string, body: string | object): Promise<{ status: number; json: { response: { uid: string; allowed: boolean; patch?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', servername: 'localhost', port, method: 'POST', path: '/mutate', ca, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}
