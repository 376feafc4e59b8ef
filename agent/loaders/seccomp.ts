// Seccomp loader: the kubelet reads `<seccompRoot>/varmor/<profileName>.json` (the path the webhook
// put in securityContext.seccompProfile.localhostProfile) when it creates a container, so the file
// is written atomically (temp file in the same folder, fsync, rename): the kubelet sees the old
// profile or the new one, never half of one.

import fs from 'node:fs';
import path from 'node:path';
import { seccompLocalhostProfile } from '../../profiler/node.js';
import { LoadError } from '../errors.js';

export class SeccompLoader {
  constructor(readonly root: string) {}

  pathOf(profileName: string): string {
    return path.join(this.root, seccompLocalhostProfile(profileName));
  }

  /** Writes the profile; returns false when the file already held exactly this content. */
  write(profileName: string, json: string): boolean {
    const file = this.pathOf(profileName);
    try {
      if (fs.readFileSync(file, 'utf8') === json) return false;
    } catch {
      // Absent: written below.
    }
    const dir = path.dirname(file);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
      const fd = fs.openSync(tmp, 'w', 0o644);
      try {
        fs.writeSync(fd, json);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
    } catch (e) {
      throw new LoadError('VARMOR_ERR_SECCOMP_WRITE', profileName, 'Seccomp', `writing ${file}: ${(e as Error).message}`);
    }
    return true;
  }

  remove(profileName: string): void {
    fs.rmSync(this.pathOf(profileName), { force: true });
  }

  /** Profile names that have a file here (to remove the ones whose ArmorProfile is gone). */
  list(): string[] {
    const dir = path.dirname(this.pathOf('x'));
    try {
      return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
        .map((f) => f.slice(0, -'.json'.length));
    } catch {
      return [];
    }
  }
}
