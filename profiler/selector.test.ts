// The shared label selector: the webhook's compiled predicates (moved from webhook/mutate/mutate.test.ts)
// and the controller's one-off matching (moved from controller/selector.test.ts).
import { describe, expect, it } from '@jest/globals';
import { canonicalSelector, compileSelector, matchesSelector, requirementProblem, SelectorError } from './selector.js';
import { validatePolicy } from './validate/index.js';

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  it('matchLabels must all match', () => {
    expect(matchesSelector({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { app: 'web', tier: 'back' } }, labels)).toBe(false);
  });
  it('matchExpressions operators', () => {
    expect(
      matchesSelector(
        { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels),
    ).toBe(false);
    expect(
      matchesSelector({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels),
    ).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels)).toBe(
      false,
    );
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, labels)).toBe(false);
  });
  it('an empty selector matches everything, a missing one nothing', () => {
    expect(matchesSelector({}, {})).toBe(true);
    expect(matchesSelector(undefined, labels)).toBe(false);
  });
});

describe('compileSelector', () => {
  it('implements matchLabels and the four operators', () => {
    const sel = compileSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'team', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(sel({ app: 'web', tier: 'a', team: 'x' })).toBe(true);
    expect(sel({ app: 'web', tier: 'a', team: 'x', env: 'dev' })).toBe(true);
    expect(sel({ app: 'web', tier: 'a', team: 'x', env: 'prod' })).toBe(false);
    expect(sel({ app: 'web', tier: 'c', team: 'x' })).toBe(false);
    expect(sel({ app: 'web', tier: 'a' })).toBe(false);
    expect(sel({ app: 'web', tier: 'a', team: 'x', legacy: '' })).toBe(false);
    expect(sel({ tier: 'a', team: 'x' })).toBe(false);
    expect(compileSelector({})({})).toBe(true);
    // Inherited properties are not labels.
    expect(compileSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] })({})).toBe(false);
  });

  it('refuses unknown operators and empty value lists with the field path', () => {
    expect(() => compileSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, 'spec.target.selector')).toThrow(SelectorError);
    expect(() => compileSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'spec.target.selector')).toThrow(
      expect.objectContaining({ field: 'spec.target.selector.matchExpressions[0].values' }),
    );
  });
});

describe('one implementation for the webhook and the controller', () => {
  it('an invalid selector compiles to an error in the webhook and selects nothing in the controller', () => {
    const bad = { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] };
    expect(() => compileSelector(bad)).toThrow(SelectorError);
    expect(matchesSelector(bad, { app: 'web' })).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: [] }] }, {})).toBe(false);
  });

  it('inherited properties are not labels for matchLabels either', () => {
    expect(matchesSelector({ matchLabels: { toString: 'x' } }, {})).toBe(false);
  });
});

describe('canonicalSelector', () => {
  it('is the same text whatever the order of labels, expressions and values', () => {
    const a = canonicalSelector({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'x', operator: 'In', values: ['2', '1'] },
        { key: 'y', operator: 'Exists' },
      ],
    });
    const b = canonicalSelector({
      matchExpressions: [
        { key: 'y', operator: 'Exists', values: [] },
        { key: 'x', operator: 'In', values: ['1', '2'] },
      ],
      matchLabels: { a: '1', b: '2' },
    });
    expect(a).toBe(b);
    expect(canonicalSelector({ matchLabels: { a: '1' } })).not.toBe(canonicalSelector({ matchLabels: { a: '2' } }));
    expect(canonicalSelector(undefined)).toBe('');
  });
});

describe('requirementProblem: one rule for the validator and the matcher', () => {
  it.each([
    [{ key: 'a', operator: 'In', values: ['x'] }, undefined],
    [{ key: 'a', operator: 'NotIn', values: ['x'] }, undefined],
    [{ key: 'a', operator: 'Exists' }, undefined],
    [{ key: 'a', operator: 'DoesNotExist', values: [] }, undefined],
    [{ key: 'a', operator: 'In' }, 'values'],
    [{ key: 'a', operator: 'NotIn', values: [] }, 'values'],
    [{ key: 'a', operator: 'Exists', values: ['x'] }, 'values'],
    [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }, 'values'],
    [{ key: 'a', operator: 'in', values: ['x'] }, 'operator'],
    [{ key: 'a' }, 'operator'],
  ])('%j: %s', (req, field) => {
    expect(requirementProblem(req)?.field).toBe(field);
    const selector = { matchExpressions: [req as { key: string; operator: string }] };
    if (field) expect(() => compileSelector(selector, 's')).toThrow(expect.objectContaining({ field: `s.matchExpressions[0].${field}` }));
    else expect(() => compileSelector(selector, 's')).not.toThrow();
    const issues = validatePolicy({
      apiVersion: 'crd.varmor.org/v1beta1',
      kind: 'VarmorPolicy',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { target: { kind: 'Deployment', selector }, policy: { enforcer: 'AppArmor', mode: 'RuntimeDefault' } },
    });
    const selectorIssues = issues.ok ? [] : issues.errors.filter((e) => e.code === 'invalid-selector').map((e) => e.path);
    expect(selectorIssues).toEqual(field ? [`spec.target.selector.matchExpressions[0].${field}`] : []);
    if (!field) expect(issues.ok).toBe(true);
  });
});
