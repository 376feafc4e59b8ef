import { describe, it, expect } from '@jest/globals';
import fs from 'node:fs';
import { cgroup2MountFromMountinfo, unifiedPathFromCgroupsPath, unifiedPathFromProcCgroup } from './parse.js';
import { CgroupResolver } from './resolve.js';

const hybrid = fs.readFileSync(new URL('./testdata/mountinfo-hybrid.txt', import.meta.url), 'utf8');
const pureV2 = fs.readFileSync(new URL('./testdata/mountinfo-v2.txt', import.meta.url), 'utf8');

describe('cgroup2 mount', () => {
  it('finds the unified hierarchy on a hybrid host', () => {
    expect(cgroup2MountFromMountinfo(hybrid)).toBe('/sys/fs/cgroup/unified');
  });
  it('finds /sys/fs/cgroup on a pure-v2 host and skips a sub-tree mount', () => {
    expect(cgroup2MountFromMountinfo(pureV2)).toBe('/sys/fs/cgroup');
  });
  it('returns null without cgroup2', () => {
    expect(cgroup2MountFromMountinfo('22 1 0:20 / /proc rw - proc proc rw\n')).toBeNull();
  });
});

describe('/proc/<pid>/cgroup', () => {
  it('takes the 0:: line among v1 lines', () => {
    expect(unifiedPathFromProcCgroup('12:pids:/probe/c1\n1:name=systemd:/probe/c1\n0::/probe/c1\n')).toBe('/probe/c1');
  });
  it('refuses paths relative to a private cgroup namespace', () => {
    expect(() => unifiedPathFromProcCgroup('0::/../../kubepods/pod1/c1\n', 7)).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_CGROUP_NAMESPACE' }));
  });
  it('names the missing line', () => {
    expect(() => unifiedPathFromProcCgroup('3:cpu:/x\n', 42)).toThrow(/\/proc\/42\/cgroup has no 0:: line/);
  });
});

describe('CgroupResolver on this host', () => {
  it('resolves this process to the inode of its v2 directory', () => {
    const r = new CgroupResolver();
    const loc = r.ofPid(process.pid);
    const rel = unifiedPathFromProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    expect(loc.path).toBe(rel);
    expect(loc.id).toBe(fs.statSync(loc.dir, { bigint: true }).ino);
  });
  it('reports a missing process with ESRCH', () => {
    expect(() => new CgroupResolver().ofPid(2 ** 22 + 12345)).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_CGROUP_NO_PROCESS' }));
  });
});

describe('OCI cgroupsPath to the unified path', () => {
  it('takes cgroupfs paths as they are', () => {
    expect(unifiedPathFromCgroupsPath('/kubepods/besteffort/pod1/abc')).toBe('/kubepods/besteffort/pod1/abc');
  });
  it('expands the systemd driver form', () => {
    expect(unifiedPathFromCgroupsPath('kubepods-besteffort-pod1.slice:cri-containerd:abc')).toBe(
      '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope',
    );
    expect(unifiedPathFromCgroupsPath('-.slice:docker:abc')).toBe('/docker-abc.scope');
  });
  it('names a path it cannot read', () => {
    expect(() => unifiedPathFromCgroupsPath('kubepods:abc')).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_CGROUP_PATH' }));
  });
});

describe('CgroupResolver hints', () => {
  it('prefers the path the hook saw from the host cgroup namespace', () => {
    const own = unifiedPathFromProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
    const r = new CgroupResolver();
    expect(r.ofPid(2 ** 22 + 12345, { path: own }).path).toBe(own);
  });
});
