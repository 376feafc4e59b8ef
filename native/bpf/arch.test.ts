// The BPF object for each target architecture: bpf/build-skel.sh with x86 and with arm64 (the
// audit programs' syscall numbers and registers come from lib/syscall.h by __TARGET_ARCH_*),
// each giving the same programs and maps. This host's vmlinux.h describes x86_64, so the arm64
// build declares arm64's register struct itself (VT_FOREIGN_VMLINUX); CO-RE relocates it.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bpf = dirname(fileURLToPath(import.meta.url)); // native/bpf
const builtVmlinux = join(bpf, '../build/Release/obj/gen/bpf/vmlinux.h');
const tools = ['clang', 'llvm-strip', 'bpftool', 'llvm-objdump'];
const absent = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const reason = absent.length
  ? `needs ${absent.join(', ')}`
  : !existsSync(builtVmlinux) && !existsSync('/sys/kernel/btf/vmlinux')
    ? 'no vmlinux.h and no kernel BTF'
    : undefined;

/** SEC() names and their programs, and the maps, of an object (llvm-objdump's section headers and symbols). */
function shape(obj: string): { programs: string[]; maps: string[] } {
  const syms = spawnSync('llvm-objdump', ['-t', obj], { encoding: 'utf8' }).stdout.split('\n');
  const programs = syms
    .filter((l) => / g {5}F /.test(l))
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[f.length - 3]} ${f[f.length - 1]}`;
    });
  const maps = syms
    .filter((l) => /\.maps\s/.test(l) && / g /.test(l))
    .map((l) => l.trim().split(/\s+/).pop() as string);
  return { programs: programs.sort(), maps: maps.sort() };
}

(reason ? describe.skip : describe)(
  `the BPF object builds for x86 and arm64${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    let dir: string;
    const out = (arch: string) => join(dir, arch);

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'vt-bpf-arch-'));
      for (const arch of ['x86', 'arm64']) {
        // the build's vmlinux.h when there is one: no second BTF dump
        if (existsSync(builtVmlinux)) {
          spawnSync('mkdir', ['-p', out(arch)]);
          copyFileSync(builtVmlinux, join(out(arch), 'vmlinux.h'));
        }
      }
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(['x86', 'arm64'])(
      '%s: clang, strip and skeleton succeed without a warning',
      (arch) => {
        const r = spawnSync('sh', [join(bpf, 'build-skel.sh'), out(arch), arch], {
          encoding: 'utf8',
          timeout: 300_000,
        });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(existsSync(join(out(arch), 'varmor.skel.h'))).toBe(true);
      },
      300_000,
    );

    it('both objects hold the same programs and maps', () => {
      const x86 = shape(join(out('x86'), 'varmor.bpf.o'));
      const arm = shape(join(out('arm64'), 'varmor.bpf.o'));
      expect(x86.programs.length).toBeGreaterThanOrEqual(27);
      expect(x86.maps).toContain('vt_policies');
      expect(arm).toEqual(x86);
    });

    it('arm64 reads syscall arguments from user_pt_regs and the number from syscallno (CO-RE, in the BTF)', () => {
      const btf = spawnSync('bpftool', ['btf', 'dump', 'file', join(out('arm64'), 'varmor.bpf.o')], {
        encoding: 'utf8',
      }).stdout;
      expect(btf).toMatch(/STRUCT 'user_pt_regs'/);
      expect(btf).toMatch(/STRUCT 'pt_regs___vt_arm64'/);
      const x86 = spawnSync('bpftool', ['btf', 'dump', 'file', join(out('x86'), 'varmor.bpf.o')], {
        encoding: 'utf8',
      }).stdout;
      expect(x86).not.toMatch(/user_pt_regs|pt_regs___vt_arm64/);
    });
  },
);
