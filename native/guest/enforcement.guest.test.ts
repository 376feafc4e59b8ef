// BPF LSM enforcement in a real kernel: one qemu guest boot runs every scenario of the
// `enforcement` suite (native/guest/scenarios/), and each `it` below asserts one case's
// observations. Without qemu or the guest kernel the suite fails and says what is missing.

import { beforeAll, describe, expect, it } from '@jest/globals';
import { runGuest, type GuestRun } from './harness.js';

let run: GuestRun;

beforeAll(async () => {
  run = await runGuest('enforcement');
}, 600_000);

describe('guest harness', () => {
  it('boots Debian 6.1 with the BPF LSM active, under TCG', () => {
    const r = run.result<{ kernel: string; lsm: string[]; node: string }>('smoke: kernel and lsm');
    expect(r.kernel).toMatch(/^6\.1\./);
    expect(r.lsm).toContain('bpf');
    expect(r.node).toBe(process.version);
  });

  it('runs vprobe inside a cgroup whose id is its inode number', () => {
    const r = run.result<{ cgroupId: string; openPasswd: string; openMissing: string }>('smoke: vprobe in a cgroup');
    expect(BigInt(r.cgroupId)).toBeGreaterThan(1n);
    expect(r.openPasswd).toBe('OK');
    expect(r.openMissing).toBe('ENOENT');
  });
});
