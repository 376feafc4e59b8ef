// A small streaming POSIX tar (ustar + PAX) writer: image layers and OCI layout archives are plain tars,
// and this keeps the image build free of Docker, buildah or an npm tar package. Entries go straight to a
// file descriptor (the product layer holds node and node_modules: tens of MB) while a SHA-256 runs over
// the bytes, which is the layer's digest and diff_id (layers are stored uncompressed).

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface TarEntry {
  /** Path inside the archive, without a leading slash (`bin/busybox`, `etc/`). */
  path: string;
  type: EntryType;
  mode?: number;
  /** File contents, or a host file to copy (`source`). */
  data?: Buffer | string;
  source?: string;
  size?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
}

export class TarError extends Error {
  override readonly name = 'TarError';
  constructor(
    readonly code: 'TAR_BAD_ENTRY',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const BLOCK = 512;
// A fixed mtime keeps layer digests reproducible across builds.
const MTIME = 1_700_000_000;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, typeflag: string, mode: number, linkname: string, uid: number, gid: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function paxRecord(key: string, value: string): string {
  // The length prefix counts itself, so iterate until it is stable.
  const body = ` ${key}=${value}\n`;
  const base = Buffer.byteLength(body);
  let len = base + 1;
  while (len !== base + String(len).length) len = base + String(len).length;
  return `${len}${body}`;
}

export class TarWriter {
  private readonly fd: number;
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private closed = false;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w');
  }

  private write(buf: Buffer): void {
    writeSync(this.fd, buf);
    this.hash.update(buf);
    this.bytes += buf.length;
  }

  private pad(size: number): void {
    const rem = size % BLOCK;
    if (rem) this.write(Buffer.alloc(BLOCK - rem));
  }

  add(e: TarEntry): void {
    if (!e.path || e.path.startsWith('/')) throw new TarError('TAR_BAD_ENTRY', `tar entry path must be relative, got ${JSON.stringify(e.path)}`, 'path');
    const name = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const linkname = e.linkname ?? '';
    if (e.type === 'symlink' && !linkname) throw new TarError('TAR_BAD_ENTRY', `symlink ${name} has no linkname`, 'linkname');
    const data = e.type === 'file' && e.data !== undefined ? Buffer.from(e.data) : undefined;
    const size = e.type === 'file' ? (data?.length ?? e.size ?? 0) : 0;
    if (e.type === 'file' && data === undefined && e.source === undefined) {
      throw new TarError('TAR_BAD_ENTRY', `file ${name} has neither data nor source`, 'data');
    }
    const pax: string[] = [];
    if (Buffer.byteLength(name) > 99) pax.push(paxRecord('path', name));
    if (Buffer.byteLength(linkname) > 99) pax.push(paxRecord('linkpath', linkname));
    if (pax.length) {
      const body = Buffer.from(pax.join(''));
      this.write(header('PaxHeader', body.length, 'x', 0o644, '', 0, 0));
      this.write(body);
      this.pad(body.length);
    }
    const typeflag = e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2';
    const mode = e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644);
    this.write(header(name.slice(0, 99), size, typeflag, mode, linkname.slice(0, 99), e.uid ?? 0, e.gid ?? 0));
    if (e.type !== 'file') return;
    if (data) {
      this.write(data);
    } else {
      this.copyFile(e.source as string, size);
    }
    this.pad(size);
  }

  private copyFile(source: string, size: number): void {
    const fd = openSync(source, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      let left = size;
      while (left > 0) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
        if (n === 0) throw new TarError('TAR_BAD_ENTRY', `${source} shrank while being archived`, 'source');
        this.write(buf.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Writes the end-of-archive blocks; returns the archive's sha256 (hex) and size. */
  finish(): { sha256: string; size: number } {
    if (!this.closed) {
      this.write(Buffer.alloc(BLOCK * 2));
      closeSync(this.fd);
      this.closed = true;
    }
    return { sha256: this.hash.digest('hex'), size: this.bytes };
  }
}
