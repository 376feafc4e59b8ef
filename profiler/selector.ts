// Kubernetes label selectors (matchLabels AND matchExpressions, as metav1.LabelSelector defines
// them), the one implementation the webhook and the controller share. A selector is compiled once
// into a predicate, so matching a Pod costs a few map lookups and never re-reads the selector (the
// webhook's hot path); the controller asks one-off questions through matchesSelector.

import type { LabelSelector, LabelSelectorRequirement } from './api/types.js';

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  readonly code = 'VARMOR_ERR_SELECTOR_INVALID';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/**
 * What makes a matchExpressions entry invalid in Kubernetes, or undefined when it is valid: the
 * rule both the policy validator (profiler/validate) and compileSelector apply. `field` is the
 * entry's field at fault.
 */
export function requirementProblem(req: Partial<LabelSelectorRequirement> | null | undefined): { field: 'operator' | 'values'; message: string } | undefined {
  const op = req?.operator;
  if (typeof op !== 'string' || !OPERATORS.includes(op)) {
    return { field: 'operator', message: `operator "${op}" must be In, NotIn, Exists or DoesNotExist` };
  }
  const count = req?.values?.length ?? 0;
  if ((op === 'In' || op === 'NotIn') && count === 0) return { field: 'values', message: `operator ${op} needs at least one value` };
  if ((op === 'Exists' || op === 'DoesNotExist') && count > 0) return { field: 'values', message: `operator ${op} takes no values` };
  return undefined;
}

const has = (labels: Readonly<Record<string, string>>, key: string) => Object.prototype.hasOwnProperty.call(labels, key);

/**
 * An empty selector matches everything, as in Kubernetes. `field` names the selector in errors.
 * Throws SelectorError for what Kubernetes refuses to parse (requirementProblem).
 */
export function compileSelector(selector: LabelSelector, field = 'selector'): LabelPredicate {
  const tests: LabelPredicate[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    tests.push((l) => has(l, key) && l[key] === value);
  }
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const where = `${field}.matchExpressions[${i}]`;
    const problem = requirementProblem(expr);
    if (problem) throw new SelectorError(`${where}.${problem.field}: ${problem.message}`, `${where}.${problem.field}`);
    const values = new Set(expr.values ?? []);
    switch (expr.operator) {
      case 'In':
        tests.push((l) => has(l, expr.key) && values.has(l[expr.key]));
        break;
      case 'NotIn':
        tests.push((l) => !has(l, expr.key) || !values.has(l[expr.key]));
        break;
      case 'Exists':
        tests.push((l) => has(l, expr.key));
        break;
      default: // DoesNotExist
        tests.push((l) => !has(l, expr.key));
    }
  });
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (labels) => {
    for (const t of tests) if (!t(labels)) return false;
    return true;
  };
}

/**
 * Does the selector select these labels? A missing selector selects nothing (a policy without a
 * selector targets by name), and so does an invalid one: Kubernetes cannot parse it, so it
 * selects no object rather than more than its author meant.
 */
export function matchesSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return false;
  let predicate: LabelPredicate;
  try {
    predicate = compileSelector(selector);
  } catch (err) {
    if (err instanceof SelectorError) return false;
    throw err;
  }
  return predicate(labels ?? {});
}

/**
 * A selector's canonical text: equal for selectors that select the same way whatever the order of
 * their labels, expressions and values (the controller's test for two policies with the same
 * selector); '' for no selector.
 */
export function canonicalSelector(s: LabelSelector | undefined): string {
  if (!s) return '';
  const labels = Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const exprs = (s.matchExpressions ?? [])
    .map((e) => ({ key: e.key, operator: e.operator, values: [...(e.values ?? [])].sort() }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return JSON.stringify({ labels, exprs });
}
