// A controller process for the crash tests (resilience.test.ts), run with
// `node --import testing/ts-loader.mjs e2e/controller/crash-child.ts KUBECONFIG IDENTITY`.
// FAULT INJECTION, chosen by CRASH_PAUSE: `armorprofile` (default) stops making progress right
// after creating an ArmorProfile, `restart` right after restarting a workload; either way it
// says so on stdout and the test SIGKILLs it there. CRASH_LEASE_SECONDS shortens its Lease.

import { KubeConfig } from '@kubernetes/client-node';
import { startController } from '../../controller/index.js';
import { makeKubeClient, type KubeClient } from '../../controller/kube.js';
import { silentLogger } from '../../profiler/api/log.js';

const [kubeconfig, identity] = process.argv.slice(2);
const pause = process.env.CRASH_PAUSE ?? 'armorprofile';
const leaseSeconds = Number(process.env.CRASH_LEASE_SECONDS ?? 0);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const real = makeKubeClient(kc);
const hang = (what: string): Promise<never> => {
  process.stdout.write(`${what}\n`);
  return new Promise(() => undefined);
};
const client: KubeClient = {
  ...real,
  async create(kind, obj) {
    const created = await real.create(kind, obj);
    if (kind === 'ArmorProfile' && pause === 'armorprofile')
      await hang(`PAUSED-AFTER-ARMORPROFILE ${obj.metadata.namespace}/${obj.metadata.name}`);
    return created;
  },
  async restartWorkload(kind, namespace, name, stamp) {
    const done = await real.restartWorkload(kind, namespace, name, stamp);
    if (pause === 'restart') await hang(`PAUSED-AFTER-RESTART ${kind} ${namespace}/${name} ${stamp}`);
    return done;
  },
};
await startController({
  kubeConfig: kc,
  namespace: 'varmor',
  identity,
  client,
  log: silentLogger,
  ...(leaseSeconds > 0
    ? {
        leaseDurationSeconds: leaseSeconds,
        renewDeadlineSeconds: Math.max(1, leaseSeconds - 1),
        retryPeriodSeconds: 1,
      }
    : {}),
});
process.stdout.write('STARTED\n');
