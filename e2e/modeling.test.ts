// BehaviorModeling for Seccomp with nothing simulated: the real agent records the syscalls a real
// container makes (its BPF recorder, native vt_rec_sys_enter, attached while the run records),
// uploads them at the end of the run, and the controller merges them into the ArmorProfileModel.
// A one-minute run: the shortest modelingOptions.duration allows.

import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { BUSYBOX_IMAGE } from '../manifests/images/refs.js';
import { clients, createTestNamespace, eventually, type Clients } from './lib/kube.js';

jest.setTimeout(300_000);

const GROUP = 'crd.varmor.org';
const VERSION = 'v1beta1';
const ns = `e2e-model-${randomBytes(3).toString('hex')}`;
const NAME = 'model-me';
const APP = { app: 'e2e-model' };

let c: Clients;

interface Status {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

const readPolicy = async (): Promise<Status | undefined> =>
  ((await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'varmorpolicies', name: NAME })) as { status?: Status }).status;

beforeAll(async () => {
  if (process.env.VARMOR_E2E_UNAVAILABLE) throw new Error(`e2e cluster unavailable: ${process.env.VARMOR_E2E_UNAVAILABLE}`);
  c = clients();
  await createTestNamespace(c, ns);
});

afterAll(async () => {
  if (c) await c.core.deleteNamespace({ name: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
});

describe('BehaviorModeling on a real workload: Seccomp', () => {
  it('records the syscalls the container makes into the model', async () => {
    await c.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: 'varmorpolicies',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'VarmorPolicy',
        metadata: { name: NAME, namespace: ns },
        spec: { target: { kind: 'Pod', selector: { matchLabels: APP } }, policy: { enforcer: 'Seccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 1 } } },
      },
    });
    await eventually('phase Modeling', async () => ((await readPolicy())?.phase === 'Modeling' ? true : undefined), 60_000);
    const t0 = Date.now();
    await c.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'workload', namespace: ns, labels: APP },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'app',
              image: BUSYBOX_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              // what the model must show: mkdir, rmdir, uname, besides the shell's own
              command: ['sh', '-c', 'trap "exit 0" TERM; while true; do mkdir -p /tmp/m; rmdir /tmp/m; uname > /dev/null; sleep 1; done'],
            },
          ],
        },
      },
    });
    const status = await eventually(
      'modelling Completed',
      async () => {
        const s = await readPolicy();
        return s?.phase === 'Completed' ? s : undefined;
      },
      240_000,
      2000,
    );
    console.log(`modelling: Completed ${Math.round((Date.now() - t0) / 1000)} s after the workload started (run of 1 min)`);
    expect(status.conditions?.find((x) => x.type === 'Modeling')).toMatchObject({ reason: 'Completed' });
    const profileName = `varmor-${ns}-${NAME}`;
    const model = (await c.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'armorprofilemodels', name: profileName })) as {
      data?: { dynamicResult?: { seccomp?: { syscalls?: string[] } } };
    };
    const syscalls = model.data?.dynamicResult?.seccomp?.syscalls ?? [];
    const arm = (await c.core.listNode()).items[0]?.status?.nodeInfo?.architecture === 'arm64';
    expect(syscalls).toEqual(expect.arrayContaining([arm ? 'mkdirat' : 'mkdir', arm ? 'unlinkat' : 'rmdir', 'uname', 'execve']));
    // only what it made: nothing a busybox loop never calls
    for (const never of ['reboot', 'kexec_load', 'init_module', 'ptrace', 'mount']) expect(syscalls).not.toContain(never);
  });
});
