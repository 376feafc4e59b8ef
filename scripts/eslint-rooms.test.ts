// `npm run lint` enforces the rooms table of ../shared/DESIGN.md: the real ESLint CLI, with the
// project's own configuration, is given a file (on stdin, as if it sat at the path named) and
// must fail on an import that breaks the table and pass on one that keeps it.

import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';

function lint(asFile: string, source: string): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', '--stdin', '--stdin-filename', asFile], {
    input: source,
    encoding: 'utf8',
  });
  return { code: run.status, out: run.stdout + run.stderr };
}

describe('npm run lint: the rooms table', () => {
  it('fails when the profiler imports another room (it imports nothing of ours)', () => {
    const r = lint('profiler/rooms-probe.ts', "import { startWebhook } from '../webhook/main.js';\nexport const x = startWebhook;\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain('profiler/ may not import webhook/');
  });

  it('fails when the webhook imports the controller, however the path is spelt', () => {
    const r = lint('webhook/server/rooms-probe.ts', "export { startController } from '../../profiler/../controller/index.js';\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain('webhook/ may not import controller/');
  });

  it('fails on a dynamic import of a test rig from product code', () => {
    const r = lint('agent/rooms-probe.ts', "export const rig = () => import('../testing/agent/containerd.js');\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain('agent/ may not import testing/');
  });

  it('fails when a test reaches into e2e/ or bench/', () => {
    const r = lint('agent/rooms-probe.test.ts', "import { startControlPlane } from '../e2e/cluster/cluster.js';\nexport const x = startControlPlane;\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain('a test in agent/ may not import e2e/');
  });

  it("fails when product code reaches behind another room's entry", () => {
    const r = lint('webhook/rooms-probe.ts', "import { profileName } from '../profiler/names.js';\nexport const n = profileName;\n");
    expect(r.code).toBe(1);
    expect(r.out).toContain("go through the room's entry, profiler/index.js or profiler/node.js");
  });

  it('passes an import the table allows', () => {
    const r = lint('agent/rooms-probe.ts', "import { bpfPolicyId } from '../profiler/index.js';\nexport const id = bpfPolicyId;\n");
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    const light = lint('agent/rooms-probe.ts', "import { bpfPolicyId } from '../profiler/node.js';\nexport const id = bpfPolicyId;\n");
    expect(light.out).toBe('');
    expect(light.code).toBe(0);
  });
});
