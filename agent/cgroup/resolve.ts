// Resolves a process's cgroup v2 id: the inode of its directory in the unified hierarchy, which
// is what bpf_get_current_cgroup_id() returns in the kernel. Works on pure-v2 and hybrid hosts.

import fs from 'node:fs';
import path from 'node:path';
import { cgroup2MountFromMountinfo, unifiedPathFromCgroupsPath, unifiedPathFromProcCgroup } from './parse.js';
import { RuntimeError } from '../errors.js';

export interface CgroupLocation {
  /** The path inside the unified hierarchy, e.g. /kubepods/besteffort/pod<uid>/<container id>. */
  path: string;
  /** The directory on this host. */
  dir: string;
  id: bigint;
}

export class CgroupResolver {
  private mount: string | null | undefined;

  /** procRoot lets the agent run in a container with the host's /proc mounted elsewhere. */
  constructor(private readonly procRoot = '/proc') {}

  cgroup2Mount(): string {
    if (this.mount === undefined) {
      this.mount = cgroup2MountFromMountinfo(fs.readFileSync(path.join(this.procRoot, 'self/mountinfo'), 'utf8'));
    }
    if (!this.mount) throw new RuntimeError('VARMOR_ERR_CGROUP_NO_V2', 'no cgroup2 mount in /proc/self/mountinfo');
    return this.mount;
  }

  /**
   * `hint`: what the hook saw from the host's cgroup namespace, or the OCI spec's cgroupsPath; used
   * when this process sits in a private cgroup namespace and /proc/<pid>/cgroup is relative to it.
   */
  ofPid(pid: number, hint?: { path?: string; cgroupsPath?: string }): CgroupLocation {
    if (hint?.path && !hint.path.startsWith('/..')) return this.ofPath(hint.path);
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.procRoot, String(pid), 'cgroup'), 'utf8');
    } catch (e) {
      throw new RuntimeError('VARMOR_ERR_CGROUP_NO_PROCESS', `process ${pid}: ${(e as Error).message}`);
    }
    try {
      return this.ofPath(unifiedPathFromProcCgroup(text, pid));
    } catch (e) {
      if ((e as RuntimeError).code !== 'VARMOR_ERR_CGROUP_NAMESPACE' || !hint?.cgroupsPath) throw e;
      return this.ofPath(unifiedPathFromCgroupsPath(hint.cgroupsPath));
    }
  }

  ofPath(rel: string): CgroupLocation {
    const dir = path.join(this.cgroup2Mount(), rel);
    let st: fs.BigIntStats;
    try {
      st = fs.statSync(dir, { bigint: true });
    } catch (e) {
      throw new RuntimeError('VARMOR_ERR_CGROUP_NOT_FOUND', `cgroup ${dir}: ${(e as Error).message}`);
    }
    return { path: rel, dir, id: st.ino };
  }
}
