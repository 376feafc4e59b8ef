// Kubernetes label selectors compiled once into predicates, so matching a Pod costs a few map
// lookups and never re-reads the selector (the webhook's hot path).

import type { LabelSelector } from '../../profiler/api/types.js';

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  readonly code = 'SELECTOR_INVALID';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const has = (labels: Readonly<Record<string, string>>, key: string) => Object.prototype.hasOwnProperty.call(labels, key);

/** An empty selector matches everything, as in Kubernetes. `field` names the selector in errors. */
export function compileSelector(selector: LabelSelector, field = 'selector'): LabelPredicate {
  const tests: LabelPredicate[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    tests.push((l) => has(l, key) && l[key] === value);
  }
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const where = `${field}.matchExpressions[${i}]`;
    const values = new Set(expr.values ?? []);
    switch (expr.operator) {
      case 'In':
        if (!values.size) throw new SelectorError(`${where}.values: must be non-empty for In`, `${where}.values`);
        tests.push((l) => has(l, expr.key) && values.has(l[expr.key]));
        break;
      case 'NotIn':
        if (!values.size) throw new SelectorError(`${where}.values: must be non-empty for NotIn`, `${where}.values`);
        tests.push((l) => !has(l, expr.key) || !values.has(l[expr.key]));
        break;
      case 'Exists':
        tests.push((l) => has(l, expr.key));
        break;
      case 'DoesNotExist':
        tests.push((l) => !has(l, expr.key));
        break;
      default:
        throw new SelectorError(`${where}.operator: unknown operator ${JSON.stringify(expr.operator)}`, `${where}.operator`);
    }
  });
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (labels) => {
    for (const t of tests) if (!t(labels)) return false;
    return true;
  };
}
