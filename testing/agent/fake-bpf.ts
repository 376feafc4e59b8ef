// Test support: an in-memory BPF backend (the part of the native addon the agent uses), so the
// agent's core can be unit-tested without a kernel: tables, cgroup bindings and their options,
// and a queue of ring-buffer events the test pushes. `failNextLoad` makes the next table load
// throw, as the addon does when the kernel refuses. The real addon is exercised by
// agent/node.containerd.test.ts and the guest suite.

import type { BpfBackend, BpfEvent, BpfHandle } from '../../agent/loaders/bpf.js';

export class FakeBpfBackend implements BpfBackend {
  readonly tables = new Map<number, Uint8Array>();
  readonly bound = new Map<bigint, number>();
  /** Bind calls with their options (armOnExec from the hook). */
  readonly binds: { cgroupId: bigint; policyId: number; armOnExec: boolean }[] = [];
  readonly events: BpfEvent[] = [];
  loads = 0;
  failNextLoad: string | undefined;
  /** The syscall recorder's state, and the numbers each policy "made" (set by tests). */
  recordingSyscalls = false;
  readonly syscallsMade = new Map<number, number[]>();

  recordSyscalls(on: boolean): void {
    this.recordingSyscalls = on;
  }

  syscalls(policyId: number, clear = false): number[] {
    const made = [...(this.syscallsMade.get(policyId) ?? [])].sort((a, b) => a - b);
    if (clear) this.syscallsMade.delete(policyId);
    return made;
  }

  attach(): void {}

  loadPolicy(policyId: number, tables: Uint8Array): void {
    if (this.failNextLoad !== undefined) {
      const message = this.failNextLoad;
      this.failNextLoad = undefined;
      throw new Error(message);
    }
    this.loads++;
    this.tables.set(policyId, tables);
  }

  removePolicy(policyId: number): void {
    this.tables.delete(policyId);
  }

  policies(): Map<number, number> {
    return new Map([...this.tables.keys()].map((id) => [id, 1]));
  }

  bindCgroup(cgroupId: bigint, policyId: number, opts?: { armOnExec?: boolean }): void {
    this.bound.set(cgroupId, policyId);
    this.binds.push({ cgroupId, policyId, armOnExec: !!opts?.armOnExec });
  }

  unbindCgroup(cgroupId: bigint): void {
    this.bound.delete(cgroupId);
  }

  bindings(): Map<bigint, number> {
    return new Map(this.bound);
  }

  readEvents(max = 4096): BpfEvent[] {
    return this.events.splice(0, max);
  }

  detach(): void {}
}

/** A BpfHandle as openBpf returns it, around a fake backend. */
export function fakeBpf(mode: 'enforce' | 'audit' = 'enforce'): { handle: BpfHandle; backend: FakeBpfBackend } {
  const backend = new FakeBpfBackend();
  const handle: BpfHandle = { backend, mode, unavailable: mode === 'audit' ? 'no BPF LSM (test); audit programs record only' : undefined };
  return { handle, backend };
}
