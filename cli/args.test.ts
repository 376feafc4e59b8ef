import { describe, expect, it } from '@jest/globals';
import { parseFlags, UsageError } from './args.js';

const SPECS = {
  out: { type: 'string' },
  output: { type: 'string', short: 'o' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

describe('parseFlags', () => {
  it('takes --flag value, --flag=value, short aliases and booleans; the last repeat wins', () => {
    expect(parseFlags(['--out', 'a', '--output=json', '--force', '-h', '--out=b'], SPECS)).toEqual({
      values: { out: 'b', output: 'json', force: true, help: true },
      positionals: [],
    });
    expect(parseFlags(['-o', 'text'], SPECS).values).toEqual({ output: 'text' });
  });

  it('keeps positionals when asked: `-` is one, and everything after `--`', () => {
    expect(parseFlags(['a', '-', '--force', '--', '--out', 'b'], SPECS, { positionals: true })).toEqual({
      values: { force: true },
      positionals: ['a', '-', '--out', 'b'],
    });
  });

  it('refuses what it does not know, naming the flag', () => {
    const bad: [string[], string, string][] = [
      [['--bogus'], '--bogus', '--bogus: unknown flag'],
      [['-x'], '-x', '-x: unknown flag'],
      [['--out'], '--out', '--out: needs a value'],
      [['--out='], '--out', '--out: needs a value'],
      [['--force=yes'], '--force', '--force: takes no value'],
      [['file'], 'file', 'file: unexpected argument'],
    ];
    for (const [argv, field, message] of bad) {
      expect(() => parseFlags(argv, SPECS)).toThrow(expect.objectContaining({ name: 'UsageError', code: 'VARMOR_ERR_CLI_USAGE', field, message }));
    }
    expect(() => parseFlags(['--bogus'], SPECS)).toThrow(UsageError);
  });
});
