// BPF loader: opens the native addon (native/index.ts) in the strongest mode the kernel allows,
// adopting the objects pinned under pinPath by a previous agent process, so a restart keeps every
// program attached and every binding in force. Policy tables are swapped atomically by the addon.
// An agent of another build (an upgrade) swaps the pinned links to its own programs instead of
// adopting them (native/README.md "Upgrade and uninstall").
//
// Modes: 'enforce' (BPF LSM programs: deny) where the kernel lets us load them; otherwise 'audit'
// (tp_btf programs that record only: violations and behaviour are still logged, nothing is
// denied, and the node reports BPF as unavailable for enforcement); 'off' when neither loads or
// the addon is not built.

import { EnforcerUnavailableError } from '../errors.js';

import * as nativeModule from '../../native/index.js';
import type { BindOptions, BpfEvent, BpfMode } from '../../native/index.js';

export type { BpfEvent, BpfMode };

/** The part of native/index.ts BpfEnforcer the agent uses (CONTRACTS.md). */
export interface BpfBackend {
  attach(): void;
  loadPolicy(policyId: number, tables: Uint8Array): void;
  removePolicy(policyId: number): void;
  policies?(): Map<number, number>;
  bindCgroup(cgroupId: bigint, policyId: number, opts?: BindOptions): void;
  unbindCgroup(cgroupId: bigint): void;
  bindings(): Map<bigint, number>;
  readEvents(max?: number): BpfEvent[];
  detach(opts?: { unpin?: boolean }): void;
  /** After attach: this build's version tag and whether an older set still runs beside it. */
  versionInfo?(): { version: string; upgradedFrom?: string; previous: boolean };
  releasePrevious?(): void;
  /** The cgroup a process had at its last fork or exec (the addon's tracker), when known. */
  cgroupOfPid?(pid: number): bigint | undefined;
  /** BehaviorModeling's syscall recorder on or off (a sys_enter program: on only while a run records). */
  recordSyscalls?(on: boolean): void;
  /** The syscall numbers a record-mode policy's tasks made; `clear` forgets them. */
  syscalls?(policyId: number, clear?: boolean): number[];
}

export interface NativeModule {
  probe(): { lsm: boolean; lsmReason?: string; tracing: boolean; tracingReason?: string };
  BpfEnforcer: new (opts: { mode: BpfMode; pinPath?: string }) => BpfBackend;
}

export type BpfModeOption = 'auto' | 'enforce' | 'audit' | 'off';

export interface BpfHandle {
  backend: BpfBackend | null;
  mode: BpfMode | 'off';
  /** Why BPF cannot enforce here (for the status entry), when mode is not 'enforce'. */
  unavailable?: string;
  /** Set when pinning failed and the objects live only as long as this process (logged at start). */
  unpinned?: string;
}

export async function openBpf(option: BpfModeOption, pinPath: string | undefined, native?: NativeModule): Promise<BpfHandle> {
  if (option === 'off') return { backend: null, mode: 'off', unavailable: 'BPF disabled by --bpf-mode off' };
  const mod: NativeModule = native ?? nativeModule;
  let probe: ReturnType<NativeModule['probe']>;
  try {
    // Throws ENOENT when the addon is not built: the agent then runs with BPF off, and says so.
    probe = mod.probe();
  } catch (e) {
    return { backend: null, mode: 'off', unavailable: `native addon not available: ${(e as Error).message}` };
  }
  let unpinned: string | undefined;
  const tryMode = (mode: BpfMode): BpfBackend => {
    try {
      const b = new mod.BpfEnforcer({ mode, pinPath });
      b.attach();
      return b;
    } catch (e) {
      // No bpffs at pinPath (not mounted, read-only): enforce anyway, unpinned, and say so.
      if (!pinPath || !/pin/i.test((e as Error).message)) throw e;
      unpinned = `pinning under ${pinPath} failed (${(e as Error).message}); BPF objects live only as long as this process`;
      const b = new mod.BpfEnforcer({ mode });
      b.attach();
      return b;
    }
  };
  const lsmReason = probe.lsmReason ?? 'kernel refuses BPF LSM programs';
  if (option === 'enforce' || (option === 'auto' && probe.lsm)) {
    try {
      const backend = tryMode('enforce');
      return { backend, mode: 'enforce', unpinned };
    } catch (e) {
      if (option === 'enforce') throw new EnforcerUnavailableError('BPF', `BPF LSM attach failed: ${(e as Error).message}`);
    }
  }
  if (!probe.tracing) return { backend: null, mode: 'off', unavailable: `no BPF LSM (${lsmReason}) and no BPF tracing (${probe.tracingReason ?? 'unknown'})` };
  try {
    const backend = tryMode('audit');
    return { backend, mode: 'audit', unavailable: `no BPF LSM (${lsmReason}); audit programs record only`, unpinned };
  } catch (e) {
    return { backend: null, mode: 'off', unavailable: `no BPF LSM (${lsmReason}); audit attach failed: ${(e as Error).message}` };
  }
}
