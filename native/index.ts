// TypeScript face of the varmor_bpf addon (build/Release/varmor_bpf.node): the BPF enforcer
// that keys rules by cgroup id. Errors from the addon carry the errno name as `code`; this
// wrapper rethrows them as BpfError so callers can test `e instanceof BpfError && e.code === 'EPERM'`.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BpfMode = 'enforce' | 'audit'; // enforce: BPF LSM programs; audit: tp_btf programs (record only)

export interface BpfEvent {
  timeNs: bigint; // CLOCK_MONOTONIC
  cgroupId: bigint; // the bound cgroup (may be an ancestor of the task's own)
  pid: number;
  policyId: number;
  hook: string; // file_open, exec, path_unlink, path_rename, path_link, path_chmod, capable, socket_create,
  //               socket_connect, setsockopt, ptrace, mount, umount, move_mount, bpf, userns_create, path_symlink, path_truncate
  decision: 'denied' | 'audit' | 'allowed'; // denied in audit mode = "would deny"
  path?: string; // files, exec, mount source
  fstype?: string; // mount hooks
  address?: string; // socket_connect
  port?: number;
  family?: number; // AF_* of socket events
  protocol?: number; // socket_create
  targetPid?: number; // ptrace
  detail?: number; // permission mask, capability, socket type, mount flags, bpf cmd
  /** A file or mount event denied because its rules could not be checked (fails closed): a path
   *  longer than the path buffer where a suffix rule might match, deeper than the walk goes, or
   *  every scratch buffer of the CPU held by hooks preempted there. */
  reason?: 'path-too-long' | 'path-too-deep' | 'scratch-busy';
}

export interface ProbeResult {
  lsm: boolean;
  lsmReason?: string; // errno name (EPERM on this project's host) or why BPF LSM is off
  tracing: boolean;
  tracingReason?: string;
  /** The kernel has the bpf_rdonly_cast kfunc (6.2+): the path pre-filter reads above a file's
   *  mount by direct loads; without it (6.1), by probe reads. */
  directMountWalk: boolean;
  /** The kernel has every function the path-fact cache's fentry/fexit programs attach to
   *  (__d_move, __d_free, __d_free_external, namespace_unlock): enforce mode keeps each task's
   *  last directory's path facts; without them every open walks its path. */
  pathCache: boolean;
}

export interface BindOptions {
  /** Not enforced until the next execve in the cgroup: bind from an OCI createRuntime hook and
   *  runc's own setup (mounts, pivot_root, capabilities) still completes; the entrypoint is confined. */
  armOnExec?: boolean;
  /** The pod's own addresses (IPv4/IPv6, at most 4), for `pod-self` egress rules; set before the
   *  binding, so its first connect is judged with them. */
  selfAddresses?: string[];
}

export class BpfError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BpfError';
  }
}

/** One attached program's cost counters (bpf_prog_info run_cnt and run_time_ns). */
export interface ProgramStats {
  name: string;
  id: number;
  runCount: bigint;
  runTimeNs: bigint;
  /** runs the kernel skipped because the program was already running on that CPU */
  recursionMisses: bigint;
  /** bytes of native code; 0 when the kernel interprets the program (JIT off or refused) */
  jitedBytes: number;
  /** BPF instructions after the verifier's rewrites */
  instructions: number;
  /** instructions the verifier processed to accept the program (its budget is 1,000,000) */
  verifiedInstructions: number;
}

/** The version tag of the attached set, and what attach() did to a set another build pinned. */
export interface VersionInfo {
  /** This set's tag: a hash of the embedded BPF object (or the constructor's `versionTag`). */
  version: string;
  /** The tag found pinned when it was another ('untagged': links of a build before tags); absent when adopted or fresh. */
  upgradedFrom?: string;
  /** Pinned links moved onto this build's programs (each without an instant with no program on the hook). */
  swapped: number;
  /** Of those, swapped in place by bpf_link_update (link types that support it). */
  linkUpdate: number;
  /** Of those, by attach-new, pin over the old path, close-old (LSM and tracing links: no link_update in the kernel). */
  overlap: number;
  /** Why bpf_link_update was refused (errno name), when it was. */
  linkUpdateError?: string;
  /** Pinned links of programs this build no longer has, removed. */
  retired: number;
  /** The pinned maps had another layout: the old set still runs from <pinPath>/prev until releasePrevious(). */
  previous: boolean;
}

export interface EnforcerOptions {
  mode: BpfMode;
  pinPath?: string;
  /** Tag pinned with the objects; defaults to the hash of the embedded BPF object. Tests set
   *  another to act as an older (or newer) build. */
  versionTag?: string;
}

interface NativeEnforcer {
  attach(): void;
  detach(opts?: { unpin?: boolean }): void;
  loadPolicy(policyId: number, tables: Uint8Array): void;
  removePolicy(policyId: number): void;
  recordSyscalls(on: boolean): void;
  cgroupOfPid(pid: number): bigint | undefined;
  syscalls(policyId: number, clear?: boolean): number[];
  policies(): Map<number, number>;
  bindCgroup(cgroupId: bigint, policyId: number, opts?: BindOptions): void;
  unbindCgroup(cgroupId: bigint): void;
  setSelfAddresses(cgroupId: bigint, addresses: string[]): void;
  bindings(): Map<bigint, number>;
  readEvents(max?: number): BpfEvent[];
  programIds(): number[];
  programStats(): ProgramStats[];
  versionInfo(): VersionInfo;
  releasePrevious(): void;
}

interface Addon {
  probe(): ProbeResult;
  kernelLog(): Buffer;
  uninstall(pinPath: string): void;
  NativeEnforcer: new (opts: EnforcerOptions) => NativeEnforcer;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Where the built addon lives (native/build/Release, also when running from dist/native). */
export function addonPath(): string {
  const candidates = [join(here, 'build/Release/varmor_bpf.node'), join(here, '../../native/build/Release/varmor_bpf.node')];
  return candidates.find((p) => existsSync(p)) ?? candidates[0];
}

let addon: Addon | undefined;
function load(): Addon {
  if (!addon) {
    const p = addonPath();
    if (!existsSync(p)) throw new BpfError('ENOENT', `BPF addon not built: ${p} is missing (run npm run build:native)`);
    addon = createRequire(import.meta.url)(p) as Addon;
  }
  return addon;
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BpfError) throw e;
    const err = e as { code?: unknown; message?: string };
    throw new BpfError(typeof err.code === 'string' ? err.code : 'EIO', err.message ?? String(e));
  }
}

/** What this kernel allows: BPF LSM (enforce) and tp_btf tracing (audit). Never throws for EPERM. */
export function probe(): ProbeResult {
  return wrap(() => load().probe());
}

/** Uninstall: remove every pin under pinPath (its programs detach; maps, version tag, a kept
 *  previous set) and the folder. Nothing attached by an agent's own fds is touched: stop the
 *  agents first. No-op when pinPath does not exist. */
/** The kernel's log ring as syslog(2) READ_ALL gives it ("<pri>[seconds] text" lines); needs CAP_SYSLOG. */
export function kernelLog(): Buffer {
  return wrap(() => load().kernelLog());
}

export function uninstall(pinPath: string): void {
  wrap(() => load().uninstall(pinPath));
}

export class BpfEnforcer {
  private readonly native: NativeEnforcer;
  readonly mode: BpfMode;
  readonly pinPath?: string;

  constructor(opts: EnforcerOptions) {
    this.mode = opts.mode;
    this.pinPath = opts.pinPath;
    this.native = wrap(() => new (load().NativeEnforcer)(opts));
  }

  /** Load and attach the programs, or under pinPath: adopt the pinned ones when they carry this
   *  build's version tag; otherwise load this build's programs and swap each pinned link to them
   *  (versionInfo() says how). Throws BpfError (EPERM, EALREADY, ...). */
  attach(): void {
    wrap(() => this.native.attach());
  }

  /** Atomically replace all of a policy's tables (new generation in, flip, old generation out). */
  loadPolicy(policyId: number, tables: Uint8Array): void {
    wrap(() => this.native.loadPolicy(policyId, tables));
  }

  /** Throws BpfError ENOENT for an unknown policy. */
  removePolicy(policyId: number): void {
    wrap(() => this.native.removePolicy(policyId));
  }

  /**
   * BehaviorModeling's syscall record on or off: a sys_enter program that sets one bit per
   * syscall number for each policy in record mode. It runs on every syscall of every task on the
   * node, so it is attached only while a run records. Idempotent.
   */
  recordSyscalls(on: boolean): void {
    wrap(() => this.native.recordSyscalls(on));
  }

  /** The cgroup id a process (by its tgid, as the kernel log prints it) had at its last fork or exec; undefined when not tracked. */
  cgroupOfPid(pid: number): bigint | undefined {
    return wrap(() => this.native.cgroupOfPid(pid));
  }

  /** The syscall numbers (of this kernel's architecture) a record-mode policy's tasks made, ascending; `clear` forgets them. */
  syscalls(policyId: number, clear = false): number[] {
    return wrap(() => this.native.syscalls(policyId, clear));
  }

  /** Loaded policies: id -> current generation. */
  policies(): Map<number, number> {
    return wrap(() => this.native.policies());
  }

  /** Bind a cgroup (v2 inode number) to a loaded policy; ENOENT when the policy is not loaded. */
  bindCgroup(cgroupId: bigint, policyId: number, opts?: BindOptions): void {
    if (opts?.selfAddresses) {
      const addresses = opts.selfAddresses;
      wrap(() => this.native.setSelfAddresses(cgroupId, addresses));
    }
    wrap(() => this.native.bindCgroup(cgroupId, policyId, opts));
  }

  /** Throws BpfError ENOENT when the cgroup is not bound. */
  unbindCgroup(cgroupId: bigint): void {
    wrap(() => this.native.unbindCgroup(cgroupId));
  }

  bindings(): Map<bigint, number> {
    return wrap(() => this.native.bindings());
  }

  /** Drain up to `max` (default 4096) events from the ring buffer; never blocks. */
  readEvents(max?: number): BpfEvent[] {
    return wrap(() => this.native.readEvents(max));
  }

  /** Kernel ids of the attached (or adopted) programs, as `bpftool prog list` shows them. */
  programIds(): number[] {
    return wrap(() => this.native.programIds());
  }

  /** Calls of each attached program and the time spent in it. The kernel counts only while
   *  `kernel.bpf_stats_enabled` is 1. */
  programStats(): ProgramStats[] {
    return wrap(() => this.native.programStats());
  }

  /** The version tag and what attach() did to pins of another build. */
  versionInfo(): VersionInfo {
    return wrap(() => this.native.versionInfo());
  }

  /** After an upgrade across a map layout change (versionInfo().previous): detach the old set
   *  kept under <pinPath>/prev, once policies and bindings are re-applied to this one. */
  releasePrevious(): void {
    wrap(() => this.native.releasePrevious());
  }

  /** Close everything. Unpinned: nothing stays attached. Pinned: the pins keep enforcing
   *  (for the next agent to adopt) unless `unpin` is set. */
  detach(opts?: { unpin?: boolean }): void {
    wrap(() => this.native.detach(opts));
  }
}
