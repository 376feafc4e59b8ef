// BehaviorModeling's syscall record, the agent's half: the BPF recorder (native vt_rec_sys_enter)
// is attached only while some run records, since it runs on every syscall of every task on the
// node; at the end of a run the numbers its containers made are named for this node's
// architecture (libseccomp's tables, profiler/validate/syscalls.gen.ts) for the Seccomp model.

import { SYSCALL_NAME_BY_NR_AARCH64, SYSCALL_NAME_BY_NR_X86_64 } from '../../profiler/node.js';
import type { BpfBackend } from '../loaders/bpf.js';

/** Syscall number -> name of the architecture Node runs on (x64, arm64), or undefined elsewhere. */
export function syscallTable(arch: string = process.arch): Readonly<Record<number, string>> | undefined {
  if (arch === 'x64') return SYSCALL_NAME_BY_NR_X86_64;
  if (arch === 'arm64') return SYSCALL_NAME_BY_NR_AARCH64;
  return undefined;
}

/** Names of the numbers, sorted; numbers the table does not know are counted, not named. Pure. */
export function nameSyscalls(numbers: readonly number[], table: Readonly<Record<number, string>>): { names: string[]; unknown: number[] } {
  const names = new Set<string>();
  const unknown: number[] = [];
  for (const n of numbers) {
    const name = table[n];
    if (name) names.add(name);
    else unknown.push(n);
  }
  return { names: [...names].sort(), unknown };
}

export class SyscallRecording {
  private readonly running = new Set<number>();

  constructor(
    private readonly backend: () => Pick<BpfBackend, 'recordSyscalls' | 'syscalls'> | null,
    private readonly table = syscallTable(),
  ) {}

  /** Whether this node can record syscalls (a BPF backend with the recorder, a known architecture). */
  get available(): boolean {
    const b = this.backend();
    return !!(b?.recordSyscalls && b.syscalls && this.table);
  }

  /** A run of `policyId` starts: its old record is dropped and the recorder is on. */
  start(policyId: number): void {
    const b = this.backend();
    if (!this.available || !b) return;
    b.syscalls!(policyId, true);
    this.running.add(policyId);
    b.recordSyscalls!(true);
  }

  /** The run ends: the names its tasks made (undefined when nothing could be recorded here); the recorder goes off with the last run. */
  finish(policyId: number): { names: string[]; unknown: number[] } | undefined {
    const b = this.backend();
    if (!this.running.delete(policyId) || !b || !this.table) return undefined;
    const made = b.syscalls!(policyId, true);
    if (this.running.size === 0) b.recordSyscalls!(false);
    return nameSyscalls(made, this.table);
  }
}
