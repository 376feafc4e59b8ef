// Pure parsers for the two kernel files that locate a process's cgroup v2 directory:
// /proc/<pid>/mountinfo (where cgroup2 is mounted: /sys/fs/cgroup on pure-v2 hosts,
// /sys/fs/cgroup/unified on hybrid ones like this) and /proc/<pid>/cgroup (the `0::<path>` line).

import { RuntimeError } from '../errors.js';

/** Unescapes mountinfo's octal escapes (\040 for a space and so on). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The cgroup2 mount point from mountinfo text, or null when the host has no unified hierarchy. */
export function cgroup2MountFromMountinfo(text: string): string | null {
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, sep).split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    // A cgroup2 mount of a sub-tree (root != '/') is what a container sees, not the host's view.
    if (root === '/' && mountPoint) return unescapeMountField(mountPoint);
  }
  return null;
}

/** The v2 path (`0::<path>`) from /proc/<pid>/cgroup text. */
export function unifiedPathFromProcCgroup(text: string, pid: number | string = '?'): string {
  for (const line of text.split('\n')) {
    if (!line.startsWith('0::')) continue;
    const rel = line.slice(3);
    // Read from inside a private cgroup namespace, other processes' paths are relative to ours.
    if (rel.startsWith('/..')) {
      throw new RuntimeError('VARMOR_ERR_CGROUP_NAMESPACE', `/proc/${pid}/cgroup path ${rel} is outside this cgroup namespace: run the agent in the host cgroup namespace`);
    }
    return rel;
  }
  throw new RuntimeError('VARMOR_ERR_CGROUP_NO_V2', `/proc/${pid}/cgroup has no 0:: line (process not in the unified hierarchy)`);
}

/**
 * The unified-hierarchy path of an OCI `linux.cgroupsPath`: an absolute path with the cgroupfs
 * driver, or `slice:prefix:name` with the systemd driver (`kubepods-besteffort-pod1.slice:cri-containerd:ID`
 * -> `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-ID.scope`).
 */
export function unifiedPathFromCgroupsPath(cgroupsPath: string): string {
  if (cgroupsPath.startsWith('/')) return cgroupsPath;
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3 || !parts[0]!.endsWith('.slice')) {
    throw new RuntimeError('VARMOR_ERR_CGROUP_PATH', `cgroupsPath ${JSON.stringify(cgroupsPath)} is neither absolute nor slice:prefix:name`);
  }
  const [slice, prefix, name] = parts as [string, string, string];
  const dirs: string[] = [];
  const base = slice.slice(0, -'.slice'.length);
  if (base !== '-') {
    const words = base.split('-');
    for (let i = 1; i <= words.length; i++) dirs.push(`${words.slice(0, i).join('-')}.slice`);
  }
  dirs.push(name.endsWith('.slice') ? name : `${prefix ? `${prefix}-` : ''}${name}.scope`);
  return `/${dirs.join('/')}`;
}
