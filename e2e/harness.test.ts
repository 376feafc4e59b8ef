// The local cluster's building blocks on their own: the PKI the components authenticate with, the
// containerd configuration (loaded by a real containerd whose CRI plugin must come up with our settings),
// and the CNI network that keeps pod traffic on this machine.

import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { KUBERNETES_SERVICE_IP, SERVICE_CIDR } from '../testing/apiserver/components.js';
import { POD_ANNOTATIONS, writeContainerdConfig } from './cluster/containerd.js';
import { CriRuntime } from './cluster/cri.js';
import { cniConflist, NODE_IP } from './cluster/network.js';
import { writeClusterPki } from '../testing/apiserver/pki.js';

jest.setTimeout(60_000);
const tmp = mkdtempSync(join(tmpdir(), 'harness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('cluster PKI', () => {
  const pki = writeClusterPki(join(tmp, 'pki'), {
    apiserverIPs: ['127.0.0.1', KUBERNETES_SERVICE_IP, NODE_IP],
    clients: [{ name: 'kubelet', user: 'system:node:n1', groups: ['system:nodes'] }],
  });
  const ca = forge.pki.certificateFromPem(readFileSync(pki.caCert, 'utf8'));

  it('issues the API server a certificate for every address it is dialled on', () => {
    const cert = forge.pki.certificateFromPem(readFileSync(pki.apiserverCert, 'utf8'));
    expect(ca.verify(cert)).toBe(true);
    const san = cert.getExtension('subjectAltName') as { altNames: { ip?: string; value?: string }[] };
    expect(san.altNames.map((a) => a.ip).filter(Boolean)).toEqual(expect.arrayContaining(['127.0.0.1', KUBERNETES_SERVICE_IP, NODE_IP]));
    expect(san.altNames.map((a) => a.value)).toContain('kubernetes.default.svc');
  });

  it('issues client certificates whose CN and O are the user and groups Kubernetes authorizes', () => {
    const cert = forge.pki.certificateFromPem(readFileSync(pki.clients.kubelet.cert, 'utf8'));
    expect(ca.verify(cert)).toBe(true);
    expect(cert.subject.getField('CN').value).toBe('system:node:n1');
    expect(cert.subject.getField('O').value).toBe('system:nodes');
    expect((cert.getExtension('extKeyUsage') as { clientAuth?: boolean }).clientAuth).toBe(true);
  });
});

describe('CNI network', () => {
  it('routes pods only to the Service range, never a default route, and masquerades nothing', () => {
    const net = cniConflist('/ipam');
    const bridge = net.plugins[0] as { ipMasq: boolean; ipam: { routes: { dst: string }[] } };
    expect(bridge.ipMasq).toBe(false);
    expect(bridge.ipam.routes).toEqual([{ dst: SERVICE_CIDR }]);
  });
});

const haveContainerd = existsSync('/usr/bin/containerd') && process.getuid?.() === 0;
describe('containerd configuration', () => {
  (haveContainerd ? it : it.skip)(`is loaded by a real containerd: CRI up, base spec with the hook, pod annotations passed${haveContainerd ? '' : ' (skipped: needs root and /usr/bin/containerd)'}`, async () => {
    const hook = { path: '/opt/hook', args: ['hook', 'createRuntime', '/run/x.sock'], timeout: 10 };
    const paths = writeContainerdConfig({
      dir: join(tmp, 'ctrd'),
      sandboxImage: 'localhost/varmor/pause:e2e',
      cniConfDir: join(tmp, 'cni'),
      cniBinDir: '/usr/lib/cni',
      runtimeSpec: (s) => ({ ...s, hooks: { createRuntime: [hook] } }),
    });
    const toml = readFileSync(paths.config, 'utf8');
    expect(toml).toContain(`pod_annotations = ${JSON.stringify(POD_ANNOTATIONS)}`);
    expect(toml).toContain('restrict_oom_score_adj = true');
    const spec = JSON.parse(readFileSync(paths.baseSpec, 'utf8')) as { hooks: unknown; process: unknown };
    expect(spec.hooks).toEqual({ createRuntime: [hook] });
    expect(spec.process).toBeDefined();

    const d = spawn('containerd', ['--config', paths.config], { stdio: 'ignore' });
    const cri = new CriRuntime(paths.socket);
    try {
      for (let i = 0; i < 200 && !existsSync(paths.socket); i++) await new Promise((r) => setTimeout(r, 50));
      // The CRI plugin answers only if it accepted the configuration.
      expect(await cri.sandboxes()).toEqual([]);
    } finally {
      cri.close();
      d.kill('SIGTERM');
      await new Promise((r) => d.once('exit', r));
    }
  });
});
