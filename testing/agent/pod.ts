// Test support: start a pod the way the kubelet does through CRI (sandbox on the host network,
// then containers with the seccomp profile the webhook referenced), so the runtime path under
// test is the production one: containerd's CRI plugin, the base runtime spec, runc.

import type { SandboxConfig, SecurityProfile } from './kubelet-cri.js';
import type { TestContainerd } from './containerd.js';
import { BUSYBOX_IMAGE } from './images.js';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface TestContainerSpec {
  name: string;
  command: string[];
  seccomp?: SecurityProfile;
}

export interface TestPod {
  sandboxId: string;
  sandboxConfig: SandboxConfig;
  containerIds: Record<string, string>;
  logDir: string;
}

export async function createPod(
  ctrd: TestContainerd,
  opts: { name: string; namespace?: string; annotations?: Record<string, string>; containers: TestContainerSpec[]; start?: boolean },
): Promise<TestPod> {
  const uid = randomUUID();
  const logDir = path.join(ctrd.dir, 'logs', uid);
  fs.mkdirSync(logDir, { recursive: true });
  const sandboxConfig: SandboxConfig = {
    metadata: { name: opts.name, uid, namespace: opts.namespace ?? 'default', attempt: 0 },
    // Host network (no CNI here): a hostname would need a private UTS namespace.
    logDirectory: logDir,
    annotations: opts.annotations ?? {},
    labels: { 'io.kubernetes.pod.name': opts.name },
    linux: {
      cgroupParent: `${ctrd.cgroupParent}/pod${uid}`,
      securityContext: { namespaceOptions: { network: 'NODE' } },
    },
  };
  const sandboxId = await ctrd.cri.runPodSandbox(sandboxConfig);
  const containerIds: Record<string, string> = {};
  for (const c of opts.containers) {
    const id = await ctrd.cri.createContainer(
      sandboxId,
      {
        metadata: { name: c.name, attempt: 0 },
        image: { image: BUSYBOX_IMAGE },
        command: c.command,
        labels: { 'io.kubernetes.container.name': c.name },
        logPath: `${c.name}.log`,
        linux: { securityContext: c.seccomp ? { seccomp: c.seccomp } : {} },
      },
      sandboxConfig,
    );
    containerIds[c.name] = id;
    if (opts.start !== false) await ctrd.cri.startContainer(id);
  }
  return { sandboxId, sandboxConfig, containerIds, logDir };
}

export async function removePod(ctrd: TestContainerd, pod: TestPod): Promise<void> {
  for (const id of Object.values(pod.containerIds)) {
    await ctrd.cri.stopContainer(id).catch(() => undefined);
    await ctrd.cri.removeContainer(id).catch(() => undefined);
  }
  await ctrd.cri.stopPodSandbox(pod.sandboxId).catch(() => undefined);
  await ctrd.cri.removePodSandbox(pod.sandboxId).catch(() => undefined);
}

/** The container's output lines (CRI log format: "<time> <stream> <tag> <line>"). */
export function containerOutput(pod: TestPod, name: string): string[] {
  const file = path.join(pod.logDir, `${name}.log`);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(3).join(' '));
}

/** Polls until the container printed a line matching `re` (or its output is returned as is). */
export async function waitForOutput(pod: TestPod, name: string, re: RegExp, timeoutMs = 15_000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const out = containerOutput(pod, name);
    if (out.some((l) => re.test(l)) || Date.now() > end) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
}
