import { describe, expect, it } from '@jest/globals';
import { baselineTable, costTable, median, summarize, summarizeBaseline, table } from './stats.js';

describe('bench/bpf stats', () => {
  it('lists each program called at least every other operation, with its cost per call', () => {
    const text = costTable([
      { kind: 'open', side: 'unprotected', program: 'vt_lsm_file_open', callsPerOp: 1.01, nsPerCall: 259.4 },
      { kind: 'open', side: '8', program: 'vt_lsm_file_open', callsPerOp: 1, nsPerCall: 836.6 },
      { kind: 'open', side: '8', program: 'vt_lsm_capable', callsPerOp: 0.01, nsPerCall: 283 },
    ]).split('\n');
    expect(text).toHaveLength(4);
    expect(text[2]).toBe('| open | unprotected | vt_lsm_file_open | 1.01 | 259 |');
    expect(text[3]).toBe('| open | protected, 8 rules | vt_lsm_file_open | 1.00 | 837 |');
  });

  it('takes the median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('median of no samples');
  });

  it('pairs protected and unprotected runs and reports the median ratio', () => {
    const rows = summarize({ kind: 'open', samples: { '8': { protected: [110, 104, 120], unprotected: [100, 100, 100] } } });
    expect(rows).toEqual([{ kind: 'open', rules: 8, protectedNs: 110, unprotectedNs: 100, ratio: 1.1, ratioMin: 1.04, ratioMax: 1.2 }]);
    expect(table(rows)).toContain('| open | 8 | 110 | 100 | 1.100 | +10.0% | 1.040..1.200 |');
  });

  it('refuses unpaired samples', () => {
    expect(() => summarize({ kind: 'exec', samples: { '0': { protected: [1, 2], unprotected: [1] } } })).toThrow('exec/0: unpaired samples');
  });

  it('compares attached and detached runs of unprotected processes, with the A/A noise floor', () => {
    const rows = summarizeBaseline({ attached: { open: { a: [102, 104], b: [100, 104] } }, none: { open: { a: [100, 100], b: [100, 100] } } });
    expect(rows).toEqual([{ kind: 'open', attachedNs: 103, noneNs: 100, ratio: 1.03, aaRatio: 1.01 }]);
    expect(baselineTable(rows)).toContain('| open | 103 | 100 | 1.030 | +3.0% | 1.010 |');
  });
});
