// Wires the agent's OCI hook (agent/hook: varmor-hook, a static C binary runc runs on the host) into the
// local cluster's containerd: builds it into .work/bin and returns the base-runtime-spec transform.
// The agent listens on HOOK_SOCKET, a host path its DaemonSet mounts (manifests/agent.yaml).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR, CLUSTER_DIR } from '../../testing/apiserver/components.js';

export const HOOK_SOCKET = '/run/varmor/hook.sock';

export type SpecTransform = (spec: Record<string, unknown>) => Record<string, unknown>;

/** The transform, or undefined (with the reason printed) when the agent has no hook yet. */
export async function agentHook(log: (m: string) => void = console.log): Promise<SpecTransform | undefined> {
  const hookDir = join(CLUSTER_DIR, '../../agent/hook');
  if (!existsSync(join(hookDir, 'spec.ts')) || !existsSync(join(hookDir, 'build.ts'))) {
    log('cluster: agent/hook is missing: containerd runs without the varmor OCI hook');
    return undefined;
  }
  const spec = (await import('../../agent/hook/spec.js')) as { baseRuntimeSpec: (s: Record<string, unknown>, hook: string, sock: string) => Record<string, unknown> };
  const build = (await import('../../agent/hook/build.js')) as { buildHook: (out: string) => string };
  const bin = build.buildHook(join(BIN_DIR, 'varmor-hook'));
  log(`cluster: varmor-hook built (${bin}); containerd calls it with ${HOOK_SOCKET}`);
  return (s) => spec.baseRuntimeSpec(s, bin, HOOK_SOCKET);
}
