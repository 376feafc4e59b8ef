// The plain-C loader without Node: builds test/loader_test.c with ../loader.c against the
// skeleton `npm run build:native` generated, and runs it on this machine's kernel (audit mode:
// the host refuses BPF LSM but loads tp_btf programs). Each line it prints is one check; a
// missing prerequisite (root, the kernel's BTF, gcc, the build) is a visible skip with its reason.

import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url))); // native/
const gen = join(here, 'build/Release/obj/gen/bpf');

function missing(): string | undefined {
  if (!existsSync(join(gen, 'varmor.skel.h'))) return 'no skeleton: run npm run build:native';
  if (spawnSync('gcc', ['--version']).status !== 0) return 'no gcc';
  if (process.getuid?.() !== 0) return 'not root: loading BPF programs needs CAP_BPF';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no /sys/kernel/btf/vmlinux';
  return undefined;
}

const reason = missing();

describe('native/loader.c driven from C (test/loader_test.c)', () => {
  (reason ? it.skip : it)(
    `attach, tables with a generation swap, bindings, errors${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'vt-loader-test-'));
      try {
        const bin = join(dir, 'loader_test');
        const cc = spawnSync(
          'gcc',
          [
            '-std=gnu11',
            '-Wall',
            '-Werror',
            '-Wno-missing-field-initializers',
            `-I${here}`,
            `-I${gen}`,
            join(here, 'test/loader_test.c'),
            join(here, 'loader.c'),
            '-lbpf',
            '-lelf',
            '-lz',
            '-o',
            bin,
          ],
          { encoding: 'utf8' },
        );
        expect(cc.stderr).toBe('');
        expect(cc.status).toBe(0);
        const run = spawnSync(bin, [], { encoding: 'utf8', timeout: 60_000 });
        const lines = run.stdout.split('\n').filter((l) => /^(not ok|ok|SKIP) - /.test(l));
        // the C program's own skip would mean this wrapper let a missing prerequisite through
        expect(lines.filter((l) => l.startsWith('SKIP'))).toEqual([]);
        expect(lines.filter((l) => l.startsWith('not ok'))).toEqual([]);
        expect(lines.length).toBeGreaterThanOrEqual(25);
        expect(run.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
