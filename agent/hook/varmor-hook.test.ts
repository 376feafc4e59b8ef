// The C hook against a real socket: what it sends, what it does with each answer, and its
// fail-closed / fail-open choice when the agent is away.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildHook } from './build.js';
import { HookServer, type HookDecision } from './server.js';
import type { HookRequest } from './request.js';

const state = (annotations: Record<string, string>, pid = 4242): string =>
  JSON.stringify({ ociVersion: '1.0.2', id: 'cid', status: 'creating', pid, bundle: '/b', annotations });
const BPF = { 'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-x', 'io.kubernetes.cri.container-type': 'container' };
const SECCOMP_ONLY = { 'container.seccomp.security.beta.varmor.org/app': 'localhost/varmor-x', 'io.kubernetes.cri.container-type': 'container' };

describe('varmor-hook (C)', () => {
  let dir: string;
  let bin: string;
  let server: HookServer;
  let socket: string;
  const seen: HookRequest[] = [];
  let answer: HookDecision = { ok: true };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-hook-'));
    bin = buildHook(path.join(dir, 'varmor-hook'));
    socket = path.join(dir, 'hook.sock');
    server = new HookServer(socket, async (r) => {
      seen.push(r);
      return answer;
    });
    await server.listen();
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runHook = (stage: string, input: string, sock = socket): Promise<{ status: number | null; stderr: string }> =>
    new Promise((resolve) => {
      // spawnSync would block the event loop the server answers on; run it in a child asynchronously.
      import('node:child_process').then(({ spawn }) => {
        const p = spawn(bin, [stage, sock]);
        let stderr = '';
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        p.on('close', (status) => resolve({ status, stderr }));
        p.stdin.end(input);
      });
    });

  it('forwards the OCI state of a varmor container and exits 0 on ok', async () => {
    answer = { ok: true };
    const r = await runHook('createRuntime', state(BPF));
    expect(r.status).toBe(0);
    expect(seen.at(-1)).toMatchObject({ stage: 'createRuntime', state: { id: 'cid', pid: 4242, annotations: BPF } });
  });
  it('adds the container init cgroup path, read from /proc/<pid>/cgroup on the host side', async () => {
    answer = { ok: true };
    expect((await runHook('createRuntime', state(BPF, process.pid))).status).toBe(0);
    const own = /^0::(.*)$/m.exec(fs.readFileSync('/proc/self/cgroup', 'utf8'))![1];
    expect(seen.at(-1)?.cgroupPath).toBe(own);
  });
  it('fails the create when the agent denies a BPF container, with the reason', async () => {
    answer = { ok: false, reason: 'ArmorProfile for varmor-x (BPF) is not known' };
    const r = await runHook('createRuntime', state(BPF));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('agent refused: ArmorProfile for varmor-x (BPF) is not known');
  });
  it('does not ask the agent about containers without varmor annotations', async () => {
    const n = seen.length;
    expect((await runHook('createRuntime', state({ 'io.kubernetes.cri.container-type': 'container' }))).status).toBe(0);
    expect(seen.length).toBe(n);
  });
  it('fails closed for a BPF container when the agent is unreachable, open for the rest', async () => {
    const gone = path.join(dir, 'nobody.sock');
    const bpf = await runHook('createRuntime', state(BPF), gone);
    expect(bpf.status).toBe(1);
    expect(bpf.stderr).toMatch(/unreachable; refusing to start a BPF-confined container unprotected/);
    expect((await runHook('createRuntime', state(SECCOMP_ONLY), gone)).status).toBe(0);
    expect((await runHook('poststop', state(BPF, 0), gone)).status).toBe(0);
    expect((await runHook('createRuntime', state({ ...BPF, 'io.kubernetes.cri.container-type': 'sandbox' }), gone)).status).toBe(0);
  });
  it('rejects bad usage', () => {
    expect(spawnSync(bin, ['createRuntime']).status).toBe(2);
  });
});
