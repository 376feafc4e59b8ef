// AppArmor loader: `apparmor_parser -r` (replace, so a running container's profile is swapped in
// place; `-C` loads it in complain mode for BehaviorModeling) where the kernel has AppArmor.
// Where it has not (no /sys/kernel/security/apparmor, as on this project's machines), the enforcer
// is reported unavailable instead of failing the profile.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EnforcerUnavailableError, LoadError } from '../errors.js';

export interface AppArmorLoaderOptions {
  /** Where profile files are kept for apparmor_parser (and for -R on removal). */
  profileDir: string;
  parser?: string;
  securityfs?: string;
}

function runParser(parser: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(parser, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? Number(err.code) : 1) : 0;
      resolve({ code, stderr: String(stderr || (err ? err.message : '')).trim() });
    });
  });
}

export class AppArmorLoader {
  private readonly parser: string;
  private readonly securityfs: string;

  constructor(private readonly opts: AppArmorLoaderOptions) {
    this.parser = opts.parser ?? 'apparmor_parser';
    this.securityfs = opts.securityfs ?? '/sys/kernel/security/apparmor';
  }

  /** null when AppArmor can be used here, else why not. */
  unavailableReason(): string | null {
    if (!fs.existsSync(this.securityfs)) return `kernel has no AppArmor (${this.securityfs} missing)`;
    return null;
  }

  fileOf(profileName: string): string {
    return path.join(this.opts.profileDir, profileName);
  }

  async load(profileName: string, text: string, complain: boolean): Promise<void> {
    const reason = this.unavailableReason();
    if (reason) throw new EnforcerUnavailableError('AppArmor', reason);
    const file = this.fileOf(profileName);
    fs.mkdirSync(this.opts.profileDir, { recursive: true });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, text);
    // -r replaces a loaded profile atomically in the kernel; a failed parse leaves the old one in force.
    const { code, stderr } = await runParser(this.parser, ['-r', ...(complain ? ['-C'] : []), tmp]);
    if (code !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new LoadError('VARMOR_ERR_APPARMOR_LOAD', profileName, 'AppArmor', `apparmor_parser -r failed (${code}): ${stderr}`);
    }
    fs.renameSync(tmp, file);
  }

  async unload(profileName: string): Promise<void> {
    const file = this.fileOf(profileName);
    if (this.unavailableReason() || !fs.existsSync(file)) return;
    const { code, stderr } = await runParser(this.parser, ['-R', file]);
    if (code !== 0 && !/not found|does not exist/i.test(stderr)) {
      throw new LoadError('VARMOR_ERR_APPARMOR_LOAD', profileName, 'AppArmor', `apparmor_parser -R failed (${code}): ${stderr}`);
    }
    fs.rmSync(file, { force: true });
  }
}
