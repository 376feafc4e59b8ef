// `varmor bpf uninstall`: the node's BPF enforcer removed for good. Every pin under the pin path
// goes (links: their programs detach; maps; the version tag; a previous set kept by an upgrade),
// then the folder. Run it on each node after the agent DaemonSet is deleted (a running agent's
// own programs stay attached until it exits); an agent restarted later loads afresh.

import { parseFlags, UsageError } from './args.js';
import type { CliIO } from './main.js';

export const BPF_HELP = `Usage: varmor bpf uninstall [--pin-path DIR]

Detaches every BPF program the agents pinned and removes every pin under DIR and DIR itself
(default /sys/fs/bpf/varmor, the agent's --pin-path). Stop the agent first: programs it holds
open stay attached until it exits. Needs CAP_SYS_ADMIN (or CAP_BPF) and bpffs mounted at DIR's root.

Options:
  --pin-path DIR             bpffs folder of the pinned objects (default /sys/fs/bpf/varmor)
  -h, --help                 this help
`;

const FLAGS = { 'pin-path': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export interface BpfCliDeps {
  uninstall(pinPath: string): void;
}

export async function main(argv: string[], io: CliIO, deps?: BpfCliDeps): Promise<number> {
  const f = parseFlags(argv, FLAGS, { positionals: true });
  if (f.values.help) {
    io.stdout(BPF_HELP);
    return 0;
  }
  const [sub, ...extra] = f.positionals;
  if (sub !== 'uninstall')
    throw new UsageError(
      sub === undefined ? 'bpf needs a subcommand: uninstall' : `unknown bpf subcommand "${sub}"`,
      sub,
    );
  if (extra.length) throw new UsageError(`bpf uninstall takes no arguments, got ${extra.join(' ')}`);
  const pinPath = f.values['pin-path'] ?? '/sys/fs/bpf/varmor';
  if (!pinPath.startsWith('/'))
    throw new UsageError(`--pin-path must be absolute, got ${pinPath}`, '--pin-path');
  const d = deps ?? (await import('../native/index.js'));
  try {
    d.uninstall(pinPath);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    io.stderr(`varmor bpf uninstall: ${err.code ?? 'EIO'}: ${err.message ?? String(e)}\n`);
    return 1;
  }
  io.stdout(`varmor bpf uninstall: no pin left under ${pinPath}\n`);
  return 0;
}
