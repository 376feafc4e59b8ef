// The API-server-only harness other suites (the controller's) build on: a real etcd + kube-apiserver
// that accepts writes through the kubeconfig it hands out, and leaves nothing running after stop().

import { describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN_DIR } from '../testing/apiserver/components.js';
import { startControlPlane } from '../testing/apiserver/control-plane.js';

jest.setTimeout(120_000);

const built = existsSync(join(BIN_DIR, 'kube-apiserver'));

describe('startControlPlane', () => {
  if (!built) {
    it('needs kube-apiserver: run e2e/cluster/build.sh first', () => {
      throw new Error(`${join(BIN_DIR, 'kube-apiserver')} is missing: e2e/cluster/build.sh builds it (e2e/run.sh does this)`);
    });
    return;
  }

  it('serves the Kubernetes API through its kubeconfig and stops cleanly', async () => {
    const cp = await startControlPlane();
    const dir = dirname(cp.kubeconfigPath);
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cp.kubeconfigPath);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'cp-test' } } });
      const ns = await core.readNamespace({ name: 'cp-test' });
      expect(ns.metadata?.uid).toBeTruthy();
      const version = await kc.makeApiClient(k8s.VersionApi).getCode();
      expect(version.gitVersion).toMatch(/^v1\.34\./);
    } finally {
      await cp.stop();
    }
    expect(existsSync(dir)).toBe(false);
    const port = Number(new URL(cp.server).port);
    const refused = await fetch(`https://127.0.0.1:${port}/readyz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});
