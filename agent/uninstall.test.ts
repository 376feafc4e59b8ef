// The node cleanup of `varmor uninstall` on real folders: a seccomp root with our profiles and a
// stranger's, an AppArmor profile folder, a real unix socket. AppArmor's securityfs is out of reach
// on this host (no AppArmor in its kernel): a fake folder stands in for it, with a `profiles` file
// in the kernel's format, and the `.remove` writes are recorded. The BPF pins are removed by the
// real addon in native/pin.test.ts; here the call is recorded.

import { afterAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ourLoadedProfiles, uninstallNode } from './uninstall.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-uninstall-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function node(name: string): { root: string; seccompRoot: string; appArmorDir: string; appArmorFs: string; hookSocket: string; pinPath: string } {
  const root = path.join(tmp, name);
  const n = {
    root,
    seccompRoot: path.join(root, 'seccomp'),
    appArmorDir: path.join(root, 'apparmor.d'),
    appArmorFs: path.join(root, 'securityfs-apparmor'),
    hookSocket: path.join(root, 'hook.sock'),
    pinPath: path.join(root, 'bpf-pins'),
  };
  fs.mkdirSync(path.join(n.seccompRoot, 'varmor'), { recursive: true });
  fs.mkdirSync(path.join(n.seccompRoot, 'other'), { recursive: true });
  fs.mkdirSync(n.appArmorDir, { recursive: true });
  fs.mkdirSync(n.pinPath, { recursive: true });
  return n;
}

async function listen(p: string): Promise<net.Server> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(p, r));
  return s;
}

describe('uninstallNode', () => {
  it('removes our seccomp files, AppArmor profiles and files, the hook socket and the pins; leaves the rest', async () => {
    const n = node('full');
    fs.writeFileSync(path.join(n.seccompRoot, 'varmor', 'varmor-shop-web.json'), '{}');
    fs.writeFileSync(path.join(n.seccompRoot, 'varmor', 'varmor-cluster-varmor-base.json'), '{}');
    fs.writeFileSync(path.join(n.seccompRoot, 'other', 'keep.json'), '{}');
    fs.writeFileSync(path.join(n.appArmorDir, 'varmor-shop-web'), 'profile varmor-shop-web {}');
    fs.mkdirSync(n.appArmorFs);
    fs.writeFileSync(
      path.join(n.appArmorFs, 'profiles'),
      ['varmor-shop-web (enforce)', 'varmor-shop-web//sh (enforce)', 'varmor-cluster-varmor-base (complain)', 'docker-default (enforce)', '/usr/bin/man (enforce)', ''].join('\n'),
    );
    const server = await listen(n.hookSocket);
    const bpf: string[] = [];
    const removed: string[] = [];
    const r = uninstallNode({ ...n, uninstallBpf: (p) => { bpf.push(p); fs.rmSync(p, { recursive: true }); }, removeAppArmorProfile: (name) => removed.push(name) });
    server.close();
    expect(r).toEqual({
      bpf: 'removed',
      seccompProfiles: ['varmor-cluster-varmor-base', 'varmor-shop-web'],
      appArmorProfiles: ['varmor-cluster-varmor-base', 'varmor-shop-web'],
      hookSocket: 'removed',
      errors: [],
    });
    expect(bpf).toEqual([n.pinPath]);
    // the parents only: a child profile goes with its parent
    expect(removed).toEqual(['varmor-cluster-varmor-base', 'varmor-shop-web']);
    expect(fs.existsSync(path.join(n.seccompRoot, 'varmor'))).toBe(false);
    expect(fs.existsSync(path.join(n.seccompRoot, 'other', 'keep.json'))).toBe(true);
    expect(fs.existsSync(n.appArmorDir)).toBe(false);
    expect(fs.existsSync(n.hookSocket)).toBe(false);
  });

  it('a second run finds nothing and fails nothing; AppArmor absent is said, not failed', () => {
    const n = node('again');
    fs.rmSync(n.pinPath, { recursive: true });
    const r = uninstallNode({ ...n, uninstallBpf: () => undefined });
    expect(r).toEqual({
      bpf: 'absent',
      seccompProfiles: [],
      appArmorProfiles: { unavailable: expect.stringContaining('no AppArmor') },
      hookSocket: 'absent',
      errors: [],
    });
  });

  it('a failing part is reported and the others still run', () => {
    const n = node('partial');
    fs.writeFileSync(path.join(n.seccompRoot, 'varmor', 'varmor-a-b.json'), '{}');
    fs.mkdirSync(n.appArmorFs);
    fs.writeFileSync(path.join(n.appArmorFs, 'profiles'), 'varmor-a-b (enforce)\n');
    const r = uninstallNode({
      ...n,
      uninstallBpf: () => { throw Object.assign(new Error('pin folder busy'), { code: 'EBUSY' }); },
      removeAppArmorProfile: () => { throw Object.assign(new Error('permission denied'), { code: 'EACCES' }); },
    });
    expect(r.errors).toEqual(['bpf: EBUSY: pin folder busy', 'apparmor: EACCES: permission denied']);
    expect(r.seccompProfiles).toEqual(['varmor-a-b']);
  });
});

describe('ourLoadedProfiles', () => {
  it('reads the kernel format, keeps varmor-* parents, ignores children, others and junk', () => {
    const text = ['varmor-ns-p (enforce)', 'varmor-ns-p//child (enforce)', 'varmor-ns-p//null-/bin/sh (complain)', 'unconfined', 'varmor-x', 'lsb_release (enforce)', 'varmor-ns-q (kill)'].join('\n');
    expect(ourLoadedProfiles(text)).toEqual(['varmor-ns-p', 'varmor-ns-q']);
  });
});
