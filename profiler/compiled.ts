// What compiling one policy produces: the contract between profiler/ and its users
// (controller, webhook, agent, CLI). The compilers live in ./apparmor, ./seccomp, ./bpf;
// ./compile.ts puts them together.

import type { ArmorProfileModel, Enforcer, Mode, SyscallArg } from './api/types.js';

/** OCI/Docker seccomp profile JSON, the format containerd and runc read. */
export interface SeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SyscallArg[];
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: SeccompSyscall[];
}

export interface CompiledPolicy {
  profileName: string;
  bpfPolicyId: number;
  enforcers: Enforcer[];
  mode: Mode;
  /** AppArmor profile text; `complain` means load with apparmor_parser -C (BehaviorModeling). */
  appArmor?: { profile: string; complain: boolean };
  seccomp?: SeccompProfile;
  /** Encoded BPF tables (native/varmor_tables.h layout). */
  bpf?: { tables: Uint8Array };
}

export interface CompileOptions {
  /** Namespace the product runs in; names cluster policies' profiles. Default 'varmor'. */
  productNamespace?: string;
  /** The recorded model, for DefenseInDepth with profileType BehaviorModel. */
  model?: ArmorProfileModel;
}
