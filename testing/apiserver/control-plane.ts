// A throwaway Kubernetes control plane for tests that need only an API server (the controller's tests):
// etcd and kube-apiserver on random 127.0.0.1 ports, a fresh PKI, an admin kubeconfig with a client
// certificate (group system:masters). CRDs are not installed: each test suite applies what it needs.
// Starts in seconds once e2e/cluster/build.sh has built kube-apiserver.

import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiserverArgs, etcdArgs, etcdBinary, k8sBinary, KUBERNETES_SERVICE_IP, WORK_DIR } from './components.js';
import { httpOk, httpsGet, writeKubeconfig } from './kubeconfig.js';
import { writeClusterPki } from './pki.js';
import { freePort, startDaemon, stopDaemon, waitFor, type Daemon } from './process.js';

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Stops kube-apiserver and etcd and removes their files. Idempotent. */
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Keep the work directory (logs, etcd data) after stop, for debugging. */
  keepFiles?: boolean;
  /** Milliseconds to wait for /readyz. Default 90 s (a cold API server on 2 busy cores). */
  timeoutMs?: number;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const apiserverBin = k8sBinary('kube-apiserver');
  const etcdBin = etcdBinary();
  mkdirSync(WORK_DIR, { recursive: true });
  const dir = mkdtempSync(join(WORK_DIR, 'cp-'));
  const daemons: Daemon[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const d of [...daemons].reverse()) await stopDaemon(d);
    if (!opts.keepFiles) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = writeClusterPki(join(dir, 'pki'), {
      apiserverIPs: ['127.0.0.1', KUBERNETES_SERVICE_IP],
      clients: [{ name: 'admin', user: 'varmor-test-admin', groups: ['system:masters'] }],
    });
    const [etcdPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcd = startDaemon('etcd', etcdBin, etcdArgs(join(dir, 'etcd'), etcdPort, peerPort), {
      logFile: join(dir, 'etcd.log'),
    });
    daemons.push(etcd);
    await waitFor('etcd /health', () => httpOk(`http://127.0.0.1:${etcdPort}/health`), 30_000, [etcd]);

    const apiserver = startDaemon(
      'kube-apiserver',
      apiserverBin,
      apiserverArgs({ pki, etcdPort, securePort, advertiseAddress: '127.0.0.1' }),
      { logFile: join(dir, 'kube-apiserver.log') },
    );
    daemons.push(apiserver);
    const server = `https://127.0.0.1:${securePort}`;
    const creds = { caFile: pki.caCert, certFile: pki.clients.admin.cert, keyFile: pki.clients.admin.key };
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await httpsGet(`${server}/readyz`, creds)).status === 200,
      opts.timeoutMs ?? 90_000,
      [etcd, apiserver],
    );
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfigPath, { server, ...creds });
    return { kubeconfigPath, server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
