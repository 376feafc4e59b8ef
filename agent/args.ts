// `varmor agent` flags, parsed into options. Pure (environment passed in), errors name the flag.

import { ConfigError } from './errors.js';
import type { BpfModeOption } from './loaders/bpf.js';
import { KUBELET_SECCOMP_ROOT } from '../profiler/names.js';

export interface AgentArgs {
  nodeName: string;
  kubeconfig?: string;
  seccompRoot: string;
  containerdSocket: string;
  hookSocket: string;
  pinPath: string;
  metricsPort: number;
  metricsAddress: string;
  bpfMode: BpfModeOption;
  appArmorDir: string;
  logLevel: string;
  resyncSeconds: number;
  help: boolean;
}

export const USAGE = `usage: varmor agent [flags]
  --node-name NAME           this node (default: $NODE_NAME, else the hostname)
  --kubeconfig FILE          API server credentials (default: $KUBECONFIG, else in-cluster)
  --seccomp-root DIR         the kubelet's seccomp root (default ${KUBELET_SECCOMP_ROOT})
  --containerd-socket PATH   containerd's CRI socket (default /run/containerd/containerd.sock)
  --hook-socket PATH         where varmor-hook reaches the agent (default /run/varmor/hook.sock)
  --pin-path DIR             bpffs folder for pinned BPF objects (default /sys/fs/bpf/varmor)
  --metrics-port N           readiness + Prometheus port (default 9580; 0 picks a free one)
  --metrics-address ADDR     address to listen on (default 127.0.0.1)
  --bpf-mode MODE            auto | enforce | audit | off (default auto)
  --apparmor-dir DIR         AppArmor profile files (default /var/run/varmor/apparmor.d)
  --log-level LEVEL          error | warn | info | debug (default info)
  --resync-seconds N         runtime reconcile period (default 30)`;

const FLAGS: Record<string, keyof AgentArgs> = {
  '--node-name': 'nodeName',
  '--kubeconfig': 'kubeconfig',
  '--seccomp-root': 'seccompRoot',
  '--containerd-socket': 'containerdSocket',
  '--hook-socket': 'hookSocket',
  '--pin-path': 'pinPath',
  '--metrics-port': 'metricsPort',
  '--metrics-address': 'metricsAddress',
  '--bpf-mode': 'bpfMode',
  '--apparmor-dir': 'appArmorDir',
  '--log-level': 'logLevel',
  '--resync-seconds': 'resyncSeconds',
};

export function parseAgentArgs(argv: string[], env: Record<string, string | undefined>, hostname: string): AgentArgs {
  const out: AgentArgs = {
    nodeName: env['NODE_NAME'] || hostname,
    kubeconfig: env['KUBECONFIG'] || undefined,
    seccompRoot: KUBELET_SECCOMP_ROOT,
    containerdSocket: '/run/containerd/containerd.sock',
    hookSocket: '/run/varmor/hook.sock',
    pinPath: '/sys/fs/bpf/varmor',
    metricsPort: 9580,
    metricsAddress: '127.0.0.1',
    bpfMode: 'auto',
    appArmorDir: '/var/run/varmor/apparmor.d',
    logLevel: 'info',
    resyncSeconds: 30,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[flag];
    if (!key) throw new ConfigError(flag, 'unknown flag');
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new ConfigError(flag, 'needs a value');
    (out as unknown as Record<string, unknown>)[key] = value;
  }
  const num = (flag: string, v: unknown, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(flag, `${String(v)} is not an integer in ${min}..${max}`);
    return n;
  };
  out.metricsPort = num('--metrics-port', out.metricsPort, 0, 65535);
  out.resyncSeconds = num('--resync-seconds', out.resyncSeconds, 1, 86400);
  if (!['auto', 'enforce', 'audit', 'off'].includes(out.bpfMode)) throw new ConfigError('--bpf-mode', `${out.bpfMode} is not one of auto, enforce, audit, off`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(out.nodeName)) throw new ConfigError('--node-name', `${JSON.stringify(out.nodeName)} is not a node name`);
  for (const [flag, v] of [['--seccomp-root', out.seccompRoot], ['--containerd-socket', out.containerdSocket], ['--hook-socket', out.hookSocket], ['--pin-path', out.pinPath]] as const) {
    if (!v.startsWith('/')) throw new ConfigError(flag, `${v} is not an absolute path`);
  }
  return out;
}
