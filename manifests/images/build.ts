// Builds the project's container images as OCI layout tars, without Docker:
//   pause    the pod sandbox image (a static C pause binary), containerd's sandbox_image on the local cluster
//   busybox  the e2e suite's workload image (busybox-static and its applets)
//   product  varmor-ts itself: node and its shared libraries, dist/, bin/, the production node_modules,
//            the native addon when built, apparmor_parser and its abstractions, on a busybox base (a shell
//            for `kubectl exec` debugging)
// Usage: node --import ./testing/ts-loader.mjs manifests/images/build.ts [--out DIR] [pause|busybox|product ...]
// Prints one line per image: `<ref> <tar file>`.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyboxRootfs, hostFile, hostTree, writeOciImage, type WrittenImage } from './oci-image.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, PRODUCT_IMAGE } from './refs.js';
import { TarError, type TarEntry } from './tar.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
export const DEFAULT_OUT = join(ROOT, 'e2e/cluster/.work/images');
const APPARMOR_PARSER = '/usr/sbin/apparmor_parser';

export function buildPause(outDir: string): WrittenImage {
  const bin = join(outDir, 'pause');
  execFileSync('gcc', ['-static', '-O2', '-Wall', '-Wextra', '-s', '-o', bin, join(HERE, 'pause.c')], { stdio: 'inherit' });
  return writeOciImage(join(outDir, 'pause.tar'), {
    ref: PAUSE_IMAGE,
    entries: [hostFile(bin, 'pause', 0o755)],
    config: { Entrypoint: ['/pause'], User: '65535:65535' },
  });
}

export function buildBusybox(outDir: string): WrittenImage {
  return writeOciImage(join(outDir, 'busybox.tar'), { ref: BUSYBOX_IMAGE, entries: busyboxRootfs(), config: { Cmd: ['/bin/sh'] } });
}

/** A host binary (or addon) and its shared libraries (from ldd), at their paths, so it runs in the image. */
function binaryWithLibs(bin: string, dest: string, mode = 0o755): TarEntry[] {
  const out: TarEntry[] = [hostFile(bin, dest, mode)];
  const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) {
    const lib = m[1];
    out.push(hostFile(realpathSync(lib), lib));
  }
  return out;
}

/** Paths of the production dependency tree (npm's view: no devDependencies). */
function productionModules(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out
    .split('\n')
    .filter((p) => p && p !== ROOT && p.startsWith(join(ROOT, 'node_modules')))
    .map((p) => relative(ROOT, p));
}

export function buildProduct(outDir: string): WrittenImage {
  if (!existsSync(join(ROOT, 'dist'))) throw new TarError('TAR_BAD_ENTRY', 'dist/ is missing: run `npm run build` first', 'dist');
  const app = 'opt/varmor';
  const entries: TarEntry[] = [...busyboxRootfs(), ...binaryWithLibs(realpathSync(process.execPath), 'usr/local/bin/node')];
  // The agent loads AppArmor profiles with apparmor_parser where the kernel has AppArmor (kind on
  // Ubuntu hosts, say); the profiles include the standard abstractions and tunables.
  if (existsSync(APPARMOR_PARSER)) {
    entries.push(...binaryWithLibs(APPARMOR_PARSER, APPARMOR_PARSER.slice(1)));
    for (const dir of ['/etc/apparmor.d/abstractions', '/etc/apparmor.d/tunables', '/etc/apparmor.d/abi', '/etc/apparmor']) {
      if (existsSync(dir)) entries.push(...hostTree(dir, dir.slice(1)));
    }
  }
  entries.push(hostFile(join(ROOT, 'package.json'), `${app}/package.json`));
  entries.push(...hostTree(join(ROOT, 'dist'), `${app}/dist`, (p) => p.endsWith('.map') || /\.test\.js$/.test(p)));
  entries.push(...hostTree(join(ROOT, 'bin'), `${app}/bin`));
  const addon = join(ROOT, 'native/build/Release');
  if (existsSync(addon)) {
    // The addon links libbpf, libelf and zlib dynamically: they come along.
    for (const f of ['varmor_bpf.node']) {
      if (existsSync(join(addon, f))) entries.push(...binaryWithLibs(join(addon, f), `${app}/native/build/Release/${f}`, 0o644));
    }
  }
  // Nested node_modules of a package come with their own `npm ls` line; copy each package without them.
  for (const mod of productionModules()) {
    entries.push(...hostTree(join(ROOT, mod), `${app}/${mod}`, (p) => p !== join(ROOT, mod) && p.startsWith(join(ROOT, mod, 'node_modules'))));
  }
  return writeOciImage(join(outDir, 'varmor-ts.tar'), {
    ref: PRODUCT_IMAGE,
    entries,
    config: {
      Entrypoint: ['/usr/local/bin/node', `/${app}/bin/varmor.js`],
      WorkingDir: `/${app}`,
      Env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', 'NODE_ENV=production'],
      Labels: { 'org.opencontainers.image.title': 'varmor-ts', 'org.opencontainers.image.source': 'varmor-ts' },
    },
  });
}

const BUILDERS: Record<string, (out: string) => WrittenImage> = { pause: buildPause, busybox: buildBusybox, product: buildProduct };

export function buildImages(names: string[], outDir = DEFAULT_OUT): WrittenImage[] {
  mkdirSync(outDir, { recursive: true });
  return names.map((n) => {
    const b = BUILDERS[n];
    if (!b) throw new TarError('TAR_BAD_ENTRY', `unknown image ${JSON.stringify(n)} (known: ${Object.keys(BUILDERS).join(', ')})`, 'image');
    return b(outDir);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let out = DEFAULT_OUT;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = resolve(args[++i] ?? '');
    else names.push(args[i]);
  }
  try {
    for (const img of buildImages(names.length ? names : Object.keys(BUILDERS), out)) {
      console.log(`${img.ref} ${img.file} ${(statSync(img.file).size / 1e6).toFixed(1)} MB`);
    }
  } catch (err) {
    console.error(`images: ${(err as Error).message}`);
    process.exit(1);
  }
}
