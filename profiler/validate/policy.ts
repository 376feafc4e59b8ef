// Semantic validation of a policy beyond its schema: the enforcer set, mode versus enforcer,
// the sections each mode needs, the target, built-in rule names, raw rules and the profile name
// length. Runs after the schema check and tolerates wrong types (the schema already said so).

import type { AnyPolicy, Enforcer, Mode, Policy } from '../api/types.js';
import { maxPolicyNameLength, profileName, MAX_PROFILE_NAME_LENGTH } from '../names.js';
import { findBuiltinRule } from '../rules/catalogue.js';
import { isUnsupported, type BuiltinRule, type RuleCategory } from '../rules/types.js';
import { checkAppArmorRules } from './apparmor.js';
import { checkBpfRawRules, checkLabelSelector } from './bpf.js';
import { explainBadEnforcer, formatEnforcers, isMode, MODE_SUPPORT, parseEnforcers } from './enforcer.js';
import { at, type Issues } from './issues.js';
import { checkCustomSeccompProfile, checkSyscallRules } from './seccomp.js';

const CATEGORY_FIELD: Record<RuleCategory, string> = {
  hardening: 'hardeningRules',
  attackProtection: 'attackProtectionRules',
  vulMitigation: 'vulMitigationRules',
};

function impl(rule: BuiltinRule, e: Enforcer): unknown {
  return e === 'AppArmor' ? rule.appArmor : e === 'BPF' ? rule.bpf : rule.seccomp;
}

function checkRuleName(issues: Issues, path: string, name: unknown, category: RuleCategory, enforcers: Enforcer[]): void {
  if (typeof name !== 'string') return;
  const rule = findBuiltinRule(name);
  if (!rule) {
    issues.add(path, 'unknown-rule', `unknown built-in rule "${name}"; \`varmor rules\` lists them`);
    return;
  }
  if (rule.category !== category) {
    issues.add(path, 'wrong-category', `"${name}" is a ${rule.category} rule: list it under ${CATEGORY_FIELD[rule.category]}`);
    return;
  }
  if (enforcers.length === 0) return; // enforcer already reported
  if (enforcers.every((e) => isUnsupported(impl(rule, e)))) {
    const supportedBy = (['AppArmor', 'BPF', 'Seccomp'] as Enforcer[]).filter((e) => !isUnsupported(impl(rule, e)));
    const why = enforcers.map((e) => `${e}: ${(impl(rule, e) as { unsupported: string }).unsupported}`).join('; ');
    const hint = supportedBy.length > 0 ? `; it is implemented by ${supportedBy.join(', ')}` : '';
    // vArmor accepts and ignores such a rule; so do we, but say so (an admission warning)
    issues.warn(path, 'rule-not-supported', `rule "${name}" is not enforced: the chosen enforcer(s) ${enforcers.join(', ')} do not support it (${why})${hint}; accepted and ignored, as vArmor does`);
  }
}

function checkEnhanceProtect(issues: Issues, path: string, policy: Policy, enforcers: Enforcer[]): void {
  const ep = policy.enhanceProtect;
  if (!ep || typeof ep !== 'object') return;
  if (Array.isArray(ep.hardeningRules)) {
    ep.hardeningRules.forEach((n, i) => checkRuleName(issues, at(at(path, 'hardeningRules'), i), n, 'hardening', enforcers));
  }
  if (Array.isArray(ep.vulMitigationRules)) {
    ep.vulMitigationRules.forEach((n, i) => checkRuleName(issues, at(at(path, 'vulMitigationRules'), i), n, 'vulMitigation', enforcers));
  }
  if (Array.isArray(ep.attackProtectionRules)) {
    ep.attackProtectionRules.forEach((r, i) => {
      const p = at(at(path, 'attackProtectionRules'), i);
      if (Array.isArray(r?.rules)) r.rules.forEach((n, j) => checkRuleName(issues, at(at(p, 'rules'), j), n, 'attackProtection', enforcers));
      if (Array.isArray(r?.targets)) checkTargets(issues, at(p, 'targets'), r.targets);
    });
  }
  if (Array.isArray(ep.appArmorRawRules)) {
    ep.appArmorRawRules.forEach((r, i) => {
      const p = at(at(path, 'appArmorRawRules'), i);
      if (typeof r?.rules === 'string') checkAppArmorRules(issues, at(p, 'rules'), r.rules);
      if (Array.isArray(r?.targets)) checkTargets(issues, at(p, 'targets'), r.targets);
    });
  }
  checkBpfRawRules(issues, at(path, 'bpfRawRules'), ep.bpfRawRules);
  checkSyscallRules(issues, at(path, 'syscallRawRules'), ep.syscallRawRules);
}

/** Rule `targets` are executables named by absolute path (AppArmor attaches child profiles to them). */
function checkTargets(issues: Issues, path: string, targets: unknown[]): void {
  targets.forEach((t, i) => {
    if (typeof t === 'string' && !t.startsWith('/')) issues.add(at(path, i), 'invalid-target', `target "${t}" must be an absolute path of an executable`);
  });
}

function checkDefenseInDepth(issues: Issues, path: string, policy: Policy, enforcers: Enforcer[]): void {
  const did = policy.defenseInDepth;
  if (!did || typeof did !== 'object') {
    issues.add(path, 'required', 'mode DefenseInDepth needs defenseInDepth');
    return;
  }
  for (const e of ['AppArmor', 'Seccomp'] as const) {
    const key = e === 'AppArmor' ? 'appArmor' : 'seccomp';
    const section = did[key];
    const p = at(path, key);
    if (!section || typeof section !== 'object') {
      if (enforcers.includes(e)) issues.add(p, 'required', `mode DefenseInDepth with the ${e} enforcer needs defenseInDepth.${key}`);
      continue;
    }
    if (typeof section.profileType === 'string' && !['BehaviorModel', 'Custom'].includes(section.profileType)) {
      issues.add(at(p, 'profileType'), 'enum', `profileType "${section.profileType}" must be BehaviorModel or Custom`);
    }
    if (section.profileType === 'Custom') {
      if (typeof section.customProfile !== 'string' || section.customProfile.trim() === '') {
        issues.add(at(p, 'customProfile'), 'required', 'profileType Custom needs customProfile');
      } else if (e === 'AppArmor') {
        checkAppArmorRules(issues, at(p, 'customProfile'), section.customProfile);
      } else {
        checkCustomSeccompProfile(issues, at(p, 'customProfile'), section.customProfile);
      }
    }
    if (e === 'AppArmor' && 'appArmorRawRules' in section && Array.isArray(section.appArmorRawRules)) {
      section.appArmorRawRules.forEach((r, i) => {
        const rp = at(at(p, 'appArmorRawRules'), i);
        if (typeof r?.rules === 'string') checkAppArmorRules(issues, at(rp, 'rules'), r.rules);
        if (Array.isArray(r?.targets)) checkTargets(issues, at(rp, 'targets'), r.targets);
      });
    }
    if (e === 'Seccomp' && 'syscallRawRules' in section) {
      checkSyscallRules(issues, at(p, 'syscallRawRules'), section.syscallRawRules);
    }
  }
}

export interface SemanticResult {
  enforcers: Enforcer[];
  mode: Mode | undefined;
}

export function checkPolicySemantics(issues: Issues, obj: AnyPolicy, productNamespace: string): SemanticResult {
  const spec = obj.spec;
  const policy = spec?.policy;
  let enforcers: Enforcer[] = [];
  let mode: Mode | undefined;

  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    issues.add('metadata.name', 'required', 'metadata.name is required');
  } else {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      issues.add('metadata.name', 'invalid-name', `"${name}" is not a valid object name (lower-case DNS subdomain)`);
    }
    const ref = { kind: obj.kind, namespace: obj.metadata.namespace } as const;
    const profile = profileName({ ...ref, name }, productNamespace);
    if (Buffer.byteLength(profile) > MAX_PROFILE_NAME_LENGTH) {
      const allowed = maxPolicyNameLength(ref, productNamespace);
      issues.add(
        'metadata.name',
        'name-too-long',
        `profile name "${profile}" would be ${Buffer.byteLength(profile)} bytes (at most ${MAX_PROFILE_NAME_LENGTH}); this policy's name may be at most ${allowed} characters`,
      );
    }
  }

  if (policy && typeof policy === 'object') {
    if (typeof policy.enforcer === 'string') {
      const parsed = parseEnforcers(policy.enforcer);
      if (!parsed) issues.add('spec.policy.enforcer', 'invalid-enforcer', explainBadEnforcer(policy.enforcer));
      else enforcers = parsed;
    }
    if (isMode(policy.mode)) {
      mode = policy.mode;
      const unsupported = enforcers.filter((e) => !MODE_SUPPORT[mode as Mode].includes(e));
      if (unsupported.length > 0) {
        issues.add(
          'spec.policy.mode',
          'mode-not-supported',
          `mode ${mode} is not supported by the ${unsupported.join(', ')} enforcer (enforcer ${formatEnforcers(enforcers)}); ${mode} works with ${MODE_SUPPORT[mode].join(', ')}`,
        );
      }
    }
    const pp = 'spec.policy';
    if (mode === 'EnhanceProtect' && (policy.enhanceProtect === undefined || policy.enhanceProtect === null)) {
      issues.add(at(pp, 'enhanceProtect'), 'required', 'mode EnhanceProtect needs enhanceProtect');
    }
    if (mode === 'BehaviorModeling') {
      const mo = policy.modelingOptions;
      if (!mo || typeof mo !== 'object') issues.add(at(pp, 'modelingOptions'), 'required', 'mode BehaviorModeling needs modelingOptions.duration (minutes)');
      else if (typeof mo.duration === 'number' && !(mo.duration > 0)) {
        issues.add(at(at(pp, 'modelingOptions'), 'duration'), 'invalid-duration', `duration must be a positive number of minutes, got ${mo.duration}`);
      }
    }
    if (mode === 'DefenseInDepth') checkDefenseInDepth(issues, at(pp, 'defenseInDepth'), policy, enforcers);
    checkEnhanceProtect(issues, at(pp, 'enhanceProtect'), policy, enforcers);
  }

  const target = spec?.target;
  if (target && typeof target === 'object') {
    const hasName = typeof target.name === 'string' && target.name !== '';
    const hasSelector = target.selector !== undefined && target.selector !== null;
    if (hasName && hasSelector) issues.add('spec.target', 'conflict', 'set exactly one of target.name and target.selector, not both');
    if (!hasName && !hasSelector) issues.add('spec.target', 'required', 'one of target.name and target.selector is required');
    if (hasSelector) {
      checkLabelSelector(issues, 'spec.target.selector', target.selector);
    }
    if (Array.isArray(target.containers)) {
      const seen = new Set<string>();
      target.containers.forEach((c, i) => {
        if (typeof c !== 'string') return;
        if (c === '') issues.add(at('spec.target.containers', i), 'invalid-name', 'container name must not be empty');
        if (seen.has(c)) issues.add(at('spec.target.containers', i), 'duplicate', `container "${c}" is listed twice`);
        seen.add(c);
      });
    }
  }
  return { enforcers, mode };
}
