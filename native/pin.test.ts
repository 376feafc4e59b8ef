// Pinning in bpffs: an agent that pins its programs and maps keeps enforcing after it exits, and
// the next agent adopts the pins instead of loading a second copy. Runs the audit programs (the
// host refuses LSM) in a private bpffs mounted for the test.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTables, emptyTables } from '../profiler/bpf/encode.js';
import { BpfEnforcer, uninstall } from './index.js';
import { bpfProgIds, makeCgroup, waitProgsGone } from '../testing/native.js';

describe('pinPath: survive a restart, adopt, unpin', () => {
  let fs: string;
  let pin: string;

  beforeAll(() => {
    fs = mkdtempSync(join(tmpdir(), 'vt-bpffs-'));
    execFileSync('mount', ['-t', 'bpf', 'bpf', fs]);
    pin = join(fs, 'varmor');
  });

  afterAll(() => {
    try {
      execFileSync('umount', [fs]);
    } finally {
      rmSync(fs, { recursive: true, force: true });
    }
  });

  it('pins, keeps the programs and rules after detach, adopts them, and unpins to nothing', async () => {
    const a = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    a.attach();
    const progs = new Set(a.programIds());
    expect(progs.size).toBeGreaterThanOrEqual(3);
    expect(readdirSync(pin).filter((f) => f.startsWith('link_')).length).toBe(progs.size);
    const cg = makeCgroup('varmor-pin');
    const t = emptyTables(77, 1);
    t.pathExact = [{ path: '/etc/passwd', deny: 4, audit: 0 }];
    a.loadPolicy(77, encodeTables(t));
    a.bindCgroup(cg.id, 77);
    a.detach(); // agent exits; pins stay

    await new Promise((r) => setTimeout(r, 300));
    const still = bpfProgIds();
    expect([...progs].every((id) => still.has(id))).toBe(true);

    const b = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    b.attach();
    // adopted: the very same programs, no second copy loaded
    expect(new Set(b.programIds())).toEqual(progs);
    expect(b.bindings().get(cg.id)).toBe(77);
    expect(b.policies().get(77)).toBe(1);
    b.readEvents(100000);
    cg.run('exec cat /etc/passwd > /dev/null');
    expect(b.readEvents(100000).some((e) => e.cgroupId === cg.id && e.path === '/etc/passwd' && e.decision === 'denied')).toBe(true);

    b.detach({ unpin: true });
    expect(existsSync(pin)).toBe(false);

    // pins of another table layout (an older agent) are replaced, not reused or refused
    execFileSync('mkdir', ['-p', pin]);
    execFileSync('bpftool', ['map', 'create', join(pin, 'vt_policies'), 'type', 'hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'vt_policies']);
    const c = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    c.attach();
    c.loadPolicy(77, encodeTables(t));
    expect(c.policies().get(77)).toBe(1);
    const info = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', join(pin, 'vt_policies')], { encoding: 'utf8' })) as { bytes_value: number };
    expect(info.bytes_value).toBe(144);
    const cProgs = new Set(c.programIds());
    c.detach({ unpin: true });
    expect(await waitProgsGone(cProgs)).toEqual([]);
    cg.remove();
    expect(existsSync(pin)).toBe(false);
    expect(await waitProgsGone(progs)).toEqual([]);
  });

  it('upgrade: another build swaps every pinned link to its programs and keeps tables and bindings', async () => {
    const a = new BpfEnforcer({ mode: 'audit', pinPath: pin, versionTag: 'old-build' });
    a.attach();
    const oldIds = new Set(a.programIds());
    expect(a.versionInfo()).toMatchObject({ version: 'old-build', swapped: 0, previous: false });
    expect(a.versionInfo().upgradedFrom).toBeUndefined();
    const cg = makeCgroup('varmor-upgrade');
    const t = emptyTables(78, 1);
    t.pathExact = [{ path: '/etc/passwd', deny: 4, audit: 0 }];
    a.loadPolicy(78, encodeTables(t));
    a.bindCgroup(cg.id, 78);
    a.detach();

    const b = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    b.attach();
    const newIds = new Set(b.programIds());
    const info = b.versionInfo();
    expect(info.version).toMatch(/^[0-9a-f]{16}$/);
    expect(info).toMatchObject({ upgradedFrom: 'old-build', swapped: oldIds.size, previous: false });
    expect(info.linkUpdate + info.overlap).toBe(oldIds.size);
    expect(newIds.size).toBe(oldIds.size);
    expect([...newIds].filter((id) => oldIds.has(id))).toEqual([]);
    expect(await waitProgsGone(oldIds)).toEqual([]);
    // the maps were reused: the old agent's tables and binding are in force for the new programs
    expect(b.bindings().get(cg.id)).toBe(78);
    expect(b.policies().get(78)).toBe(1);
    b.readEvents(100000);
    cg.run('exec cat /etc/passwd > /dev/null');
    expect(b.readEvents(100000).some((e) => e.cgroupId === cg.id && e.path === '/etc/passwd' && e.decision === 'denied')).toBe(true);
    b.detach();

    // the same build again adopts (no load, same ids)
    const c = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    c.attach();
    expect(new Set(c.programIds())).toEqual(newIds);
    expect(c.versionInfo()).toMatchObject({ version: info.version, swapped: 0 });
    expect(c.versionInfo().upgradedFrom).toBeUndefined();
    c.detach();

    // uninstall: every pin gone, every program detached, a second call is a no-op
    uninstall(pin);
    expect(existsSync(pin)).toBe(false);
    expect(await waitProgsGone(newIds)).toEqual([]);
    uninstall(pin);
    cg.remove();
  });

  it('a map layout change keeps the old set attached under prev until releasePrevious()', async () => {
    const a = new BpfEnforcer({ mode: 'audit', pinPath: pin, versionTag: 'old-layout' });
    a.attach();
    const oldIds = new Set(a.programIds());
    a.detach();
    // stand in for an older layout: one pinned map with another value size
    execFileSync('bpftool', ['map', 'create', join(pin, 'vt_policies_tmp'), 'type', 'hash', 'key', '4', 'value', '8', 'entries', '4', 'name', 'vt_policies']);
    execFileSync('rm', [join(pin, 'vt_policies')]);
    execFileSync('bpftool', ['map', 'pin', 'pinned', join(pin, 'vt_policies_tmp'), join(pin, 'vt_policies')]);
    execFileSync('rm', [join(pin, 'vt_policies_tmp')]);
    const b = new BpfEnforcer({ mode: 'audit', pinPath: pin });
    b.attach();
    expect(b.versionInfo()).toMatchObject({ previous: true, swapped: 0 });
    // both sets attached: the old one (with its own maps) under prev, the new one fresh
    await new Promise((r) => setTimeout(r, 300));
    const loaded = bpfProgIds();
    expect([...oldIds].every((id) => loaded.has(id))).toBe(true);
    expect(readdirSync(join(pin, 'prev')).filter((f) => f.startsWith('link_')).length).toBe(oldIds.size);
    b.releasePrevious();
    expect(b.versionInfo().previous).toBe(false);
    expect(existsSync(join(pin, 'prev'))).toBe(false);
    expect(await waitProgsGone(oldIds)).toEqual([]);
    const newIds = new Set(b.programIds());
    b.detach({ unpin: true });
    expect(existsSync(pin)).toBe(false);
    expect(await waitProgsGone(newIds)).toEqual([]);
  });
});
