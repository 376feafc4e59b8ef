// Where the API server is and how to authenticate, from a kubeconfig file (current context) or
// from inside a pod (service account token, re-read on every request so rotation just works).
// The agent has its own small client (./client.ts) instead of @kubernetes/client-node: importing
// that package alone costs ~77 MiB of resident memory (its generated API surface), most of the
// node budget, for the five calls the agent makes.

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../errors.js';

export interface KubeAccess {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: () => string;
  insecureSkipTLSVerify?: boolean;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  _v?: T;
}

type Rec = Record<string, unknown>;

function pick(list: unknown, name: string, what: string, file: string): Rec {
  const item = (Array.isArray(list) ? (list as Named<unknown>[]) : []).find((x) => x?.name === name);
  if (!item) throw new ConfigError('--kubeconfig', `${file}: ${what} ${JSON.stringify(name)} not found`);
  return (item[what] ?? {}) as Rec;
}

function dataOrFile(obj: Rec, key: string, base: string): Buffer | undefined {
  const data = obj[`${key}-data`];
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  const file = obj[key];
  if (typeof file === 'string' && file) return fs.readFileSync(path.resolve(base, file));
  return undefined;
}

export function accessFromKubeconfig(file: string): KubeAccess {
  let doc: Rec;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8')) as Rec;
  } catch (e) {
    throw new ConfigError('--kubeconfig', `${file}: ${(e as Error).message}`);
  }
  const ctxName = doc['current-context'];
  if (typeof ctxName !== 'string' || !ctxName) throw new ConfigError('--kubeconfig', `${file}: no current-context`);
  const ctx = pick(doc['contexts'], ctxName, 'context', file);
  const cluster = pick(doc['clusters'], String(ctx['cluster']), 'cluster', file);
  const user = ctx['user'] ? pick(doc['users'], String(ctx['user']), 'user', file) : {};
  const base = path.dirname(file);
  const server = cluster['server'];
  if (typeof server !== 'string' || !server) throw new ConfigError('--kubeconfig', `${file}: cluster has no server`);
  const access: KubeAccess = {
    server: server.replace(/\/+$/, ''),
    ca: dataOrFile(cluster, 'certificate-authority', base),
    cert: dataOrFile(user, 'client-certificate', base),
    key: dataOrFile(user, 'client-key', base),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
  if (typeof user['token'] === 'string' && user['token']) {
    const t = user['token'];
    access.token = () => t;
  } else if (typeof user['tokenFile'] === 'string' && user['tokenFile']) {
    const f = path.resolve(base, user['tokenFile']);
    access.token = () => fs.readFileSync(f, 'utf8').trim();
  }
  return access;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function accessInCluster(env: Record<string, string | undefined> = process.env, saDir = SA_DIR): KubeAccess {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new ConfigError('--kubeconfig', 'not given and not running in a pod (KUBERNETES_SERVICE_HOST unset)');
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    ca: fs.readFileSync(path.join(saDir, 'ca.crt')),
    token: () => fs.readFileSync(path.join(saDir, 'token'), 'utf8').trim(),
  };
}
