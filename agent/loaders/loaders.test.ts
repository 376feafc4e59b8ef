import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeccompLoader } from './seccomp.js';
import { AppArmorLoader } from './apparmor.js';
import { openBpf, type NativeModule } from './bpf.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-loaders-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('SeccompLoader', () => {
  it('writes <root>/varmor/<name>.json, rewrites only on change, lists and removes', () => {
    const l = new SeccompLoader(dir);
    expect(l.write('varmor-a-b', '{"defaultAction":"SCMP_ACT_ALLOW"}')).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'varmor/varmor-a-b.json'), 'utf8')).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}');
    const ino = fs.statSync(l.pathOf('varmor-a-b')).ino;
    expect(l.write('varmor-a-b', '{"defaultAction":"SCMP_ACT_ALLOW"}')).toBe(false);
    expect(fs.statSync(l.pathOf('varmor-a-b')).ino).toBe(ino);
    // A rewrite is a rename: a reader holding the old file keeps reading the old content whole.
    const fd = fs.openSync(l.pathOf('varmor-a-b'), 'r');
    l.write('varmor-a-b', '{"defaultAction":"SCMP_ACT_LOG"}');
    expect(fs.readFileSync(fd, 'utf8')).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}');
    fs.closeSync(fd);
    expect(fs.statSync(l.pathOf('varmor-a-b')).ino).not.toBe(ino);
    expect(l.list()).toEqual(['varmor-a-b']);
    l.remove('varmor-a-b');
    expect(l.list()).toEqual([]);
  });
  it('a failed write leaves the previous profile and reports the path', () => {
    const l = new SeccompLoader(dir);
    l.write('varmor-a-b', '{"defaultAction":"SCMP_ACT_ALLOW"}');
    fs.chmodSync(path.join(dir, 'varmor'), 0o500);
    try {
      // root ignores directory permissions; make the temp name a directory instead.
      fs.mkdirSync(path.join(dir, 'varmor', `.varmor-a-b.json.${process.pid}.tmp`));
      expect(() => l.write('varmor-a-b', '{"defaultAction":"SCMP_ACT_LOG"}')).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_SECCOMP_WRITE', profile: 'varmor-a-b' }));
      expect(fs.readFileSync(l.pathOf('varmor-a-b'), 'utf8')).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}');
    } finally {
      fs.chmodSync(path.join(dir, 'varmor'), 0o755);
    }
  });
});

describe('AppArmorLoader', () => {
  it('reports AppArmor unavailable where the kernel has none (this host), without running the parser', async () => {
    const l = new AppArmorLoader({ profileDir: dir, securityfs: path.join(dir, 'no-apparmor') });
    expect(l.unavailableReason()).toMatch(/kernel has no AppArmor/);
    await expect(l.load('varmor-a', 'profile varmor-a {}', false)).rejects.toMatchObject({ code: 'VARMOR_ERR_ENFORCER_UNAVAILABLE', enforcer: 'AppArmor' });
  });
  const parser = fs.existsSync('/usr/sbin/apparmor_parser') ? it : it.skip;
  parser('a real apparmor_parser -r failure is a LoadError with the parser output, and keeps no file', async () => {
    // securityfs pointed at a folder that exists: the loader tries; the parser's kernel load fails here.
    const fakeSecurityfs = path.join(dir, 'sec');
    fs.mkdirSync(fakeSecurityfs);
    const l = new AppArmorLoader({ profileDir: path.join(dir, 'profiles'), securityfs: fakeSecurityfs });
    await expect(l.load('varmor-a', 'profile varmor-a { capability not_a_cap, }\n', false)).rejects.toMatchObject({
      code: 'VARMOR_ERR_APPARMOR_LOAD',
      profile: 'varmor-a',
      message: expect.stringMatching(/apparmor_parser -r failed \(\d+\): .+/),
    });
    expect(fs.existsSync(l.fileOf('varmor-a'))).toBe(false);
  });
});

describe('openBpf', () => {
  const fake = (lsm: boolean, tracing: boolean, attach: (mode: string) => void): NativeModule => ({
    probe: () => ({ lsm, lsmReason: lsm ? undefined : 'EPERM', tracing }),
    BpfEnforcer: class {
      constructor(private readonly o: { mode: string }) {}
      attach(): void {
        attach(this.o.mode);
      }
      loadPolicy(): void {}
      removePolicy(): void {}
      bindCgroup(): void {}
      unbindCgroup(): void {}
      bindings(): Map<bigint, number> {
        return new Map();
      }
      readEvents(): never[] {
        return [];
      }
      detach(): void {}
    } as unknown as NativeModule['BpfEnforcer'],
  });
  // A stand-in for the addon (named as such): only the mode choice is under test here; the
  // real addon is exercised in node.containerd.test.ts.
  it('auto: enforce when BPF LSM loads, else audit with the reason, else off', async () => {
    expect((await openBpf('auto', undefined, fake(true, true, () => undefined))).mode).toBe('enforce');
    const audit = await openBpf('auto', undefined, fake(false, true, () => undefined));
    expect(audit).toMatchObject({ mode: 'audit', unavailable: expect.stringContaining('EPERM') });
    expect((await openBpf('auto', undefined, fake(false, false, () => undefined))).mode).toBe('off');
    expect((await openBpf('off', undefined, fake(true, true, () => undefined))).backend).toBeNull();
  });
  it('runs unpinned (and says so) when the pin path is not on a bpffs', async () => {
    const h = await openBpf('auto', '/not-bpffs/varmor', {
      ...fake(true, true, () => undefined),
      BpfEnforcer: class {
        constructor(private readonly o: { pinPath?: string }) {}
        attach(): void {
          if (this.o.pinPath) throw new Error(`cannot create pin directory ${this.o.pinPath}: No such file or directory`);
        }
        detach(): void {}
      } as unknown as NativeModule['BpfEnforcer'],
    });
    expect(h.mode).toBe('enforce');
    expect(h.unpinned).toMatch(/pinning under \/not-bpffs\/varmor failed/);
  });
  it('enforce refuses to fall back to audit', async () => {
    await expect(openBpf('enforce', undefined, fake(true, true, () => { throw Object.assign(new Error('EPERM'), { code: 'EPERM' }); }))).rejects.toMatchObject({ code: 'VARMOR_ERR_ENFORCER_UNAVAILABLE' });
  });
  it('on this host: the real addon opens in audit mode (BPF LSM refused by the kernel), or says why not', async () => {
    const h = await openBpf('auto', undefined);
    if (h.backend) {
      expect(h.mode).toBe(h.unavailable ? 'audit' : 'enforce');
      h.backend.detach();
    } else {
      console.warn(`BPF off on this host: ${h.unavailable}`);
      expect(h.unavailable).toBeTruthy();
    }
  });
});
