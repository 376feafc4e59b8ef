import { describe, expect, it } from '@jest/globals';
import { nameSyscalls, SyscallRecording, syscallTable } from './syscalls.js';
import { FakeBpfBackend } from '../../testing/agent/fake-bpf.js';
import { perNodeModel } from './upload.js';
import type { NodeProfile } from '../profiles/decode.js';

describe('syscall names', () => {
  it('names numbers with the table of the architecture Node runs on (libseccomp numbering)', () => {
    const x64 = syscallTable('x64')!;
    const arm = syscallTable('arm64')!;
    expect([x64[0], x64[59], x64[83], x64[257]]).toEqual(['read', 'execve', 'mkdir', 'openat']);
    expect([arm[63], arm[221], arm[34], arm[56]]).toEqual(['read', 'execve', 'mkdirat', 'openat']);
    expect(syscallTable('ia32')).toBeUndefined();
    expect(nameSyscalls([83, 0, 0, 511], x64)).toEqual({ names: ['mkdir', 'read'], unknown: [511] });
  });
});

describe('SyscallRecording', () => {
  it('is on while any run records, drops a stale record at start, reads and clears at the end', () => {
    const b = new FakeBpfBackend();
    const r = new SyscallRecording(() => b, syscallTable('x64'));
    b.syscallsMade.set(1, [59]);
    r.start(1);
    r.start(2);
    expect(b.recordingSyscalls).toBe(true);
    expect(b.syscallsMade.has(1)).toBe(false);
    b.syscallsMade.set(1, [0, 83]);
    expect(r.finish(1)).toEqual({ names: ['mkdir', 'read'], unknown: [] });
    expect(b.recordingSyscalls).toBe(true); // run 2 still records
    expect(r.finish(2)).toEqual({ names: [], unknown: [] });
    expect(b.recordingSyscalls).toBe(false);
    expect(r.finish(3)).toBeUndefined(); // no run of that policy
  });

  it('without a BPF backend nothing is recorded and the run says so (no empty record uploaded)', () => {
    const r = new SyscallRecording(() => null, syscallTable('x64'));
    expect(r.available).toBe(false);
    r.start(1);
    expect(r.finish(1)).toBeUndefined();
  });
});

describe('perNodeModel', () => {
  it('carries the Seccomp record beside the BPF one, only when there is one', () => {
    const p = { profileName: 'varmor-shop-web', namespace: 'shop' } as NodeProfile;
    expect(perNodeModel(p, 'node-a', {}, ['read']).data?.dynamicResult).toEqual({ bpf: {}, seccomp: { syscalls: ['read'] } });
    expect(perNodeModel(p, 'node-a', {}).data?.dynamicResult).toEqual({ bpf: {} });
  });
});
