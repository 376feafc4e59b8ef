// AppArmor compiler: one policy -> one profile text (apparmor_parser syntax, abi 3.0), named
// as the pod references it. Pure and deterministic.
//
// Modes:
// - AlwaysAllow: allow-all rules; the profile is in place so a later switch needs no restart.
// - RuntimeDefault: containerd's default profile under our name.
// - EnhanceProtect: the RuntimeDefault baseline with its denies following audit/allow (or the
//   allow-all rules when privileged), then built-in rules and appArmorRawRules. Rules with
//   `targets` go into child profiles `NAME//child_N` entered with `cx ->` when the target runs;
//   each child carries the baseline, the policy's global rules (unlike vArmor, so a target
//   cannot shed them by being exec'd) and its own rules.
// - BehaviorModeling: an empty profile in complain mode (everything logged, nothing blocked).
// - DefenseInDepth: deny by default: only what the behaviour model recorded (or the custom
//   profile) is allowed, raw rules on top; allowViolations puts it in complain mode.

import type { AppArmorRawRule, AttackProtectionRule, BehaviorData, EnhanceProtect } from '../api/types.js';
import type { CompileInput } from '../compiled.js';
import { findBuiltinRule } from '../rules/catalogue.js';
import { ProfileCompileError } from '../rules/errors.js';
import { isUnsupported } from '../rules/types.js';
import { ALWAYS_ALLOW_RULES, header, literalPath, peerRules, qualifier, runtimeDefaultRules } from './templates.js';

const FLAGS = ['attach_disconnected', 'mediate_deleted'];
const INDENT = '  ';

export interface AppArmorOutput {
  profile: string;
  complain: boolean;
}

interface Section {
  comment?: string;
  lines: string[];
}

/** A child profile for one attack-protection / raw-rule target set. */
interface Child {
  name: string; // child_N
  targets: string[];
  sections: Section[];
}

function indent(lines: string[], depth: number): string[] {
  const pad = INDENT.repeat(depth);
  return lines.map((l) => (l === '' ? '' : pad + l));
}

function renderSections(sections: Section[]): string[] {
  const out: string[] = [];
  for (const s of sections) {
    if (!s.lines.length) continue;
    if (out.length) out.push('');
    if (s.comment) out.push(`# ${s.comment}`);
    out.push(...s.lines);
  }
  return out;
}

/** Raw rules are user text: one rule per line, comments and blank lines kept out. */
function rawLines(r: AppArmorRawRule): string[] {
  return r.rules
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function builtinLines(names: string[], q: string, allow: boolean): Section[] {
  const sections: Section[] = [];
  for (const n of names) {
    const rule = findBuiltinRule(n);
    if (!rule || isUnsupported(rule.appArmor)) continue; // validation reported it, or another enforcer covers it
    sections.push({ comment: rule.name, lines: rule.appArmor.lines(q, allow) });
  }
  return sections;
}

function render(name: string, flags: string[], body: Section[], children: Child[], includes: string[]): string {
  const lines = [...header(name, flags)];
  const inner: string[] = [...includes, ...(includes.length ? [''] : []), ...renderSections(body)];
  for (const c of children) {
    inner.push('', ...c.targets.map((t) => `${literalPath(t)} cx -> ${c.name},`));
  }
  for (const c of children) {
    inner.push('', `profile ${c.name} flags=(${FLAGS.join(',')}) {`, ...indent([...includes, ...(includes.length ? [''] : []), ...renderSections(c.sections)], 1), '}');
  }
  lines.push(...indent(inner, 1), '}', '');
  return lines.join('\n');
}

/** Groups targeted rules by their exact target set, children numbered in order of appearance. */
function groupTargets(
  attack: AttackProtectionRule[],
  raw: AppArmorRawRule[],
  q: string,
  allow: boolean,
): { targets: string[]; sections: Section[] }[] {
  const groups = new Map<string, { targets: string[]; sections: Section[] }>();
  const group = (targets: string[]): { targets: string[]; sections: Section[] } => {
    const ts = [...new Set(targets)].sort();
    const key = JSON.stringify(ts);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { targets: ts, sections: [] }));
    return g;
  };
  for (const a of attack) if (a.targets?.length) group(a.targets).sections.push(...builtinLines(a.rules, q, allow));
  for (const r of raw) if (r.targets?.length) group(r.targets).sections.push({ comment: 'appArmorRawRules', lines: rawLines(r) });
  return [...groups.values()];
}

/**
 * A target listed in several groups can only have one `cx` transition: it goes to the first
 * group's child, and the later groups' rules are added to that child too.
 */
function buildChildren(
  profileName: string,
  groups: { targets: string[]; sections: Section[] }[],
  baseline: (self: string, siblings: string[]) => Section[],
  global: Section[],
): Child[] {
  const owner = new Map<string, number>();
  const extra: Section[][] = groups.map(() => []);
  groups.forEach((g, i) => {
    for (const t of g.targets) {
      const o = owner.get(t);
      if (o === undefined) owner.set(t, i);
      else extra[o].push(...g.sections);
    }
  });
  const names = groups.map((_, i) => `child_${i}`);
  const all = [profileName, ...names.map((n) => `${profileName}//${n}`)];
  return groups
    .map((g, i) => {
      const self = `${profileName}//${names[i]}`;
      return {
        name: names[i],
        targets: g.targets.filter((t) => owner.get(t) === i),
        sections: [...baseline(self, all.filter((p) => p !== self)), ...global, ...g.sections, ...extra[i]],
      };
    })
    .filter((c) => c.targets.length > 0);
}

function enhanceProtect(name: string, ep: EnhanceProtect): AppArmorOutput {
  const allow = ep.allowViolations === true;
  const q = qualifier(ep.auditViolations === true, allow);
  const baseline = (self: string, siblings: string[]): Section[] =>
    ep.privileged
      ? [{ lines: [...ALWAYS_ALLOW_RULES] }]
      : [
          { comment: 'RuntimeDefault baseline (containerd)', lines: runtimeDefaultRules(q, allow) },
          { lines: peerRules(self, siblings) },
        ];
  const attack = ep.attackProtectionRules ?? [];
  const raw = ep.appArmorRawRules ?? [];
  const global: Section[] = [
    ...builtinLines(ep.hardeningRules ?? [], q, allow),
    ...builtinLines(attack.filter((a) => !a.targets?.length).flatMap((a) => a.rules), q, allow),
    ...builtinLines(ep.vulMitigationRules ?? [], q, allow),
    ...raw.filter((r) => !r.targets?.length).map((r) => ({ comment: 'appArmorRawRules', lines: rawLines(r) })),
  ];
  const children = buildChildren(name, groupTargets(attack, raw, q, allow), baseline, global);
  const siblings = children.map((c) => `${name}//${c.name}`);
  const body = [...baseline(name, siblings), ...global];
  const includes = ep.privileged ? [] : ['#include <abstractions/base>'];
  return { profile: render(name, FLAGS, body, children, includes), complain: false };
}

const PERM_WORDS: Record<string, string> = {
  read: 'r', write: 'w', append: 'a', lock: 'k', link: 'l', mmap: 'm', exec: 'x', execute: 'x',
};

/** Model permissions (words or AppArmor letters) as an AppArmor mode; `w` implies `a`, which AppArmor refuses together. */
function modelMode(perms: string[]): string {
  const set = new Set<string>();
  for (const p of perms) {
    const letters = PERM_WORDS[p.toLowerCase()] ?? (/^[rwaklmix]+$/.test(p) ? p : '');
    if (letters.includes('x')) set.add('ix');
    for (const c of letters) if ('mrwakl'.includes(c)) set.add(c);
  }
  if (set.has('w')) set.delete('a');
  return ['m', 'r', 'w', 'a', 'k', 'l', 'ix'].filter((c) => set.has(c)).join('');
}

/** `targets` get a `cx` transition elsewhere; an `ix` for the same path would conflict. */
function behaviorRules(data: BehaviorData, targets: ReadonlySet<string>): Section[] {
  const files = new Map<string, string[]>();
  const addFile = (path: string, perms: string[]): void => {
    if (path.startsWith('/')) files.set(path, [...(files.get(path) ?? []), ...perms]);
  };
  for (const e of data.executions ?? []) addFile(e, targets.has(e) ? ['r'] : ['r', 'x']);
  for (const f of data.files ?? []) addFile(f.path, f.permissions);
  const fileLines = [...files.keys()]
    .sort()
    .map((p) => [p, modelMode(files.get(p) ?? [])])
    .filter(([, mode]) => mode !== '')
    .map(([p, mode]) => `${literalPath(p)} ${mode},`);
  const caps = [...new Set((data.capabilities ?? []).map((c) => c.toLowerCase().replace(/^cap_/, '')))].sort();
  const ptrace = [...new Set((data.ptrace ?? []).map((p) => `ptrace (${[...p.permissions].sort().join(',')})${p.peer ? ` peer=${p.peer}` : ''},`))].sort();
  return [
    { comment: 'executions and files', lines: fileLines },
    { comment: 'capabilities', lines: caps.map((c) => `capability ${c},`) },
    // Fine-grained network rules from the model are unreliable (protocol 0, raw sockets); the
    // model's network use is allowed as a whole, like vArmor does.
    { comment: 'network', lines: (data.network ?? []).length ? ['network,'] : [] },
    { comment: 'ptrace', lines: ptrace },
    { lines: ['umount,'] },
  ];
}

/** A custom profile is either rules, or a whole profile whose body (between its outer braces) is used. */
function customBody(text: string): string[] {
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  const body = /^\s*(profile\s|\/)[^\n]*\{/m.test(text) && open >= 0 && close > open ? text.slice(open + 1, close) : text;
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function defenseInDepth(input: CompileInput): AppArmorOutput {
  const name = input.profileName;
  const did = input.policy.defenseInDepth ?? {};
  const aa = did.appArmor;
  const allow = did.allowViolations === true;
  let rules: Section[];
  if (aa?.profileType === 'Custom') {
    if (!aa.customProfile) {
      throw new ProfileCompileError('VARMOR_ERR_COMPILE_CUSTOM_PROFILE_MISSING', 'spec.policy.defenseInDepth.appArmor.customProfile', 'profileType Custom needs a customProfile');
    }
    rules = [{ comment: 'customProfile', lines: customBody(aa.customProfile) }];
  } else {
    const data = input.model?.data.dynamicResult?.appArmor;
    if (!data) {
      throw new ProfileCompileError(
        'VARMOR_ERR_COMPILE_MODEL_REQUIRED',
        'spec.policy.defenseInDepth.appArmor.profileType',
        'BehaviorModel needs the recorded ArmorProfileModel (no AppArmor behaviour recorded yet)',
      );
    }
    rules = behaviorRules(data, new Set((aa?.appArmorRawRules ?? []).flatMap((r) => r.targets ?? [])));
  }
  const raw = aa?.appArmorRawRules ?? [];
  const global: Section[] = [...rules, ...raw.filter((r) => !r.targets?.length).map((r) => ({ comment: 'appArmorRawRules', lines: rawLines(r) }))];
  const baseline = (self: string, siblings: string[]): Section[] => [{ lines: peerRules(self, siblings) }];
  const children = buildChildren(name, groupTargets([], raw, '', allow), baseline, global);
  const body = [...baseline(name, children.map((c) => `${name}//${c.name}`)), ...global];
  const flags = allow ? [...FLAGS, 'complain'] : FLAGS;
  return { profile: render(name, flags, body, children, ['#include <abstractions/base>']), complain: allow };
}

export function compileAppArmor(input: CompileInput): AppArmorOutput {
  const name = input.profileName;
  switch (input.mode) {
    case 'AlwaysAllow':
      return { profile: render(name, FLAGS, [{ lines: [...ALWAYS_ALLOW_RULES] }], [], []), complain: false };
    case 'RuntimeDefault':
      return {
        profile: render(name, FLAGS, [{ lines: runtimeDefaultRules() }, { lines: peerRules(name) }], [], ['#include <abstractions/base>']),
        complain: false,
      };
    case 'EnhanceProtect':
      return enhanceProtect(name, input.policy.enhanceProtect ?? {});
    case 'BehaviorModeling':
      // Empty and in complain mode: every access is logged as ALLOWED, which is the recording.
      return { profile: render(name, [...FLAGS, 'complain'], [], [], []), complain: true };
    case 'DefenseInDepth':
      return defenseInDepth(input);
  }
}
