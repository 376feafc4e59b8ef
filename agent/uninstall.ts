// A node's varmor state removed for good (what `varmor uninstall` runs, once per node, after the
// agent DaemonSet is gone; manifests/undeploy.ts schedules it). Each part is attempted whatever
// the others did, and every failure is reported: a half-clean node says what is left.
//  - BPF: every pin under the pin path (links: their programs detach; maps; version tag; `prev`).
//  - Seccomp: the `varmor/` folder of the kubelet's seccomp root. Running containers keep the
//    filter they were started with; a pod still referencing a profile needs a rollout to restart.
//  - AppArmor: every loaded profile named `varmor-…` (their child profiles go with them), through
//    securityfs `.remove`, which needs no parser and also finds profiles whose files were lost;
//    then the profile files. Tasks confined by a removed profile become unconfined and keep running.
//  - The hook socket: runc's hook finds no agent and refuses only pods that still carry a binding.

import fs from 'node:fs';
import path from 'node:path';
import { SeccompLoader } from './loaders/seccomp.js';

export interface NodeUninstallOptions {
  pinPath: string;
  seccompRoot: string;
  appArmorDir: string;
  hookSocket: string;
  /** AppArmor's securityfs folder (default /sys/kernel/security/apparmor). */
  appArmorFs?: string;
  /** Removes the BPF pins (native `uninstall`); injected so tests need no addon. */
  uninstallBpf: (pinPath: string) => void;
  /** Removes one loaded AppArmor profile (default: its name written to securityfs `.remove`). */
  removeAppArmorProfile?: (name: string) => void;
}

export interface NodeUninstallReport {
  bpf: 'removed' | 'absent';
  seccompProfiles: string[];
  /** Loaded AppArmor profiles removed, or why AppArmor was not touched. */
  appArmorProfiles: string[] | { unavailable: string };
  hookSocket: 'removed' | 'absent';
  errors: string[];
}

/** Our profile names (profiler/names.ts): namespaced and cluster policies both start so. */
const OUR_PROFILE = /^varmor-[^\s/]+$/;

export function uninstallNode(o: NodeUninstallOptions): NodeUninstallReport {
  const errors: string[] = [];
  const attempt = <T>(what: string, fallback: T, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      errors.push(`${what}: ${err.code ? `${err.code}: ` : ''}${err.message}`);
      return fallback;
    }
  };
  const bpf = attempt('bpf', 'absent' as const, () => {
    const present = fs.existsSync(o.pinPath);
    o.uninstallBpf(o.pinPath);
    return present ? ('removed' as const) : ('absent' as const);
  });
  const seccompProfiles = attempt('seccomp', [] as string[], () => removeSeccompProfiles(o.seccompRoot));
  const appArmorFs = o.appArmorFs ?? '/sys/kernel/security/apparmor';
  // One write per profile: the kernel takes a whole name per write, from offset 0.
  const remove = o.removeAppArmorProfile ?? ((name: string) => fs.writeFileSync(path.join(appArmorFs, '.remove'), name));
  const appArmorProfiles = attempt('apparmor', [] as string[], () => removeAppArmorProfiles(appArmorFs, o.appArmorDir, remove));
  const hookSocket = attempt('hook socket', 'absent' as const, () => {
    if (!fs.existsSync(o.hookSocket)) return 'absent' as const;
    fs.rmSync(o.hookSocket);
    return 'removed' as const;
  });
  return { bpf, seccompProfiles, appArmorProfiles, hookSocket, errors };
}

function removeSeccompProfiles(seccompRoot: string): string[] {
  const loader = new SeccompLoader(seccompRoot);
  const names = loader.list();
  fs.rmSync(path.dirname(loader.pathOf('x')), { recursive: true, force: true });
  return names;
}

/** Names of loaded top-level profiles in securityfs `profiles` ("name (mode)" per line) that are ours. */
export function ourLoadedProfiles(profilesText: string): string[] {
  const names = new Set<string>();
  for (const line of profilesText.split('\n')) {
    const m = /^(.*) \([a-z]+\)$/.exec(line.trim());
    if (m && OUR_PROFILE.test(m[1])) names.add(m[1]);
  }
  return [...names].sort();
}

function removeAppArmorProfiles(appArmorFs: string, profileDir: string, remove: (name: string) => void): string[] | { unavailable: string } {
  fs.rmSync(profileDir, { recursive: true, force: true });
  if (!fs.existsSync(path.join(appArmorFs, 'profiles'))) return { unavailable: `kernel has no AppArmor (${appArmorFs} missing)` };
  const removed: string[] = [];
  for (const name of ourLoadedProfiles(fs.readFileSync(path.join(appArmorFs, 'profiles'), 'utf8'))) {
    try {
      remove(name);
      removed.push(name);
    } catch (e) {
      // Removed meanwhile (by a parent's removal or another cleaner): what we wanted.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return removed;
}
