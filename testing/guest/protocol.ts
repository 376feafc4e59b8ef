// The line protocol between the guest runner and the host harness. The guest prints one JSON
// record per line on the serial console, behind a prefix that kernel messages never carry,
// so the host can pick them out of everything else the console shows.

export const LINE_PREFIX = 'VARMOR-GUEST ';

/** What a case returned (its observations, JSON-safe) or how it failed. */
export interface CaseRecord {
  type: 'case';
  suite: string;
  name: string;
  ok: boolean;
  ms: number;
  data?: unknown;
  error?: { message: string; code?: string; stack?: string };
}

export interface InfoRecord {
  type: 'info';
  key: string;
  value: unknown;
}

/** The runner finished (code 0) or gave up before running every case (code != 0, with the reason). */
export interface DoneRecord {
  type: 'done';
  code: number;
  message?: string;
}

export type GuestRecord = CaseRecord | InfoRecord | DoneRecord;

/** JSON that survives bigint (cgroup ids, event times): bigints become decimal strings. */
export function encodeRecord(record: GuestRecord): string {
  return LINE_PREFIX + JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Picks the records out of raw console text; other lines (kernel, shell) are ignored. */
export function parseRecords(consoleText: string): GuestRecord[] {
  const records: GuestRecord[] = [];
  for (const raw of consoleText.split('\n')) {
    const at = raw.indexOf(LINE_PREFIX);
    if (at < 0) continue;
    const json = raw.slice(at + LINE_PREFIX.length).replace(/\r$/, '');
    try {
      records.push(JSON.parse(json) as GuestRecord);
    } catch {
      // A kernel message can land in the middle of a long line; the case then counts as missing.
    }
  }
  return records;
}
