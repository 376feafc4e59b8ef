// Finds the guest kernel: Debian's linux-image-6.1 vmlinuz in .cache/kernel/, with the one module
// the guest loads (overlay.ko: containers' root file systems are overlay mounts), which
// scripts/setup.sh fetches. When either is missing, fetches them the same way (apt-get download,
// then only those two files out of the .deb: the package is never installed on the host).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GuestUnavailableError } from './errors.js';

export const GUEST_KERNEL_PKG = process.env.GUEST_KERNEL_PKG ?? 'linux-image-6.1.0-56-amd64';

function findIn(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir).filter((f) => f.startsWith('vmlinuz-')).sort();
  return found.length ? join(dir, found[found.length - 1]) : undefined;
}

/** The overlayfs module that goes with the guest kernel (see findKernel, which fetches it). */
export function overlayModule(repoRoot: string): string {
  return join(repoRoot, '.cache', 'kernel', 'overlay.ko');
}

export function findKernel(repoRoot: string): string {
  const dir = join(repoRoot, '.cache', 'kernel');
  const have = findIn(dir);
  if (have && existsSync(overlayModule(repoRoot))) return have;
  mkdirSync(dir, { recursive: true });
  try {
    try {
      execFileSync('apt-get', ['download', GUEST_KERNEL_PKG], { cwd: dir, stdio: 'pipe' });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe' });
      execFileSync('apt-get', ['download', GUEST_KERNEL_PKG], { cwd: dir, stdio: 'pipe' });
    }
    const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download left no .deb');
    execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/overlay.ko'`], {
      cwd: dir,
      stdio: 'pipe',
    });
    for (const f of readdirSync(join(dir, 'boot'))) renameSync(join(dir, 'boot', f), join(dir, f));
    for (const release of readdirSync(join(dir, 'lib', 'modules'))) {
      renameSync(join(dir, 'lib', 'modules', release, 'kernel', 'fs', 'overlayfs', 'overlay.ko'), overlayModule(repoRoot));
    }
    rmSync(join(dir, 'boot'), { recursive: true, force: true });
    rmSync(join(dir, 'lib'), { recursive: true, force: true });
    rmSync(join(dir, deb), { force: true });
  } catch (e) {
    throw new GuestUnavailableError(
      `no guest kernel in ${dir} and fetching ${GUEST_KERNEL_PKG} failed (run scripts/setup.sh): ${(e as Error).message}`,
    );
  }
  const got = findIn(dir);
  if (!got) throw new GuestUnavailableError(`fetched ${GUEST_KERNEL_PKG} but found no vmlinuz-* in ${dir}`);
  return got;
}
