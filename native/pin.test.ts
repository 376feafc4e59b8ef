// Pinning in bpffs: an agent that pins its programs and maps keeps enforcing after it exits, and
// the next agent adopts the pins instead of loading a second copy. Runs the audit programs (the
// host refuses LSM) in a private bpffs mounted for the test.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTables, emptyTables } from '../profiler/bpf/encode.js';
import { BpfEnforcer } from './index.js';
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
});
