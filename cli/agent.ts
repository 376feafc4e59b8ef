// `varmor agent`: the node daemon's process. Its flags become the Agent's options (agent/agent.ts);
// the agent runs until SIGTERM/SIGINT and stops without detaching BPF (a DaemonSet rollout must
// not open a window with no protection).

import fs from 'node:fs';
import os from 'node:os';
import { bindingKey, DEFAULT_PRODUCT_NAMESPACE, isLogLevel, KUBELET_SECCOMP_ROOT, type LogLevelOrSilent } from '../profiler/index.js';
import { createLogger } from './log.js';
import type { BpfModeOption } from '../agent/index.js';
import { parseFlags, UsageError } from './args.js';

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
  kernelLog: boolean;
  logLevel: LogLevelOrSilent;
  resyncSeconds: number;
  /** The webhook's binding key file (a mounted Secret); unset: only the namespace rule binds. */
  bindingKeyFile?: string;
  productNamespace: string;
  help: boolean;
}

export const AGENT_USAGE = `usage: varmor agent [flags]
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
  --no-kernel-log            do not read Seccomp and AppArmor records from the kernel log (syslog(2), CAP_SYSLOG)
  --log-level LEVEL          error | warn | info | debug (default info)
  --resync-seconds N         runtime reconcile period (default 30)
  --binding-key FILE         the webhook's binding key: bind only references it signed (default: none,
                             then only a profile of the pod's namespace or a cluster policy binds)
  --product-namespace NS     namespace of varmor and of cluster policies' profiles (default: $POD_NAMESPACE, else varmor)`;

const FLAGS = {
  'node-name': { type: 'string' },
  kubeconfig: { type: 'string' },
  'seccomp-root': { type: 'string' },
  'containerd-socket': { type: 'string' },
  'hook-socket': { type: 'string' },
  'pin-path': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-address': { type: 'string' },
  'bpf-mode': { type: 'string' },
  'apparmor-dir': { type: 'string' },
  'no-kernel-log': { type: 'boolean' },
  'log-level': { type: 'string' },
  'resync-seconds': { type: 'string' },
  'binding-key': { type: 'string' },
  'product-namespace': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Pure: the environment and the hostname are passed in. Errors name the flag. */
export function parseAgentArgs(argv: string[], env: Record<string, string | undefined>, hostname: string): AgentArgs {
  const { values: v } = parseFlags(argv, FLAGS);
  const num = (flag: string, value: string | undefined, dflt: number, min: number, max: number): number => {
    if (value === undefined) return dflt;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: ${value} is not an integer in ${min}..${max}`, flag);
    return n;
  };
  const logLevel = v['log-level'] ?? 'info';
  const out: AgentArgs = {
    nodeName: v['node-name'] ?? (env['NODE_NAME'] || hostname),
    kubeconfig: v.kubeconfig ?? (env['KUBECONFIG'] || undefined),
    seccompRoot: v['seccomp-root'] ?? KUBELET_SECCOMP_ROOT,
    containerdSocket: v['containerd-socket'] ?? '/run/containerd/containerd.sock',
    hookSocket: v['hook-socket'] ?? '/run/varmor/hook.sock',
    pinPath: v['pin-path'] ?? '/sys/fs/bpf/varmor',
    metricsPort: num('--metrics-port', v['metrics-port'], 9580, 0, 65535),
    metricsAddress: v['metrics-address'] ?? '127.0.0.1',
    bpfMode: (v['bpf-mode'] ?? 'auto') as BpfModeOption,
    appArmorDir: v['apparmor-dir'] ?? '/var/run/varmor/apparmor.d',
    kernelLog: v['no-kernel-log'] !== true,
    logLevel: logLevel as LogLevelOrSilent,
    resyncSeconds: num('--resync-seconds', v['resync-seconds'], 30, 1, 86400),
    bindingKeyFile: v['binding-key'],
    productNamespace: v['product-namespace'] ?? (env['POD_NAMESPACE'] || DEFAULT_PRODUCT_NAMESPACE),
    help: v.help === true,
  };
  if (out.help) return out;
  if (!['auto', 'enforce', 'audit', 'off'].includes(out.bpfMode)) throw new UsageError(`--bpf-mode: ${out.bpfMode} is not one of auto, enforce, audit, off`, '--bpf-mode');
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level: unknown level ${JSON.stringify(logLevel)}`, '--log-level');
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(out.nodeName)) throw new UsageError(`--node-name: ${JSON.stringify(out.nodeName)} is not a node name`, '--node-name');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(out.productNamespace)) throw new UsageError(`--product-namespace: ${JSON.stringify(out.productNamespace)} is not a namespace name`, '--product-namespace');
  const paths: [string, string | undefined][] = [['--seccomp-root', out.seccompRoot], ['--containerd-socket', out.containerdSocket], ['--hook-socket', out.hookSocket], ['--pin-path', out.pinPath], ['--binding-key', out.bindingKeyFile]];
  for (const [flag, path] of paths) {
    if (path !== undefined && !path.startsWith('/')) throw new UsageError(`${flag}: ${path} is not an absolute path`, flag);
  }
  return out;
}

/** `varmor agent ARGS`: runs until SIGTERM/SIGINT; returns the exit status (2: usage, 1: failed to start). */
export async function main(argv: string[]): Promise<number> {
  let args: AgentArgs;
  try {
    args = parseAgentArgs(argv, process.env, os.hostname());
  } catch (e) {
    process.stderr.write(`varmor agent: ${(e as Error).message}\n${AGENT_USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return 0;
  }
  // The agent's modules (and the native addon behind them) load only when it runs, not for --help.
  const { Agent, kubeClient } = await import('../agent/index.js');
  const { AgentError } = await import('../agent/index.js');
  const log = createLogger({ component: 'agent', level: args.logLevel, defaultMeta: { nodeName: args.nodeName } });
  let key: Buffer | undefined;
  if (args.bindingKeyFile) {
    try {
      key = bindingKey(fs.readFileSync(args.bindingKeyFile));
    } catch (e) {
      // A configured key that cannot be read must not silently weaken the agent to the namespace rule.
      log.error('agent failed to start', { flag: '--binding-key', path: args.bindingKeyFile, error: (e as Error).message, code: (e as { code?: string }).code });
      return 1;
    }
  }
  let agent: Awaited<ReturnType<typeof Agent.start>>;
  try {
    agent = await Agent.start({
      nodeName: args.nodeName,
      kube: kubeClient(args.kubeconfig),
      seccompRoot: args.seccompRoot,
      containerdSocket: args.containerdSocket,
      hookSocket: args.hookSocket,
      pinPath: args.pinPath,
      metricsPort: args.metricsPort,
      metricsAddress: args.metricsAddress,
      bpfMode: args.bpfMode,
      appArmorDir: args.appArmorDir,
      kernelLog: args.kernelLog,
      resyncMs: args.resyncSeconds * 1000,
      bindingKey: key,
      productNamespace: args.productNamespace,
      log,
    });
  } catch (e) {
    log.error('agent failed to start', { error: (e as Error).message, code: e instanceof AgentError ? e.code : undefined });
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string): void => {
      log.info('signal received', { signal: sig });
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  await agent.stop();
  return 0;
}
