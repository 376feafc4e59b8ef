// Finds a guest kernel: a Debian linux-image package's vmlinuz, with the one module the guest
// loads (overlay.ko: containers' root file systems are overlay mounts). The default kernel (Debian
// 12's own 6.1) lives in .cache/kernel/, which scripts/setup.sh fills; others in
// .cache/kernels/<package>/. When a file is missing it is fetched the same way (apt-get download,
// then only those two files out of the .deb: the package is never installed on the host).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GuestUnavailableError } from './errors.js';

export const GUEST_KERNEL_PKG = process.env.GUEST_KERNEL_PKG ?? 'linux-image-6.1.0-56-amd64';

/**
 * The kernels the enforcement suite runs on: Debian 12's own 6.1 LTS, and the 6.12 LTS that Debian
 * 12 also ships, whose verifier is stricter and whose structures moved (CO-RE must carry the
 * programs across both).
 */
export const GUEST_KERNEL_PKGS = [GUEST_KERNEL_PKG, process.env.GUEST_KERNEL_PKG_NEW ?? 'linux-image-6.12.117+deb12-amd64'];

/** Where a kernel package's two files are kept. */
export function kernelDir(repoRoot: string, pkg = GUEST_KERNEL_PKG): string {
  return pkg === GUEST_KERNEL_PKG ? join(repoRoot, '.cache', 'kernel') : join(repoRoot, '.cache', 'kernels', pkg);
}

/** The overlayfs module that goes with a guest kernel (see findKernel, which fetches it). */
export function overlayModule(repoRoot: string, pkg = GUEST_KERNEL_PKG): string {
  return join(kernelDir(repoRoot, pkg), 'overlay.ko');
}

function findIn(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir).filter((f) => f.startsWith('vmlinuz-')).sort();
  return found.length ? join(dir, found[found.length - 1]) : undefined;
}

export function findKernel(repoRoot: string, pkg = GUEST_KERNEL_PKG): string {
  const dir = kernelDir(repoRoot, pkg);
  const have = findIn(dir);
  if (have && existsSync(overlayModule(repoRoot, pkg))) return have;
  mkdirSync(dir, { recursive: true });
  try {
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: dir, stdio: 'pipe' });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe' });
      execFileSync('apt-get', ['download', pkg], { cwd: dir, stdio: 'pipe' });
    }
    const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download left no .deb');
    // Newer kernel packages compress their modules (overlay.ko.xz).
    execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile "${deb}" | tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/fs/overlayfs/overlay.ko*'`], {
      cwd: dir,
      stdio: 'pipe',
    });
    for (const f of readdirSync(join(dir, 'boot'))) renameSync(join(dir, 'boot', f), join(dir, f));
    for (const release of readdirSync(join(dir, 'lib', 'modules'))) {
      const moduleDir = join(dir, 'lib', 'modules', release, 'kernel', 'fs', 'overlayfs');
      if (existsSync(join(moduleDir, 'overlay.ko.xz'))) execFileSync('xz', ['-d', join(moduleDir, 'overlay.ko.xz')], { stdio: 'pipe' });
      renameSync(join(moduleDir, 'overlay.ko'), overlayModule(repoRoot, pkg));
    }
    rmSync(join(dir, 'boot'), { recursive: true, force: true });
    rmSync(join(dir, 'lib'), { recursive: true, force: true });
    rmSync(join(dir, deb), { force: true });
  } catch (e) {
    throw new GuestUnavailableError(`no guest kernel in ${dir} and fetching ${pkg} failed (run scripts/setup.sh): ${(e as Error).message}`);
  }
  const got = findIn(dir);
  if (!got) throw new GuestUnavailableError(`fetched ${pkg} but found no vmlinuz-* in ${dir}`);
  return got;
}

/** The release a kernel image reports (`uname -r`), from its file name: vmlinuz-6.12.117+deb12-amd64 -> 6.12.117+deb12-amd64. */
export function kernelRelease(vmlinuz: string): string {
  return vmlinuz.replace(/^.*\/vmlinuz-/, '');
}
