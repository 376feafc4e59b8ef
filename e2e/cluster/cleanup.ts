// What `cluster:down` removes after the daemons are stopped: containerd shims still serving our socket,
// mounts under the cluster's work directory (overlay rootfs, kubelet volumes, netns), and the cgroups the
// kubelet created (cgroupfs driver: /kubepods in every v1 hierarchy and in the unified v2 tree).
// Only things provably ours are touched: shims by the socket path on their command line, mounts by path
// prefix, cgroups by the kubelet's top-level name.

import { readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { killPid } from '../../testing/apiserver/process.js';

/** Kubelet's cgroupfs root for pods (cgroupsPerQOS). */
export const KUBELET_CGROUP_ROOTS = ['kubepods'];

export async function killShims(containerdSocket: string): Promise<number[]> {
  const killed: number[] = [];
  for (const ent of readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${ent}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!/containerd-shim/.test(cmd[0] ?? '')) continue;
    const i = cmd.indexOf('-address');
    if (i >= 0 && cmd[i + 1] === containerdSocket) {
      await killPid(Number(ent), 3000);
      killed.push(Number(ent));
    }
  }
  return killed;
}

/** Unmounts every mount point under `prefix`, deepest first. */
export function unmountUnder(prefix: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === prefix || p.startsWith(prefix + '/')))
    .map((p) => p.replace(/\\040/g, ' '));
  const done: string[] = [];
  for (const p of [...new Set(points)].sort((a, b) => b.length - a.length)) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
      done.push(p);
    } catch {
      /* already gone */
    }
  }
  return done;
}

function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => / - cgroup2? /.test(l))
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p);
}

function rmdirTree(dir: string): number {
  let n = 0;
  for (const ent of readdirSync(dir)) {
    const p = join(dir, ent);
    try {
      if (statSync(p).isDirectory()) n += rmdirTree(p);
    } catch {
      /* raced with the kernel */
    }
  }
  try {
    rmdirSync(dir);
    n++;
  } catch {
    /* still has a task, or gone */
  }
  return n;
}

/** Removes the kubelet's cgroup trees (empty by now) from every hierarchy; returns how many were removed. */
export function removeKubeletCgroups(): number {
  let n = 0;
  for (const mount of cgroupMounts()) {
    for (const root of KUBELET_CGROUP_ROOTS) {
      const dir = join(mount, root);
      try {
        if (statSync(dir).isDirectory()) n += rmdirTree(dir);
      } catch {
        /* not there */
      }
    }
  }
  return n;
}

/** Cgroup directories still present (a non-empty answer after down is a leak). */
export function leftoverCgroups(): string[] {
  const out: string[] = [];
  for (const mount of cgroupMounts()) for (const root of KUBELET_CGROUP_ROOTS) {
    try {
      if (statSync(join(mount, root)).isDirectory()) out.push(join(mount, root));
    } catch {
      /* not there */
    }
  }
  return out;
}

/** The kubelet links every container log into /var/log/containers (a fixed path): remove our links. */
export function removeContainerLogLinks(podLogsDir: string, linkDir = '/var/log/containers'): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(linkDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const p = join(linkDir, name);
    try {
      if (readlinkSync(p).startsWith(podLogsDir + '/')) {
        rmSync(p, { force: true });
        n++;
      }
    } catch {
      /* not a link */
    }
  }
  return n;
}

function ipt(bin: string, args: string[]): boolean {
  try {
    execFileSync(bin, ['-w', ...args], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Chains a kubelet may create even with makeIPTablesUtilChains off (older runs, other versions): the
 * canary and hint chains, and KUBE-FIREWALL with its INPUT/OUTPUT jumps. No other Kubernetes runs on
 * these machines, so any KUBE-* utility chain here is ours.
 */
export function removeKubeletIptables(): number {
  let n = 0;
  for (const bin of ['iptables', 'ip6tables']) {
    for (const [table, chains] of [
      ['filter', ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY']],
      ['nat', ['KUBE-KUBELET-CANARY', 'KUBE-MARK-DROP', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING']],
      ['mangle', ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY']],
    ] as const) {
      for (const chain of chains) {
        for (const parent of ['INPUT', 'OUTPUT', 'POSTROUTING']) while (ipt(bin, ['-t', table, '-D', parent, '-j', chain]));
        if (ipt(bin, ['-t', table, '-F', chain]) && ipt(bin, ['-t', table, '-X', chain])) n++;
      }
    }
  }
  return n;
}

/** Host paths the kubelet uses whatever its --root-dir (the device plugin socket dir is fixed). */
export const KUBELET_FIXED_PATHS = ['/var/lib/kubelet/device-plugins/kubelet.sock'];
