// Writes container images as OCI image-layout tar archives without a Docker daemon: one uncompressed layer
// per image (its digest is also its diff_id), a config, a manifest and an index whose
// `org.opencontainers.image.ref.name` annotation is the full image reference, which is the name
// `ctr -n k8s.io image import` gives the image (and `kind load image-archive` too).
// Rootfs helpers: a busybox-static rootfs with applet symlinks (test images, the pause image's base)
// and a copy of a host directory tree (the product image's dist/ and node_modules/).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { TarError, TarWriter, type TarEntry } from './tar.js';

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
}

export interface ImageSpec {
  /** Full reference, e.g. `localhost/varmor/busybox:e2e`. */
  ref: string;
  entries: TarEntry[];
  config?: ImageConfig;
}

export interface WrittenImage {
  ref: string;
  file: string;
  manifestDigest: string;
  layerDigest: string;
  layerSize: number;
}

const REF_RE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[\w][\w.-]{0,127}$/;

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Writes `spec` as an OCI layout tar at `outFile`. */
export function writeOciImage(outFile: string, spec: ImageSpec): WrittenImage {
  if (!REF_RE.test(spec.ref)) {
    throw new TarError('TAR_BAD_ENTRY', `image ref ${JSON.stringify(spec.ref)} must be host/path:tag (lower case), e.g. localhost/varmor/busybox:e2e`, 'ref');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'oci-'));
  try {
    const layerFile = join(tmp, 'layer.tar');
    const layer = new TarWriter(layerFile);
    for (const e of normalise(spec.entries)) layer.add(e);
    const { sha256: layerSha, size: layerSize } = layer.finish();

    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '2023-11-14T22:13:20Z',
        config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'], ...spec.config },
        rootfs: { type: 'layers', diff_ids: [`sha256:${layerSha}`] },
        history: [{ created: '2023-11-14T22:13:20Z', created_by: 'varmor-ts manifests/images/oci-image.ts' }],
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerSha}`, size: layerSize }],
      }),
    );
    const manifestDigest = `sha256:${sha256(manifest)}`;
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: manifestDigest,
            size: manifest.length,
            annotations: { 'org.opencontainers.image.ref.name': spec.ref, 'io.containerd.image.name': spec.ref },
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      }),
    );
    const out = new TarWriter(outFile);
    out.add({ path: 'oci-layout', type: 'file', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) });
    out.add({ path: 'index.json', type: 'file', data: index });
    out.add({ path: 'blobs', type: 'dir' });
    out.add({ path: 'blobs/sha256', type: 'dir' });
    out.add({ path: `blobs/sha256/${sha256(config)}`, type: 'file', data: config });
    out.add({ path: `blobs/sha256/${manifestDigest.slice(7)}`, type: 'file', data: manifest });
    out.add({ path: `blobs/sha256/${layerSha}`, type: 'file', source: layerFile, size: layerSize });
    out.finish();
    return { ref: spec.ref, file: outFile, manifestDigest, layerDigest: `sha256:${layerSha}`, layerSize };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Adds parent directories that are missing and drops duplicates (the last entry for a path wins). */
function normalise(entries: TarEntry[]): TarEntry[] {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const p = posix.normalize(e.path.replace(/^\/+/, '')).replace(/\/$/, '');
    for (let d = posix.dirname(p); d !== '.' && !byPath.has(d); d = posix.dirname(d)) byPath.set(d, { path: d, type: 'dir' });
    byPath.set(p, { ...e, path: p });
  }
  // Parents before children: sorting by path puts `a` before `a/b`.
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export const BUSYBOX = '/bin/busybox';

/** A minimal rootfs: a static busybox, a symlink per applet, /etc/passwd and /etc/group, writable /tmp. */
export function busyboxRootfs(busybox = BUSYBOX): TarEntry[] {
  let applets: string[];
  try {
    applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (err) {
    throw new TarError('TAR_BAD_ENTRY', `${busybox} --list-full failed (apt-get install busybox-static): ${(err as Error).message}`, 'source');
  }
  const entries: TarEntry[] = [
    { path: 'bin/busybox', type: 'file', source: busybox, size: statSync(busybox).size, mode: 0o755 },
    { path: 'etc/passwd', type: 'file', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' },
    { path: 'etc/group', type: 'file', data: 'root:x:0:\nnobody:x:65534:\n' },
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'root', type: 'dir', mode: 0o700 },
    { path: 'proc', type: 'dir' },
    { path: 'sys', type: 'dir' },
    { path: 'dev', type: 'dir' },
    { path: 'var/run', type: 'dir' },
  ];
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    const depth = a.split('/').length - 1;
    entries.push({ path: a, type: 'symlink', linkname: `${'../'.repeat(depth)}bin/busybox` });
  }
  return entries;
}

/** Entries copying the host tree `src` to `dest` in the image; `skip` filters by host path. */
export function hostTree(src: string, dest: string, skip: (hostPath: string) => boolean = () => false): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (host: string, inImage: string): void => {
    if (skip(host)) return;
    const st = lstatSync(host);
    if (st.isSymbolicLink()) {
      out.push({ path: inImage, type: 'symlink', linkname: readlinkSync(host) });
    } else if (st.isDirectory()) {
      out.push({ path: inImage, type: 'dir', mode: st.mode & 0o777 });
      for (const name of readdirSync(host).sort()) walk(join(host, name), `${inImage}/${name}`);
    } else if (st.isFile()) {
      out.push({ path: inImage, type: 'file', source: host, size: st.size, mode: st.mode & 0o777 });
    }
  };
  walk(src, dest.replace(/^\/+/, ''));
  return out;
}

/** A host file at the same or another path in the image. */
export function hostFile(src: string, dest: string, mode?: number): TarEntry {
  const st = statSync(src);
  return { path: dest.replace(/^\/+/, ''), type: 'file', source: src, size: st.size, mode: mode ?? st.mode & 0o777 };
}
