import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { accessFromKubeconfig, accessInCluster } from './config.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-kubecfg-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('kubeconfig access', () => {
  it('reads the current context: server, CA and client certificate data', () => {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      `apiVersion: v1
kind: Config
current-context: b
contexts:
  - { name: a, context: { cluster: other, user: u } }
  - { name: b, context: { cluster: c1, user: u1 } }
clusters:
  - { name: c1, cluster: { server: "https://127.0.0.1:6443/", certificate-authority-data: ${b64('CA')} } }
users:
  - { name: u1, user: { client-certificate-data: ${b64('CERT')}, client-key: key.pem } }
`,
    );
    fs.writeFileSync(path.join(dir, 'key.pem'), 'KEY');
    const a = accessFromKubeconfig(file);
    expect(a.server).toBe('https://127.0.0.1:6443');
    expect(a.ca?.toString()).toBe('CA');
    expect(a.cert?.toString()).toBe('CERT');
    expect(a.key?.toString()).toBe('KEY');
    expect(a.token).toBeUndefined();
  });
  it('names what is missing', () => {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, 'current-context: x\ncontexts: []\n');
    expect(() => accessFromKubeconfig(file)).toThrow(/--kubeconfig: .*context "x" not found/);
  });
});

describe('in-cluster access', () => {
  it('uses the service account token, re-read on every call (rotation)', () => {
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'CA');
    fs.writeFileSync(path.join(dir, 'token'), 't1\n');
    const a = accessInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(a.server).toBe('https://[fd00::1]:443');
    expect(a.token?.()).toBe('t1');
    fs.writeFileSync(path.join(dir, 'token'), 't2\n');
    expect(a.token?.()).toBe('t2');
  });
  it('says when it is not in a pod', () => {
    expect(() => accessInCluster({}, dir)).toThrow(/not running in a pod/);
  });
});
