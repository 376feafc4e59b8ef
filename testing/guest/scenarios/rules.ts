// Every built-in rule, attacked (testing/guest/rule-attacks.ts), for each enforcer that implements
// it. AppArmor: the real compiler's profile for a privileged EnhanceProtect policy with only that
// rule, loaded with apparmor_parser (all in one run; the agent's loader itself is exercised by
// scenarios/apparmor.ts), entered the way runc enters it (the exec transition) by vprobe;
// "outside" is the same policy without the rule. BPF: the same policy
// through the real BPF compiler and addon, vprobe inside the bound cgroup and outside it. The
// AppArmor side also runs each attack in the two logged modes: auditViolations (denied, logged
// DENIED) and allowViolations + auditViolations (allowed, logged AUDIT).

import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { appArmorProfileFor } from '../guest/apparmor.js';
import { BUILTIN_RULES } from '../../../profiler/rules/catalogue.js';
import type { EnforcerName } from '../../../profiler/rules/coverage.js';
import { isUnsupported, type BuiltinRule } from '../../../profiler/rules/types.js';
import { Fixture } from '../guest/bpf.js';
import { probe, sh, takeAppArmorLog } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';
import { attacksFor, policyHolding, type Attack, type Need, type Violations } from '../rule-attacks.js';

/** One attack's outcome under the policy with the rule and under the same policy without it. */
export interface Outcome {
  action: string[];
  inside: string;
  outside: string;
  /** What the attack expects without the rule (OK unless the entry says otherwise). */
  expectOutside: string;
}

export interface RuleOutcome {
  attacks: Outcome[];
  allowed: Outcome[];
}

/** AppArmor's logged modes: each attack's inside outcome and whether the kernel log names it. */
export interface LoggedOutcome {
  action: string[];
  inside: string;
  logged: boolean;
}

function implemented(rule: BuiltinRule, e: EnforcerName): boolean {
  return !isUnsupported(e === 'AppArmor' ? rule.appArmor : rule.bpf);
}

// ---- what the attacks need ------------------------------------------------------------------

const peers = new Map<number, string>();

async function peerPid(uid: number): Promise<string> {
  let pid = peers.get(uid);
  if (!pid) {
    const r = await probe(['setuid-sleep', String(uid), '900']);
    if (r.result !== 'OK') throw new Error(`cannot start a peer of uid ${uid}: ${r.result}`);
    pid = r.detail.trim();
    peers.set(uid, pid);
  }
  return pid;
}

async function prepare(need: Need): Promise<void> {
  if ('file' in need) {
    mkdirSync(dirname(need.file), { recursive: true });
    writeFileSync(need.file, need.text ?? 'data\n');
    chmodSync(need.file, need.mode ?? 0o644);
    if (need.owner) chownSync(need.file, need.owner[0], need.owner[1]);
  } else if ('copy' in need) {
    mkdirSync(dirname(need.copy), { recursive: true });
    if (!existsSync(need.copy)) copyFileSync(need.of, need.copy);
    chmodSync(need.copy, 0o755);
  } else if ('device' in need) {
    if (!existsSync(need.device)) execFileSync('mknod', [need.device, 'c', '1', '3']);
  } else if ('dir' in need) {
    mkdirSync(need.dir, { recursive: true });
  } else if ('mount' in need) {
    mkdirSync(need.mount, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', need.mount]);
  } else if ('cgroupV1' in need) {
    if (!existsSync(`${need.cgroupV1}/release_agent`)) {
      mkdirSync(need.cgroupV1, { recursive: true });
      execFileSync('mount', ['-t', 'cgroup', '-o', 'none,name=varmor-ra', 'cgroup', need.cgroupV1]);
    }
  } else if ('peer' in need) {
    await peerPid(need.peer);
  }
}

async function argv(a: Attack): Promise<string[]> {
  const peer = a.needs?.find((n): n is { peer: number } => 'peer' in n);
  const pid = peer ? await peerPid(peer.peer) : '';
  return [...(a.ownMountNs ? ['-m'] : []), ...(a.drop ? ['-x', a.drop.join(',')] : []), ...a.action.map((w) => w.replace('{peer}', pid))];
}

/** Undoes what an attack that got through left behind (a mount), so the next run meets the same state. */
async function undo(a: Attack): Promise<void> {
  if (a.action[0] === 'mount' || a.action[0] === 'bind-mount') await sh(`while umount ${a.action[2]} 2>/dev/null; do :; done`);
}

/** Runs one attack as `where` says (vprobe options placing it under a profile or in a cgroup). */
async function attempt(where: string[], a: Attack, opts: { drop?: boolean } = {}): Promise<string> {
  for (const n of a.needs ?? []) await prepare(n);
  const args = [...where, ...(await argv(opts.drop === false ? { ...a, drop: undefined } : a))];
  // through a file: the network rules stop a confined probe writing to node's socket-pair stdio
  const r = await probe(args, { outputFile: '/tmp/ra-probe.out' });
  return r.detail.split(' ')[0] === 'dropped' ? `${r.result} dropped` : r.result;
}

async function pair(inside: string[], outside: string[], a: Attack): Promise<Outcome> {
  // inside first: an attack that changes state (umount) must meet the state it was made for
  const i = await attempt(inside, a);
  await undo(a);
  const o = await attempt(outside, a);
  await undo(a);
  return { action: a.action, inside: i, outside: o, expectOutside: a.outside ?? 'OK' };
}

// ---- AppArmor -------------------------------------------------------------------------------

const PROFILE_DIR = '/tmp/ra-apparmor.d';

function profileText(name: string, rule: BuiltinRule | undefined, violations: Violations): string {
  return appArmorProfileFor(name, 'EnhanceProtect', { enhanceProtect: policyHolding(rule, violations) }).profile;
}

/**
 * Loads many profiles with one apparmor_parser run (a parser start costs about half a second
 * under TCG, and there are three profiles per rule). The agent's own loader, one profile at a
 * time, is exercised by scenarios/apparmor.ts.
 */
async function loadProfiles(profiles: Record<string, string>): Promise<void> {
  mkdirSync(PROFILE_DIR, { recursive: true });
  const files = Object.entries(profiles).map(([name, text]) => {
    writeFileSync(`${PROFILE_DIR}/${name}`, text);
    return `${PROFILE_DIR}/${name}`;
  });
  const r = await sh(`apparmor_parser -r ${files.join(' ')}`, 300_000);
  if (r.code !== 0) throw new Error(`apparmor_parser -r: ${r.stderr}`);
}

function ruleProfileName(rule: BuiltinRule, violations: Violations): string {
  return violations === 'enforce' ? `varmor-ra-${rule.name}` : `varmor-ra-${rule.name}-${violations}`;
}

async function appArmorRule(rule: BuiltinRule): Promise<RuleOutcome & { logged?: Record<'audit' | 'allow', LoggedOutcome[]> }> {
  const evidence = attacksFor(rule.name, 'AppArmor');
  if ('noAttack' in evidence) return { attacks: [], allowed: [] };
  const inside = ['-p', ruleProfileName(rule, 'enforce')];
  const outside = ['-p', 'varmor-ra-none'];
  const attacks: Outcome[] = [];
  for (const a of evidence.attacks) attacks.push(await pair(inside, outside, a));
  const allowed: Outcome[] = [];
  for (const a of evidence.allowed) allowed.push(await pair(inside, outside, a));
  const logged = { audit: [] as LoggedOutcome[], allow: [] as LoggedOutcome[] };
  for (const mode of ['audit', 'allow'] as const) {
    const name = ruleProfileName(rule, mode);
    await takeAppArmorLog(name);
    for (const a of evidence.attacks) {
      const result = await attempt(['-p', name], a);
      await undo(a);
      let lines = await takeAppArmorLog(name);
      // Seen on 6.1: AppArmor logs no capability denial in a task that dropped capabilities
      // with capset first (-x). The same attack without the drop shows the log line (its
      // outcome is then decided by the CAP_SYS_ADMIN fallback, so only its log is used).
      if (a.drop && lines.length === 0) {
        await attempt(['-p', name], a, { drop: false });
        lines = await takeAppArmorLog(name);
      }
      const want = mode === 'audit' ? 'apparmor="DENIED"' : 'apparmor="AUDIT"';
      logged[mode].push({ action: a.action, inside: result, logged: lines.some((l) => l.includes(want)) });
    }
  }
  return { attacks, allowed, logged };
}

// ---- BPF ------------------------------------------------------------------------------------

let fx: Fixture | undefined;

async function bpfRule(rule: BuiltinRule): Promise<RuleOutcome> {
  const evidence = attacksFor(rule.name, 'BPF');
  if ('noAttack' in evidence) return { attacks: [], allowed: [] };
  const f = fx as Fixture;
  const p = f.protect(`ra-${rule.name}`, policyHolding(rule, 'enforce'));
  const inside = ['-c', p.cg.path];
  const outside = ['-c', f.outside.path];
  const attacks: Outcome[] = [];
  for (const a of evidence.attacks) attacks.push(await pair(inside, outside, a));
  const allowed: Outcome[] = [];
  for (const a of evidence.allowed) allowed.push(await pair(inside, outside, a));
  f.enforcer.unbindCgroup(p.cg.id);
  return { attacks, allowed };
}

/** One apparmor_parser run compiles ~250 profiles under TCG: minutes on a slow host. */
export const setupTimeoutMs = 480_000;

export async function setup(): Promise<void> {
  // Every AppArmor denial of the logged modes must reach the log: no printk rate limit.
  writeFileSync('/proc/sys/kernel/printk_ratelimit', '0');
  // Debian's level 3 adds a CAP_SYS_ADMIN-only check in front of CAP_PERFMON's; 2 is upstream's strictest
  writeFileSync('/proc/sys/kernel/perf_event_paranoid', '2');
  // a route for the metadata addresses, so an allowed UDP connect to them succeeds
  await sh('ip route add default dev lo');
  const profiles: Record<string, string> = { 'varmor-ra-none': profileText('varmor-ra-none', undefined, 'enforce') };
  for (const rule of BUILTIN_RULES) {
    if (!implemented(rule, 'AppArmor')) continue;
    for (const v of ['enforce', 'audit', 'allow'] as const) profiles[ruleProfileName(rule, v)] = profileText(ruleProfileName(rule, v), rule, v);
  }
  await loadProfiles(profiles);
  fx = new Fixture('enforce');
}

export async function teardown(): Promise<void> {
  fx?.detach();
  for (const pid of peers.values()) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function everyRule(e: EnforcerName, category: BuiltinRule['category'], one: (r: BuiltinRule) => Promise<object>): Promise<Record<string, object>> {
  const out: Record<string, object> = {};
  for (const rule of BUILTIN_RULES) {
    if (rule.category !== category || !implemented(rule, e)) continue;
    try {
      out[rule.name] = await one(rule);
    } catch (err) {
      // one rule's broken attack must not hide the others' outcomes
      out[rule.name] = { error: (err as Error).message };
    }
  }
  return out;
}

const CATEGORIES = ['hardening', 'attackProtection', 'vulMitigation'] as const;

/** One case per enforcer and category: the records stay small and a slow kernel's case keeps within its deadline. */
export const cases: GuestCase[] = (['AppArmor', 'BPF'] as const).flatMap((e) =>
  CATEGORIES.map(
    (category): GuestCase => ({
      name: `rules: ${e} ${category} rules, attacked`,
      timeoutMs: 900_000,
      async run() {
        return everyRule(e, category, e === 'AppArmor' ? appArmorRule : bpfRule);
      },
    }),
  ),
);
