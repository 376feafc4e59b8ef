// Holds native/varmor_tables.h and profiler/bpf/layout.ts together: a C program compiled
// against the header prints sizeof/offsetof of every struct, and each must equal the TS table
// the encoder writes through. Needs gcc and linux/types.h (linux-libc-dev).

import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '../profiler/bpf/layout.js';

const here = dirname(fileURLToPath(import.meta.url));

function cProgram(): string {
  const lines: string[] = ['#include <stdio.h>', '#include <stddef.h>', '#include "varmor_tables.h"', 'int main(void) {'];
  for (const [name, def] of Object.entries(L.LAYOUT)) {
    lines.push(`  printf("${name} size %zu\\n", sizeof(struct ${name}));`);
    for (const field of Object.keys(def.o)) lines.push(`  printf("${name} ${field} %zu\\n", offsetof(struct ${name}, ${field}));`);
  }
  // constants the encoder and the kernel must agree on
  const consts = Object.entries(L).filter(([k, v]) => /^VT_/.test(k) && typeof v === 'number');
  for (const [k] of consts) lines.push(`  printf("const ${k} %lld\\n", (long long)(${k}));`);
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

function runC(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'vt-layout-'));
  try {
    writeFileSync(join(dir, 'layout.c'), cProgram());
    execFileSync('gcc', ['-Wall', '-Werror', '-I', here, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
    const m = new Map<string, number>();
    for (const line of out.trim().split('\n')) {
      const parts = line.split(' ');
      m.set(parts.slice(0, -1).join(' '), Number(parts[parts.length - 1]));
    }
    return m;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('varmor_tables.h <-> profiler/bpf/layout.ts', () => {
  const c = runC();

  it.each(Object.keys(L.LAYOUT))('struct %s: sizeof and every offsetof match', (name) => {
    const def = L.LAYOUT[name as keyof typeof L.LAYOUT];
    expect({ size: c.get(`${name} size`), ...Object.fromEntries(Object.keys(def.o).map((f) => [f, c.get(`${name} ${f}`)])) }).toEqual({
      size: def.size,
      ...def.o,
    });
  });

  it('every numeric VT_ constant has the header value', () => {
    const consts = Object.entries(L).filter(([k, v]) => /^VT_/.test(k) && typeof v === 'number') as [string, number][];
    expect(consts.length).toBeGreaterThan(30);
    for (const [k, v] of consts) expect([k, c.get(`const ${k}`)]).toEqual([k, v]);
  });

  it('section type numbers match the header enum', () => {
    const src = Object.entries(L.VT_SEC).map(([k, v]) => [`VT_SEC_${k}`, v]);
    const dir = mkdtempSync(join(tmpdir(), 'vt-sec-'));
    try {
      writeFileSync(
        join(dir, 's.c'),
        ['#include <stdio.h>', '#include "varmor_tables.h"', 'int main(void) {', ...src.map(([k]) => `printf("%d\\n", ${k});`), 'return 0; }'].join('\n'),
      );
      execFileSync('gcc', ['-I', here, '-o', join(dir, 's'), join(dir, 's.c')]);
      const out = execFileSync(join(dir, 's'), { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(out).toEqual(src.map(([, v]) => v));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hook names are in enum vt_hook order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vt-hook-'));
    try {
      const names = ['FILE_OPEN', 'EXEC', 'PATH_UNLINK', 'PATH_RENAME', 'PATH_LINK', 'PATH_CHMOD', 'CAPABLE', 'SOCKET_CREATE', 'SOCKET_CONNECT', 'SETSOCKOPT', 'PTRACE', 'MOUNT', 'UMOUNT', 'MOVE_MOUNT', 'BPF', 'USERNS_CREATE', 'PATH_SYMLINK', 'PATH_TRUNCATE'];
      writeFileSync(
        join(dir, 'h.c'),
        ['#include <stdio.h>', '#include "varmor_tables.h"', 'int main(void) {', ...names.map((n) => `printf("%d\\n", VT_HOOK_${n});`), 'return 0; }'].join('\n'),
      );
      execFileSync('gcc', ['-I', here, '-o', join(dir, 'h'), join(dir, 'h.c')]);
      const out = execFileSync(join(dir, 'h'), { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(out.map((n) => L.VT_HOOKS[n])).toEqual(names.map((n) => n.toLowerCase()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
