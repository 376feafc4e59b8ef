import { describe, expect, it } from '@jest/globals';
import { encodeRecord, LINE_PREFIX, parseRecords } from './protocol.js';

describe('guest line protocol', () => {
  it('round-trips records through console noise, CRLF and bigints', () => {
    const text = [
      '[    0.000000] Linux version 6.1.0-56-amd64',
      encodeRecord({ type: 'case', suite: 's', name: 'a', ok: true, ms: 3, data: { id: 23n } }) + '\r',
      'random shell output',
      encodeRecord({ type: 'done', code: 0 }),
    ].join('\n');
    expect(parseRecords(text)).toEqual([
      { type: 'case', suite: 's', name: 'a', ok: true, ms: 3, data: { id: '23' } },
      { type: 'done', code: 0 },
    ]);
  });

  it('drops a record a kernel message broke in two, keeps the rest', () => {
    const good = encodeRecord({ type: 'info', key: 'k', value: 1 });
    const text = `${LINE_PREFIX}{"type":"case","na\n[   12.3] random: crng init done\nme":"x"}\n${good}`;
    expect(parseRecords(text)).toEqual([{ type: 'info', key: 'k', value: 1 }]);
  });
});
