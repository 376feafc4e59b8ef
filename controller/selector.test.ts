import { describe, expect, it } from '@jest/globals';
import { matchesSelector } from './selector.js';

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
