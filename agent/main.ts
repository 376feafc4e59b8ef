// `varmor agent`: the node daemon's entry point (cli/main.ts imports it lazily). Parses flags,
// starts the agent, and stops it on SIGTERM/SIGINT without detaching BPF (a DaemonSet rollout
// must not open a window with no protection). Returns the process exit code.

import os from 'node:os';
import { Agent, kubeClient } from './agent.js';
import { parseAgentArgs, USAGE } from './args.js';
import { AgentError } from './errors.js';
import { createLogger } from './log.js';

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseAgentArgs(argv, process.env, os.hostname());
  } catch (e) {
    process.stderr.write(`varmor agent: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = createLogger({ nodeName: args.nodeName, level: args.logLevel });
  let agent: Agent;
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
      resyncMs: args.resyncSeconds * 1000,
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
