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

/** What each per-enforcer compiler receives: the policy already validated and its names derived. */
export interface CompileInput {
  profileName: string;
  bpfPolicyId: number;
  mode: Mode;
  enforcers: Enforcer[];
  policy: import('./api/types.js').Policy;
  model?: ArmorProfileModel;
}
// Per-enforcer entry points (one module each):
//   profiler/apparmor/compile.ts  export function compileAppArmor(input: CompileInput): { profile: string; complain: boolean }
//   profiler/seccomp/compile.ts   export function compileSeccomp(input: CompileInput): SeccompProfile
//   profiler/bpf/compile.ts       export function compileBpf(input: CompileInput): { tables: Uint8Array }
// Catalogue: profiler/rules/catalogue.ts  export const BUILTIN_RULES: BuiltinRule[]; export function findBuiltinRule(name: string): BuiltinRule | undefined
