// `npm run cluster:up` / `cluster:down` / `cluster:status`: the local cluster from the command line.
// Run through the TypeScript loader: node --import ./testing/ts-loader.mjs e2e/cluster/cli.ts up

import { down, hostProblems, readState, up } from './cluster.js';
import { agentHook } from './hook.js';

async function main(cmd: string | undefined): Promise<number> {
  switch (cmd) {
    case 'up': {
      const problems = hostProblems();
      if (problems.length) {
        console.error(`cluster: cannot run here:\n- ${problems.join('\n- ')}`);
        return 2;
      }
      try {
        await up({ runtimeSpec: await agentHook(), images: process.env.VARMOR_E2E_IMAGES?.split(',').filter(Boolean) });
        return 0;
      } catch (err) {
        console.error(`cluster: up failed: ${(err as Error).message}`);
        console.error('cluster: logs are in e2e/cluster/.work/cluster/logs; tearing down');
        await down({ keepLogs: true });
        return 1;
      }
    }
    case 'down':
      return (await down({ keepLogs: true })).leftovers.length ? 1 : 0;
    case 'status': {
      const s = readState();
      console.log(s ? JSON.stringify(s, null, 2) : 'cluster: not running');
      return s ? 0 : 1;
    }
    default:
      console.error('usage: cli.ts up|down|status');
      return 2;
  }
}

process.exitCode = await main(process.argv[2]);
