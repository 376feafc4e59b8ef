// In the qemu guest (testing/guest harness; this host's kernel refuses BPF LSM): runc calls the
// agent from its createRuntime hook, the agent binds the container's cgroup to its BPF policy,
// and the container's very first action (reading a file the profile forbids) is denied. Without
// qemu or the guest kernel the suite fails and says what is missing.

import { beforeAll, describe, expect, it } from '@jest/globals';
import { runGuest, type GuestRun } from '../testing/guest/harness.js';

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}
interface HookSnapshot {
  stage: string;
  ok: boolean;
  records: { containerId: string; podName: string; containerName: string; cgroupId?: string; boundPolicy?: number }[];
}

let run: GuestRun;

beforeAll(async () => {
  run = await runGuest('agent');
}, 900_000);

describe('agent OCI hook under BPF LSM enforcement', () => {
  it('denies a container whose very first action is forbidden, and lets the unannotated one through', () => {
    const r = run.result<{ policyId: number; protectedRun: Run; plainRun: Run; hooksForProtected: HookSnapshot[]; hooksForPlain: HookSnapshot[]; bindingsAfter: [string, number][]; bpfMode: string }>(
      'agent hook: a container whose very first action is forbidden is denied',
    );
    expect(r.bpfMode).toBe('enforce');
    // Bound at createRuntime, before the container ran: the agent held the record with the policy.
    const create = r.hooksForProtected.find((h) => h.stage === 'createRuntime');
    expect(create?.ok).toBe(true);
    expect(create?.records).toEqual([expect.objectContaining({ podName: 'web-0', containerName: 'app', boundPolicy: r.policyId, cgroupId: expect.stringMatching(/^\d+$/) })]);
    // Its first instruction onwards is confined: cat is refused the file.
    expect(r.protectedRun.code).not.toBe(0);
    expect(`${r.protectedRun.stdout}${r.protectedRun.stderr}`).toMatch(/Operation not permitted/);
    expect(r.protectedRun.stdout).not.toContain('top-secret');
    // poststop unbound it; nothing is left bound.
    expect(r.hooksForProtected.some((h) => h.stage === 'poststop' && h.ok)).toBe(true);
    expect(r.bindingsAfter).toEqual([]);
    // Same image and entrypoint without the annotation: not bound, reads the file.
    expect(r.plainRun.code).toBe(0);
    expect(r.plainRun.stdout).toContain('top-secret');
  });
});
