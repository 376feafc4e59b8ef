// A controller process for the crash tests (resilience.test.ts), run with
// `node --import e2e/cluster/ts-loader.mjs e2e/controller/crash-child.ts KUBECONFIG IDENTITY [LEASE_SECONDS]`.
// FAULT INJECTION: once it has created an ArmorProfile it announces it on stdout and stops
// making progress, so the test can SIGKILL it between that write and the status write.

import { KubeConfig } from '@kubernetes/client-node';
import { startController } from '../../webhook/controller/index.js';
import { makeKubeClient, type KubeClient } from '../../webhook/controller/kube.js';
import { silentLogger } from '../../webhook/controller/log.js';

const [kubeconfig, identity, leaseSeconds] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const real = makeKubeClient(kc);
const client: KubeClient = {
  ...real,
  async create(kind, obj) {
    const created = await real.create(kind, obj);
    if (kind === 'ArmorProfile') {
      process.stdout.write(`PAUSED-AFTER-ARMORPROFILE ${obj.metadata.namespace}/${obj.metadata.name}\n`);
      await new Promise(() => undefined);
    }
    return created;
  },
};
await startController({
  kubeConfig: kc,
  namespace: 'varmor',
  identity,
  client,
  log: silentLogger,
  ...(leaseSeconds ? { leaseDurationSeconds: Number(leaseSeconds), renewDeadlineSeconds: Math.max(1, Number(leaseSeconds) - 1), retryPeriodSeconds: 1 } : {}),
});
process.stdout.write('STARTED\n');
