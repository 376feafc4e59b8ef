// Builds the guest's initramfs: busybox-static and its applets, node and the shared libraries
// ldd lists, runc, the static vprobe helper, the built addon, and the bundled guest code under
// /app. The image is cached under .cache/guest/ by a hash of everything that goes in, so an
// unchanged tree reuses it (node alone is 98 MB; gzip -1 keeps packing at about 2 s).

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { bundle } from './bundle.js';
import { GuestBuildError, GuestUnavailableError } from './errors.js';
import { overlayModule } from './kernel.js';

export interface Entry {
  /** Absolute path inside the guest. */
  dest: string;
  mode: number;
  src?: string;
  content?: string | Buffer;
  symlink?: string;
}

export interface InitramfsOptions {
  repoRoot: string;
  /** suite name -> scenario files (repository-relative .ts paths). */
  suites: Record<string, string[]>;
  /** The booted kernel's overlay.ko (default: the default kernel's). */
  overlayModule?: string;
}

const GUEST_DIR = 'testing/guest';
export const ADDON_REL = 'native/build/Release/varmor_bpf.node';

/** The addon the guest gets: the tree's build, or another build named by VARMOR_GUEST_ADDON (to test a given .node). */
export function addonSource(repoRoot: string): string {
  return process.env.VARMOR_GUEST_ADDON ?? join(repoRoot, ADDON_REL);
}

function which(bin: string): string {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (existsSync(join(dir, bin))) return join(dir, bin);
  }
  throw new GuestUnavailableError(`'${bin}' is not installed on the host (scripts/setup.sh installs it)`);
}

/** The shared libraries (and the loader) a dynamic ELF needs, as ldd resolves them here. */
export function sharedLibs(file: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [file], { encoding: 'utf8' });
  } catch {
    return []; // static binaries: ldd exits 1 with "not a dynamic executable"
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
    else if (/not found/.test(line)) throw new GuestBuildError(`ldd ${file}: ${line.trim()}`);
  }
  return libs;
}

function binaryWithLibs(src: string, dest: string): Entry[] {
  const entries: Entry[] = [{ dest, src: realpathSync(src), mode: 0o755 }];
  for (const lib of sharedLibs(src)) entries.push({ dest: lib, src: realpathSync(lib), mode: 0o755 });
  return entries;
}

/** vprobe is compiled once per source version (gcc -static, about 1 s) and kept in the cache. */
function buildProbe(repoRoot: string, cacheDir: string): string {
  const source = join(repoRoot, GUEST_DIR, 'guest', 'probe.c');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const out = join(cacheDir, `vprobe-${hash}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.${process.pid}`;
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-static', '-o', tmp, source], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new GuestBuildError(`gcc -static ${source} failed: ${err.stderr?.toString() ?? String(e)}`);
  }
  renameSync(tmp, out);
  return out;
}

function busyboxEntries(): Entry[] {
  const busybox = which('busybox');
  const list = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const entries: Entry[] = [{ dest: '/bin/busybox', src: busybox, mode: 0o755 }];
  for (const applet of list) entries.push({ dest: `/${applet}`, symlink: '/bin/busybox', mode: 0o777 });
  return entries;
}

/**
 * AppArmor's parser and what our profiles include: the abi, tunables and abstractions trees, the
 * parser's configuration and the feature set it pins (Debian's parser.conf names it). The
 * guest kernel boots with AppArmor (qemu.ts), and the agent's loader runs this parser there.
 */
const APPARMOR_TREES = ['/etc/apparmor.d/abi', '/etc/apparmor.d/tunables', '/etc/apparmor.d/abstractions'];
const APPARMOR_FILES = ['/etc/apparmor/parser.conf', '/usr/share/apparmor-features/features'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.isFile() ? [join(dir, d.name)] : [],
  );
}

function appArmorEntries(): Entry[] {
  const entries = binaryWithLibs(which('apparmor_parser'), '/usr/sbin/apparmor_parser');
  for (const f of [...APPARMOR_TREES.flatMap(filesUnder), ...APPARMOR_FILES]) {
    if (!existsSync(f)) throw new GuestUnavailableError(`${f} is missing (scripts/setup.sh installs the apparmor package)`);
    entries.push({ dest: f, src: f, mode: 0o644 });
  }
  return entries;
}

export function manifest(opts: InitramfsOptions, cacheDir: string): Entry[] {
  const { repoRoot } = opts;
  const entries: Entry[] = [];
  entries.push({ dest: '/init', src: join(repoRoot, GUEST_DIR, 'guest', 'init.sh'), mode: 0o755 });
  entries.push(...busyboxEntries());
  entries.push(...binaryWithLibs(which('node'), '/usr/bin/node'));
  entries.push(...binaryWithLibs(which('runc'), '/usr/sbin/runc'));
  entries.push(...appArmorEntries());
  entries.push({ dest: '/usr/local/bin/vprobe', src: buildProbe(repoRoot, cacheDir), mode: 0o755 });
  // init.sh loads it: the guest's containers and the overlay cases need overlay mounts
  const overlay = opts.overlayModule ?? overlayModule(repoRoot);
  if (existsSync(overlay)) entries.push({ dest: '/lib/modules/overlay.ko', src: overlay, mode: 0o644 });

  const addon = addonSource(repoRoot);
  if (existsSync(addon)) {
    entries.push({ dest: `/app/${ADDON_REL}`, src: addon, mode: 0o755 });
    for (const lib of sharedLibs(addon)) entries.push({ dest: lib, src: realpathSync(lib), mode: 0o755 });
  }

  const scenarioFiles = Object.values(opts.suites).flat();
  const files = bundle(repoRoot, [`${GUEST_DIR}/guest/runner.ts`, ...scenarioFiles]);
  for (const f of files) {
    entries.push(f.copyFrom ? { dest: `/app/${f.rel}`, src: f.copyFrom, mode: 0o755 } : { dest: `/app/${f.rel}`, content: f.text ?? '', mode: 0o644 });
  }
  const suites: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(opts.suites)) suites[name] = list.map((f) => `/app/${f.replace(/\.ts$/, '.js')}`);
  entries.push({ dest: '/app/suites.json', content: JSON.stringify(suites), mode: 0o644 });
  entries.push({ dest: '/app/package.json', content: '{"type":"module"}\n', mode: 0o644 });

  // A minimal /etc: root's account, and /etc/passwd- beside /etc/passwd for the exact-path case.
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
  entries.push({ dest: '/etc/passwd', content: passwd, mode: 0o644 });
  entries.push({ dest: '/etc/passwd-', content: passwd, mode: 0o644 });
  entries.push({ dest: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n', mode: 0o644 });
  entries.push({ dest: '/etc/hostname', content: 'varmor-guest\n', mode: 0o644 });
  return entries;
}

function contentHash(e: Entry, fileHashes: Map<string, string>): string {
  if (e.symlink !== undefined) return `link:${e.symlink}`;
  if (e.content !== undefined) return createHash('sha256').update(e.content).digest('hex');
  const src = e.src as string;
  let h = fileHashes.get(src);
  if (!h) {
    h = createHash('sha256').update(readFileSync(src)).digest('hex');
    fileHashes.set(src, h);
  }
  return h;
}

const STANDARD_DIRS = ['/proc', '/sys', '/dev', '/tmp', '/run', '/mnt', '/root', '/var', '/sys/fs/cgroup'];

function stage(entries: Entry[], dir: string): void {
  for (const d of STANDARD_DIRS) mkdirSync(join(dir, d), { recursive: true });
  const seen = new Set<string>();
  // Real files first, so an applet link never shadows a real binary of the same name.
  const ordered = [...entries.filter((e) => e.symlink === undefined), ...entries.filter((e) => e.symlink !== undefined)];
  for (const e of ordered) {
    if (seen.has(e.dest)) continue;
    seen.add(e.dest);
    const target = join(dir, e.dest);
    mkdirSync(dirname(target), { recursive: true });
    if (e.symlink !== undefined) symlinkSync(e.symlink, target);
    else {
      if (e.src) copyFileSync(e.src, target);
      else writeFileSync(target, e.content ?? '');
      chmodSync(target, e.mode);
    }
  }
}

/** Returns the path of a gzip'ed newc cpio with everything the guest needs, building it if needed. */
export function buildInitramfs(opts: InitramfsOptions): string {
  const cacheDir = join(opts.repoRoot, '.cache', 'guest');
  mkdirSync(cacheDir, { recursive: true });
  const entries = manifest(opts, cacheDir);
  const hash = createHash('sha256');
  const fileHashes = new Map<string, string>();
  for (const e of [...entries].sort((a, b) => a.dest.localeCompare(b.dest))) {
    hash.update(`${e.dest}\0${e.mode}\0${contentHash(e, fileHashes)}\n`);
  }
  const key = hash.digest('hex').slice(0, 16);
  const out = join(cacheDir, `initrd-${key}.gz`);
  if (existsSync(out)) return out;

  const stageDir = join(cacheDir, `stage-${process.pid}`);
  rmSync(stageDir, { recursive: true, force: true });
  try {
    stage(entries, stageDir);
    const tmp = `${out}.${process.pid}`;
    // busybox provides cpio (Debian's cpio package is not installed here).
    execFileSync('sh', ['-c', `find . | "${which('busybox')}" cpio -o -H newc 2>/dev/null | gzip -1 > "${tmp}"`], {
      cwd: stageDir,
      stdio: 'pipe',
    });
    renameSync(tmp, out);
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
  // Older images are of no further use; keep the cache to the current one and one before.
  const old = readdirSync(cacheDir)
    .filter((f) => /^initrd-[0-9a-f]+\.gz$/.test(f) && join(cacheDir, f) !== out)
    .map((f) => join(cacheDir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  for (const f of old.slice(0, Math.max(0, old.length - 1))) rmSync(f, { force: true });
  return out;
}
