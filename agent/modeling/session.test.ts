// When a profile update starts or ends its modelling run.

import { describe, it, expect } from '@jest/globals';
import { modelingStep } from './session.js';

describe('modelling step', () => {
  it('starts a run when modelling is asked and none is going', () => {
    expect(modelingStep(true, false, false)).toBe('start');
    expect(modelingStep(true, false, true)).toBe('start');
  });
  it('ends the run going when modelling is no longer asked', () => {
    expect(modelingStep(false, true, true)).toBe('finish');
  });
  it('otherwise leaves things as they are', () => {
    expect(modelingStep(true, true, true)).toBe('none');
    expect(modelingStep(false, false, true)).toBe('none');
    expect(modelingStep(false, true, false)).toBe('none');
  });
});
