// `varmor uninstall`: this node's varmor state removed for good (agent/uninstall.ts): BPF pins
// (the programs detach), the Seccomp profile files, the loaded AppArmor profiles and their files,
// the hook socket. manifests/undeploy.ts runs it in a pod on each node once the agent DaemonSet is
// gone; its flags default to the agent's, so the same host paths are named.

import { KUBELET_SECCOMP_ROOT } from '../profiler/index.js';
import { parseFlags, UsageError } from './args.js';
import type { CliIO } from './main.js';

export const UNINSTALL_HELP = `Usage: varmor uninstall [options]

Removes what the agent left on this node: detaches every pinned BPF program and removes the pins,
removes the Seccomp profile files and the loaded AppArmor profiles named varmor-*, and the hook
socket. Running containers keep running (a container confined by a removed AppArmor profile
becomes unconfined). Stop the agent first: programs it holds open stay attached until it exits.
Exit status 1 when any part failed (each part is still attempted; the report names what is left).

Options:
  --pin-path DIR             bpffs folder of the pinned objects (default /sys/fs/bpf/varmor)
  --seccomp-root DIR         the kubelet's seccomp root (default ${KUBELET_SECCOMP_ROOT})
  --apparmor-dir DIR         AppArmor profile files (default /var/run/varmor/apparmor.d)
  --hook-socket PATH         the agent's hook socket (default /run/varmor/hook.sock)
  -h, --help                 this help
`;

const FLAGS = {
  'pin-path': { type: 'string' },
  'seccomp-root': { type: 'string' },
  'apparmor-dir': { type: 'string' },
  'hook-socket': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface UninstallCliDeps {
  uninstallBpf(pinPath: string): void;
  /** AppArmor's securityfs folder (tests point it at a fake). */
  appArmorFs?: string;
}

export async function main(argv: string[], io: CliIO, deps?: UninstallCliDeps): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    io.stdout(UNINSTALL_HELP);
    return 0;
  }
  const paths = {
    pinPath: v['pin-path'] ?? '/sys/fs/bpf/varmor',
    seccompRoot: v['seccomp-root'] ?? KUBELET_SECCOMP_ROOT,
    appArmorDir: v['apparmor-dir'] ?? '/var/run/varmor/apparmor.d',
    hookSocket: v['hook-socket'] ?? '/run/varmor/hook.sock',
  };
  for (const [flag, p] of Object.entries({ '--pin-path': paths.pinPath, '--seccomp-root': paths.seccompRoot, '--apparmor-dir': paths.appArmorDir, '--hook-socket': paths.hookSocket })) {
    if (!p.startsWith('/')) throw new UsageError(`${flag}: ${p} is not an absolute path`, flag);
  }
  const { uninstallNode } = await import('../agent/index.js');
  const uninstallBpf = deps?.uninstallBpf ?? (await import('../native/index.js')).uninstall;
  const r = uninstallNode({ ...paths, uninstallBpf, appArmorFs: deps?.appArmorFs });
  const apparmor = Array.isArray(r.appArmorProfiles) ? `${r.appArmorProfiles.length} profile(s) removed${r.appArmorProfiles.length ? ` (${r.appArmorProfiles.join(', ')})` : ''}` : `not touched: ${r.appArmorProfiles.unavailable}`;
  io.stdout(
    [
      `bpf: ${r.bpf === 'removed' ? `pins under ${paths.pinPath} removed, programs detached` : `nothing pinned under ${paths.pinPath}`}`,
      `seccomp: ${r.seccompProfiles.length} profile file(s) removed`,
      `apparmor: ${apparmor}`,
      `hook socket: ${r.hookSocket}`,
      '',
    ]
      .map((l) => (l ? `varmor uninstall: ${l}` : ''))
      .join('\n'),
  );
  for (const e of r.errors) io.stderr(`varmor uninstall: FAILED ${e}\n`);
  return r.errors.length ? 1 : 0;
}
