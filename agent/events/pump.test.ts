// Where a BPF event goes: the recorder of a modelled profile, the violation log.

import { describe, it, expect } from '@jest/globals';
import { routeEvent } from './pump.js';

describe('event routing', () => {
  it('hands every event of a modelled profile to its recorder', () => {
    expect(routeEvent('allowed', true)).toEqual({ record: true, report: false });
    expect(routeEvent('denied', true)).toEqual({ record: true, report: true });
  });
  it('reports what was not allowed as a violation (denied, or audited)', () => {
    expect(routeEvent('denied', false)).toEqual({ record: false, report: true });
    expect(routeEvent('audit', false)).toEqual({ record: false, report: true });
    expect(routeEvent('allowed', false)).toEqual({ record: false, report: false });
  });
});
