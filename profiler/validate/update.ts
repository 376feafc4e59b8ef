// Update-time rules, as vArmor's validating webhook applies them: the target is immutable;
// AppArmor and Seccomp cannot be removed (running pods reference their profiles by name, and
// the kubelet would fail to restart them); no enforcer change and no leaving BehaviorModeling
// while a modelling run is in progress. BPF may be removed and enforcers may be added (added
// ones apply to pods created afterwards).

import type { AnyPolicy } from '../api/types.js';
import { parseEnforcers } from './enforcer.js';
import type { Issues } from './issues.js';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function checkPolicyUpdate(issues: Issues, oldPolicy: AnyPolicy, newPolicy: AnyPolicy): void {
  if (canonical(oldPolicy.spec?.target) !== canonical(newPolicy.spec?.target)) {
    issues.add('spec.target', 'immutable', 'target cannot be changed; create a new policy instead');
  }
  const modeling = oldPolicy.status?.phase === 'Modeling';
  const oldEnf = oldPolicy.spec?.policy?.enforcer;
  const newEnf = newPolicy.spec?.policy?.enforcer;
  if (modeling && oldPolicy.spec?.policy?.mode === 'BehaviorModeling' && newPolicy.spec?.policy?.mode !== 'BehaviorModeling') {
    issues.add('spec.policy.mode', 'immutable', 'cannot leave BehaviorModeling while modelling is in progress (status.phase Modeling)');
  }
  if (oldEnf !== newEnf) {
    if (modeling) {
      issues.add('spec.policy.enforcer', 'immutable', 'enforcer cannot change while modelling is in progress (status.phase Modeling)');
      return;
    }
    const before = parseEnforcers(oldEnf ?? '') ?? [];
    const after = parseEnforcers(newEnf ?? '');
    if (!after) return; // reported by validatePolicy
    const removed = before.filter((e) => e !== 'BPF' && !after.includes(e));
    if (removed.length > 0) {
      issues.add(
        'spec.policy.enforcer',
        'immutable',
        `the ${removed.join(' and ')} enforcer cannot be removed (pods reference its profile); only BPF may be removed, enforcers may be added`,
      );
    }
  }
}
