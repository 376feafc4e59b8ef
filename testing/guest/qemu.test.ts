// Host-side checks of the harness's failure paths: they must fail loudly and say why.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findKernel } from './kernel.js';
import { boot, QEMU } from './qemu.js';

const haveQemu = ['/usr/bin', '/usr/local/bin', '/bin'].some((d) => existsSync(`${d}/${QEMU}`));

describe('guest harness failure paths', () => {
  it('finds the newest vmlinuz-* in .cache/kernel without fetching anything', () => {
    const root = mkdtempSync(join(tmpdir(), 'guest-kernel-'));
    try {
      mkdirSync(join(root, '.cache', 'kernel'), { recursive: true });
      writeFileSync(join(root, '.cache', 'kernel', 'vmlinuz-6.1.0-55-amd64'), '');
      writeFileSync(join(root, '.cache', 'kernel', 'vmlinuz-6.1.0-56-amd64'), '');
      writeFileSync(join(root, '.cache', 'kernel', 'overlay.ko'), '');
      expect(findKernel(root)).toBe(join(root, '.cache', 'kernel', 'vmlinuz-6.1.0-56-amd64'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  (haveQemu ? it : it.skip)(`reports qemu's own error when the guest cannot boot (needs ${QEMU})`, async () => {
    const err = await boot({ kernel: '/nonexistent/vmlinuz', initrd: '/nonexistent/initrd', append: [], timeoutMs: 30_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'EGUESTCRASH', name: 'GuestRunError' });
    expect((err as Error).message).toMatch(/nonexistent/);
  }, 40_000);
});
