// Pod networking of the local cluster, kept inside this machine: a Linux bridge with a private /24, the CNI
// bridge + host-local plugins from Debian's containernetworking-plugins, and one NAT rule standing in for
// kube-proxy: the `kubernetes` Service's ClusterIP:443 is DNATed to the API server on 127.0.0.1 (which is the
// only address it listens on; route_localnet on the bridge lets pod traffic reach a loopback address).
// Nothing is masqueraded and nothing is forwarded off the machine.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KUBERNETES_SERVICE_IP, SERVICE_CIDR } from '../../testing/apiserver/components.js';
import { ClusterError } from '../../testing/apiserver/process.js';

export const BRIDGE = 'varmor-e2e0';
export const POD_SUBNET = '10.244.77.0/24';
/** The bridge's address: the pods' gateway and the node's InternalIP (where the kubelet listens). */
export const NODE_IP = '10.244.77.1';
export const NAT_CHAIN = 'VARMOR-E2E';
export const CNI_BIN_DIR = '/usr/lib/cni';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

export function checkNetworkTools(): void {
  for (const [bin, pkg] of [
    ['/usr/sbin/ip', 'iproute2'],
    ['/usr/sbin/iptables', 'iptables'],
    [join(CNI_BIN_DIR, 'bridge'), 'containernetworking-plugins'],
    [join(CNI_BIN_DIR, 'host-local'), 'containernetworking-plugins'],
    [join(CNI_BIN_DIR, 'loopback'), 'containernetworking-plugins'],
  ]) {
    if (!existsSync(bin)) throw new ClusterError('CLUSTER_MISSING_BINARY', `${bin} is missing: apt-get install ${pkg}`, 'network');
  }
}

/** The CNI network: the bridge plugin on BRIDGE, host-local addresses from POD_SUBNET. */
export function cniConflist(ipamDir: string): { cniVersion: string; name: string; plugins: Record<string, unknown>[] } {
  return {
    cniVersion: '1.0.0',
    name: 'varmor-e2e',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        // Only the Service range is routed (to the node): pods have no default route, so no traffic leaves.
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET, gateway: NODE_IP }]], routes: [{ dst: SERVICE_CIDR }], dataDir: ipamDir },
      },
    ],
  };
}

/** Creates the bridge and the API server DNAT; writes the CNI config. Idempotent. */
export function setUpNetwork(apiserverPort: number, cniConfDir: string, ipamDir: string): void {
  checkNetworkTools();
  if (!tryRun('ip', ['link', 'show', BRIDGE])) run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  if (!run('ip', ['-4', 'addr', 'show', 'dev', BRIDGE]).includes(`${NODE_IP}/`)) run('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
  run('sysctl', ['-qw', `net.ipv4.conf.${BRIDGE}.route_localnet=1`]);

  tearDownNat();
  run('iptables', ['-w', '-t', 'nat', '-N', NAT_CHAIN]);
  run('iptables', [
    '-w', '-t', 'nat', '-A', NAT_CHAIN, '-d', `${KUBERNETES_SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443',
    '-j', 'DNAT', '--to-destination', `127.0.0.1:${apiserverPort}`,
  ]);
  // PREROUTING: from pods on the bridge; OUTPUT: from host-network pods (the agent) and host processes.
  run('iptables', ['-w', '-t', 'nat', '-I', 'PREROUTING', '-i', BRIDGE, '-j', NAT_CHAIN]);
  run('iptables', ['-w', '-t', 'nat', '-I', 'OUTPUT', '-d', `${KUBERNETES_SERVICE_IP}/32`, '-j', NAT_CHAIN]);

  mkdirSync(cniConfDir, { recursive: true });
  mkdirSync(ipamDir, { recursive: true });
  const conflist = cniConflist(ipamDir);
  writeFileSync(join(cniConfDir, '10-varmor-e2e.conflist'), JSON.stringify(conflist, null, 2));
}

function tearDownNat(): void {
  while (tryRun('iptables', ['-w', '-t', 'nat', '-D', 'PREROUTING', '-i', BRIDGE, '-j', NAT_CHAIN]));
  while (tryRun('iptables', ['-w', '-t', 'nat', '-D', 'OUTPUT', '-d', `${KUBERNETES_SERVICE_IP}/32`, '-j', NAT_CHAIN]));
  if (tryRun('iptables', ['-w', '-t', 'nat', '-F', NAT_CHAIN])) tryRun('iptables', ['-w', '-t', 'nat', '-X', NAT_CHAIN]);
}

/** Removes the NAT rules and the bridge (pods' veths went with their network namespaces). */
export function tearDownNetwork(): string[] {
  const done: string[] = [];
  tearDownNat();
  done.push(`iptables nat chain ${NAT_CHAIN}`);
  if (tryRun('ip', ['link', 'show', BRIDGE])) {
    run('ip', ['link', 'del', BRIDGE]);
    done.push(`bridge ${BRIDGE}`);
  }
  return done;
}

export const BPFFS = '/sys/fs/bpf';

function bpffsMounted(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === BPFFS && / - bpf /.test(l));
}

/**
 * A node has bpffs at /sys/fs/bpf (systemd mounts it); these machines don't. Mount it so the agent can pin
 * its BPF objects as on a real node, and record that we did, so `down` unmounts exactly that.
 */
export function ensureBpffs(marker: string): boolean {
  if (bpffsMounted()) return false;
  run('mount', ['-t', 'bpf', 'bpf', BPFFS]);
  writeFileSync(marker, `${BPFFS}\n`);
  return true;
}

export function releaseBpffs(marker: string): boolean {
  if (!existsSync(marker)) return false;
  tryRun('umount', ['-l', BPFFS]);
  rmSync(marker, { force: true });
  return true;
}
