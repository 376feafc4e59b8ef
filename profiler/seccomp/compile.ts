// Seccomp compiler: one policy -> one OCI/Docker seccomp profile (the JSON containerd and runc
// read; the same fields as the runtime-spec's LinuxSeccomp). Pure and deterministic: entries
// and names are sorted, so the same policy always gives the same bytes.
//
// Modes:
// - AlwaysAllow: default ALLOW.
// - RuntimeDefault: containerd's default profile (./runtime-default.ts).
// - EnhanceProtect: the RuntimeDefault allow-list (or default ALLOW with `privileged: true`),
//   plus built-in rules and syscallRawRules merged as vArmor merges them (varmor-internals 3.9).
//   Violations follow the audit/allow table of the API: blocked (ERRNO, EPERM unless the rule
//   says otherwise) unless allowViolations (a Seccomp denial is not recorded: SECCOMP_FILTER_FLAG_LOG
//   would, but runc 1.1 refuses filter flags, so containers would not start). With allowViolations
//   the rules log (auditViolations) or do nothing, and the baseline's default action becomes LOG
//   or ALLOW the same way, as the AppArmor baseline's denies do.
// - BehaviorModeling: default LOG, with the noisiest file syscalls allowed silently.
// - DefenseInDepth: the model's syscalls (or a custom profile) allowed, everything else ERRNO
//   (LOG with allowViolations), raw rules on top.

import type { EnhanceProtect, SyscallArg, SyscallRawRule } from '../api/types.js';
import type { CompileInput, SeccompProfile, SeccompSyscall } from '../compiled.js';
import { findBuiltinRule } from '../rules/catalogue.js';
import { ProfileCompileError } from '../rules/errors.js';
import { isUnsupported } from '../rules/types.js';
import { allowExcept, ruleDnf, type Dnf } from './conditions.js';
import { ARCHITECTURES, RUNTIME_DEFAULT_ALLOWED, runtimeDefaultConditional, runtimeDefaultProfile } from './runtime-default.js';

const EPERM = 1;
const ALLOW = 'SCMP_ACT_ALLOW';
const ERRNO = 'SCMP_ACT_ERRNO';
const LOG = 'SCMP_ACT_LOG';

/** Allowed without a log line while modelling (vArmor's noise cut), and always in a model profile. */
export const QUIET_SYSCALLS: readonly string[] = ['close', 'open', 'openat', 'openat2', 'read', 'write'];

/**
 * What runc still calls between loading the filter and the workload's first instruction
 * (its Go runtime, then execve); a model recorded after start never sees them.
 */
export const CONTAINER_START_SYSCALLS: readonly string[] = [
  'arch_prctl', 'brk', 'capget', 'capset', 'close_range', 'epoll_ctl', 'epoll_pwait', 'execve', 'exit', 'exit_group',
  'faccessat', 'faccessat2', 'fcntl', 'fstat', 'fstatfs', 'futex', 'getdents64', 'getpid', 'getppid', 'gettid',
  'madvise', 'mmap', 'mprotect', 'munmap', 'nanosleep', 'newfstatat', 'prctl', 'readlinkat', 'rt_sigaction',
  'rt_sigprocmask', 'rt_sigreturn', 'sched_yield', 'setgid', 'setgroups', 'setuid', 'sigaltstack', 'statx', 'tgkill',
];

interface Entry {
  action: string;
  errnoRet?: number;
  args?: SyscallArg[];
}

/** Per-syscall entries, the shape vArmor merges in (a name-keyed map). */
type RuleMap = Map<string, Entry[]>;

function normalizeErrno(action: string, errnoRet: number | undefined): number | undefined {
  if (action !== ERRNO && action !== 'SCMP_ACT_TRACE') return errnoRet;
  return errnoRet ?? EPERM;
}

function sameArgs(a?: SyscallArg[], b?: SyscallArg[]): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

function addBuiltin(map: RuleMap, name: string, e: Entry): void {
  const list = map.get(name) ?? [];
  if (!list.some((x) => x.action === e.action && x.errnoRet === e.errnoRet && sameArgs(x.args, e.args))) list.push(e);
  map.set(name, list);
}

/**
 * vArmor's merge of a raw rule into the built-ins: with the same action and errno, a raw rule
 * without args widens the entry to the whole syscall; one with args adds nothing when the
 * syscall is already matched unconditionally. Otherwise the raw rule is its own entry.
 */
function addRaw(map: RuleMap, raw: SyscallRawRule): void {
  const errnoRet = normalizeErrno(raw.action, raw.errnoRet);
  const args = raw.args && raw.args.length ? raw.args : undefined;
  for (const name of raw.names) {
    const list = map.get(name) ?? [];
    const same = list.filter((x) => x.action === raw.action && x.errnoRet === errnoRet);
    if (same.length) {
      if (!args) {
        map.set(name, [...list.filter((x) => !same.includes(x)), { action: raw.action, errnoRet }]);
      } else if (!same.some((x) => !x.args) && !same.some((x) => sameArgs(x.args, args))) {
        list.push({ action: raw.action, errnoRet, args });
        map.set(name, list);
      }
    } else {
      list.push({ action: raw.action, errnoRet, args });
      map.set(name, list);
    }
  }
}

/** Entries with equal action, errno and args share one syscalls[] item; sorted for stable output. */
function toSyscalls(map: RuleMap): SeccompSyscall[] {
  const groups = new Map<string, SeccompSyscall>();
  for (const name of [...map.keys()].sort()) {
    for (const e of map.get(name) ?? []) {
      const key = JSON.stringify([e.action, e.errnoRet ?? null, e.args ?? []]);
      const g = groups.get(key);
      if (g) g.names.push(name);
      else groups.set(key, clean({ names: [name], action: e.action, errnoRet: e.errnoRet, args: e.args }));
    }
  }
  // Allows first, then by action, errno, first name and conditions: stable and readable.
  const rank = (s: SeccompSyscall): string =>
    JSON.stringify([s.action === ALLOW ? 0 : 1, s.action, s.errnoRet ?? -1, s.args ? 1 : 0, s.names[0], s.args ?? []]);
  return [...groups.values()].map((v) => [rank(v), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

function clean(s: SeccompSyscall): SeccompSyscall {
  const out: SeccompSyscall = { names: s.names, action: s.action };
  if (s.errnoRet !== undefined) out.errnoRet = s.errnoRet;
  if (s.args && s.args.length) out.args = s.args.map((a) => ({ ...a }));
  return out;
}

/**
 * Puts rules on top of allow entries without contradicting them. libseccomp lets an allow win
 * over a conditional deny of the same syscall, so each allowed syscall a rule matches is
 * re-allowed only for the arguments no rule matches (./conditions.ts); a syscall a rule matches
 * unconditionally leaves the allow-list. Rules for syscalls nothing allows stand alone.
 */
function onBase(allows: RuleMap, rules: RuleMap): SeccompSyscall[] {
  const map: RuleMap = new Map();
  for (const [n, es] of rules) for (const e of es) addBuiltin(map, n, e);
  for (const [n, es] of allows) {
    let allow: Dnf = es.filter((e) => e.action === ALLOW).flatMap((e) => ruleDnf(e.args));
    const deny: Dnf = (rules.get(n) ?? []).filter((e) => e.action !== ALLOW).flatMap((e) => ruleDnf(e.args));
    if (deny.length) allow = allowExcept(allow, deny).allow;
    // An allow beside an equal allow rule adds nothing; addBuiltin drops the duplicate.
    for (const conj of allow) addBuiltin(map, n, { action: ALLOW, args: conj.length ? conj : undefined });
  }
  return toSyscalls(map);
}

function allowMap(names: Iterable<string>, conditional: SeccompSyscall[] = []): RuleMap {
  const m: RuleMap = new Map();
  for (const n of names) addBuiltin(m, n, { action: ALLOW });
  for (const s of conditional) for (const n of s.names) addBuiltin(m, n, { action: s.action, errnoRet: s.errnoRet, args: s.args });
  return m;
}

/** The base's non-allow entries (clone3 ENOSYS) are rules like any other. */
function splitBase(base: RuleMap): { allows: RuleMap; rules: RuleMap } {
  const allows: RuleMap = new Map();
  const rules: RuleMap = new Map();
  for (const [n, es] of base) {
    for (const e of es) addBuiltin(e.action === ALLOW ? allows : rules, n, e);
  }
  return { allows, rules };
}

function runtimeDefaultBase(): RuleMap {
  return allowMap(RUNTIME_DEFAULT_ALLOWED, runtimeDefaultConditional());
}

/** Base entries plus rules: the rules override the base for the syscalls they name. */
function layered(base: RuleMap, rules: RuleMap): SeccompSyscall[] {
  const { allows, rules: baseRules } = splitBase(base);
  const merged: RuleMap = new Map();
  for (const [n, es] of baseRules) if (!rules.has(n)) merged.set(n, [...es]);
  for (const [n, es] of rules) {
    for (const e of es) {
      if (e.action === ALLOW) addBuiltin(allows, n, e);
      else addBuiltin(merged, n, e);
    }
  }
  return onBase(allows, merged);
}

function builtinNames(ep: EnhanceProtect): string[] {
  return [
    ...(ep.hardeningRules ?? []),
    // Seccomp has no per-executable profiles: a rule limited to targets applies to the whole container.
    ...(ep.attackProtectionRules ?? []).flatMap((r) => r.rules),
    ...(ep.vulMitigationRules ?? []),
  ];
}

function enhanceProtect(ep: EnhanceProtect): SeccompProfile {
  const allow = ep.allowViolations === true;
  const audit = ep.auditViolations === true;
  const rules: RuleMap = new Map();
  // allowViolations without auditViolations: the rules are no-ops (not blocked, not logged).
  if (!allow || audit) {
    for (const ruleName of builtinNames(ep)) {
      const impl = findBuiltinRule(ruleName)?.seccomp;
      if (!impl || isUnsupported(impl)) continue; // validation reported it, or another enforcer covers it
      for (const s of impl.syscalls) {
        const action = allow ? LOG : ERRNO;
        const errnoRet = allow ? undefined : (s.errnoRet ?? EPERM);
        for (const name of s.names) addBuiltin(rules, name, { action, errnoRet, args: s.args?.length ? s.args : undefined });
      }
    }
  }
  for (const raw of ep.syscallRawRules ?? []) addRaw(rules, raw);

  if (ep.privileged) {
    return { defaultAction: ALLOW, architectures: [...ARCHITECTURES], syscalls: layered(new Map(), rules) };
  }
  const base: SeccompProfile = {
    defaultAction: allow ? (audit ? LOG : ALLOW) : ERRNO,
    architectures: [...ARCHITECTURES],
    syscalls: layered(runtimeDefaultBase(), rules),
  };
  if (!allow) base.defaultErrnoRet = EPERM;
  return base;
}

function parseCustom(text: string | undefined): SeccompProfile {
  const path = 'spec.policy.defenseInDepth.seccomp.customProfile';
  if (!text) throw new ProfileCompileError('VARMOR_ERR_COMPILE_CUSTOM_PROFILE_MISSING', path, 'profileType Custom needs a customProfile');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ProfileCompileError('VARMOR_ERR_COMPILE_CUSTOM_PROFILE_INVALID', path, `not JSON: ${(e as Error).message}`);
  }
  const o = v as Partial<SeccompProfile>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.syscalls ?? [])) {
    throw new ProfileCompileError('VARMOR_ERR_COMPILE_CUSTOM_PROFILE_INVALID', path, 'expected an object with a syscalls array');
  }
  return { defaultAction: o.defaultAction ?? ERRNO, architectures: o.architectures, syscalls: (o.syscalls ?? []).map(clean) };
}

function defenseInDepth(input: CompileInput): SeccompProfile {
  const did = input.policy.defenseInDepth ?? {};
  const sc = did.seccomp;
  const allow = did.allowViolations === true;
  let base: RuleMap = new Map();
  let architectures = [...ARCHITECTURES];
  if (sc?.profileType === 'Custom') {
    const custom = parseCustom(sc.customProfile);
    if (custom.architectures?.length) architectures = [...custom.architectures];
    for (const s of custom.syscalls) {
      for (const n of s.names) addBuiltin(base, n, { action: s.action, errnoRet: normalizeErrno(s.action, s.errnoRet), args: s.args?.length ? s.args : undefined });
    }
  } else {
    const observed = input.model?.data.dynamicResult?.seccomp?.syscalls;
    if (!observed) {
      throw new ProfileCompileError(
        'VARMOR_ERR_COMPILE_MODEL_REQUIRED',
        'spec.policy.defenseInDepth.seccomp.profileType',
        'BehaviorModel needs the recorded ArmorProfileModel (no seccomp syscalls recorded yet)',
      );
    }
    base = allowMap(new Set([...observed, ...QUIET_SYSCALLS, ...CONTAINER_START_SYSCALLS]));
  }
  const rules: RuleMap = new Map();
  for (const raw of sc?.syscallRawRules ?? []) addRaw(rules, raw);
  const out: SeccompProfile = { defaultAction: allow ? LOG : ERRNO, architectures, syscalls: layered(base, rules) };
  if (!allow) out.defaultErrnoRet = EPERM;
  return out;
}

export function compileSeccomp(input: CompileInput): SeccompProfile {
  switch (input.mode) {
    case 'AlwaysAllow':
      return { defaultAction: ALLOW, architectures: [...ARCHITECTURES], syscalls: [] };
    case 'RuntimeDefault':
      return { ...runtimeDefaultProfile(), syscalls: layered(runtimeDefaultBase(), new Map()) };
    case 'EnhanceProtect':
      return enhanceProtect(input.policy.enhanceProtect ?? {});
    case 'BehaviorModeling':
      return {
        defaultAction: LOG,
        architectures: [...ARCHITECTURES],
        syscalls: [{ names: [...QUIET_SYSCALLS], action: ALLOW }],
      };
    case 'DefenseInDepth':
      return defenseInDepth(input);
  }
}
