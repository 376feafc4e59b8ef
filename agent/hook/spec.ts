// The containerd side of the race-free bind: the OCI hooks our base runtime spec adds, and the
// pod annotation passthrough that lets the hook see the webhook's annotations. Pure: takes the
// runtime's default spec (`ctr oci spec`) and returns it with our hooks; the README shows the
// same as shell for operators.

/** containerd runtime option `pod_annotations`: pod annotations copied into the OCI spec. */
export { POD_ANNOTATIONS_PASSTHROUGH } from '../../profiler/node.js';

export const HOOK_TIMEOUT_SECONDS = 10;

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/**
 * createRuntime: runc calls it after the container's cgroup exists and before the user process
 * runs, so the bind happens first. poststop: tells the agent the container is gone, so it can
 * unbind at once (the periodic runtime scan catches the cases where it does not run).
 */
export function baseRuntimeSpec(defaultSpec: Record<string, unknown>, hookPath: string, socket: string): Record<string, unknown> {
  const hooks = { ...((defaultSpec['hooks'] as Record<string, OciHook[]> | undefined) ?? {}) };
  const ours = (stage: string): OciHook => ({
    path: hookPath,
    args: ['varmor-hook', stage, socket],
    timeout: HOOK_TIMEOUT_SECONDS,
  });
  const withoutOurs = (list: OciHook[] | undefined): OciHook[] => (list ?? []).filter((h) => h.path !== hookPath);
  hooks['createRuntime'] = [...withoutOurs(hooks['createRuntime']), ours('createRuntime')];
  hooks['poststop'] = [...withoutOurs(hooks['poststop']), ours('poststop')];
  return { ...defaultSpec, hooks };
}
