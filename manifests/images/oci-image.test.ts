// The OCI layout writer against real readers: GNU tar unpacks the archives (long PAX paths included),
// every blob's name is its SHA-256, and a real containerd imports the image under its ref and runs it.

import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, writeOciImage } from './oci-image.js';
import { TarError } from './tar.js';

const tmp = mkdtempSync(join(tmpdir(), 'oci-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function unpack(tar: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xf', tar, '-C', dir]);
  return dir;
}

describe('writeOciImage', () => {
  const longName = `opt/${'a'.repeat(60)}/${'b'.repeat(60)}/file.txt`;
  const img = writeOciImage(join(tmp, 'bb.tar'), {
    ref: 'localhost/varmor/busybox:test',
    entries: [...busyboxRootfs(), { path: longName, type: 'file', data: 'long\n' }, { path: 'opt/link', type: 'symlink', linkname: `/${longName}` }],
    config: { Cmd: ['/bin/sh'] },
  });
  const layout = unpack(img.file, join(tmp, 'layout'));

  it('writes an OCI layout whose index names the image by its ref', () => {
    expect(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('localhost/varmor/busybox:test');
    expect(index.manifests[0].digest).toBe(img.manifestDigest);
  });

  it('names every blob by its content digest, and the config lists the layer as its diff_id', () => {
    const blobs = join(layout, 'blobs/sha256');
    for (const f of readdirSync(blobs)) expect(sha(join(blobs, f))).toBe(f);
    const manifest = JSON.parse(readFileSync(join(blobs, img.manifestDigest.slice(7)), 'utf8'));
    const config = JSON.parse(readFileSync(join(blobs, manifest.config.digest.slice(7)), 'utf8'));
    expect(config.rootfs.diff_ids).toEqual([img.layerDigest]);
    expect(manifest.layers[0].digest).toBe(img.layerDigest);
  });

  it('writes a layer GNU tar unpacks: busybox, applet symlinks, PAX long names', () => {
    const rootfs = unpack(join(layout, 'blobs/sha256', img.layerDigest.slice(7)), join(tmp, 'rootfs'));
    expect(readlinkSync(join(rootfs, 'bin/sh'))).toBe('../bin/busybox');
    expect(readFileSync(join(rootfs, longName), 'utf8')).toBe('long\n');
    expect(readlinkSync(join(rootfs, 'opt/link'))).toBe(`/${longName}`);
    expect(execFileSync(join(rootfs, 'bin/busybox'), ['echo', 'ok'], { encoding: 'utf8' })).toBe('ok\n');
  });

  it('rejects a ref without a tag, naming the field', () => {
    expect(() => writeOciImage(join(tmp, 'x.tar'), { ref: 'busybox', entries: [] })).toThrow(TarError);
    try {
      writeOciImage(join(tmp, 'x.tar'), { ref: 'busybox', entries: [] });
    } catch (err) {
      expect((err as TarError).field).toBe('ref');
    }
  });

  const haveContainerd = existsSync('/usr/bin/containerd') && existsSync('/usr/bin/ctr');
  (haveContainerd ? it : it.skip)('is imported by a real containerd and runs (skipped without containerd)', async () => {
    const dir = join(tmp, 'ctrd');
    mkdirSync(dir);
    const sock = join(dir, 'c.sock');
    writeFileSync(
      join(dir, 'config.toml'),
      `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n` +
        `[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`,
    );
    const d = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      const ctr = (...a: string[]): string => execFileSync('ctr', ['-a', sock, '-n', 'test', ...a], { encoding: 'utf8' });
      ctr('image', 'import', img.file);
      expect(ctr('image', 'ls', '-q')).toContain('localhost/varmor/busybox:test');
      expect(ctr('run', '--rm', 'localhost/varmor/busybox:test', 'oci-test-run', 'cat', '/opt/link')).toBe('long\n');
    } finally {
      d.kill('SIGTERM');
      await new Promise((r) => d.once('exit', r));
    }
  });
});
