// The local single-node Kubernetes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet
// (built from k8s.io/kubernetes by build.sh), containerd + runc from Debian with the CRI plugin, CNI bridge.
// `up` starts everything detached (pid files in .work/cluster/pids), imports the locally built images into
// containerd's k8s.io namespace, writes .work/kubeconfig and waits for the node to be Ready.
// `down` stops it all and removes what it created: pods (via CRI), processes, shims, mounts, cgroups,
// the bridge and the NAT rule. Both are idempotent, and `up` runs `down` first.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildImages } from '../../manifests/images/build.js';
import { PAUSE_IMAGE } from '../../manifests/images/refs.js';
import { killShims, KUBELET_FIXED_PATHS, leftoverCgroups, removeContainerLogLinks, removeKubeletCgroups, removeKubeletIptables, unmountUnder } from './cleanup.js';
import { apiserverArgs, etcdArgs, etcdBinary, k8sBinary, KUBERNETES_SERVICE_IP, SERVICE_CIDR, WORK_DIR } from '../../testing/apiserver/components.js';
import { containerdPaths, writeContainerdConfig, type ContainerdOptions } from './containerd.js';
import { CriRuntime } from './cri.js';
import { HOOK_SOCKET } from './hook.js';
import { httpOk, httpsGet, writeKubeconfig } from '../../testing/apiserver/kubeconfig.js';
import { CNI_BIN_DIR, ensureBpffs, NODE_IP, releaseBpffs, setUpNetwork, tearDownNetwork } from './network.js';
import { writeClusterPki } from '../../testing/apiserver/pki.js';
import { ClusterError, freePort, logTail, startDaemon, stopPidDir, waitFor, type Daemon } from '../../testing/apiserver/process.js';

export const CLUSTER_WORK = join(WORK_DIR, 'cluster');
export const KUBECONFIG = join(WORK_DIR, 'kubeconfig');
export const NODE_NAME = 'varmor-e2e-node';
/** The kubelet's root dir; its seccomp/ is where Localhost seccomp profiles live on this node. */
export const KUBELET_ROOT = join(CLUSTER_WORK, 'kubelet');
export const SECCOMP_ROOT = join(KUBELET_ROOT, 'seccomp');

const PIDS = join(CLUSTER_WORK, 'pids');
const LOGS = join(CLUSTER_WORK, 'logs');
const CONTAINERD_DIR = join(CLUSTER_WORK, 'containerd');
export const POD_LOGS = join(CLUSTER_WORK, 'pod-logs');
/** Present while /sys/fs/bpf is a bpffs that up mounted (outside `CLUSTER_WORK`'s cleanup on purpose). */
const BPFFS_MARKER = join(WORK_DIR, 'mounted-bpffs');
const HOST_DIRS = ['/var/lib/kubelet', '/run/varmor'];
const HOST_DIRS_MARKER = join(WORK_DIR, 'created-host-dirs');
const STOP_ORDER = ['kubelet', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd', 'containerd'];

export interface ClusterState {
  apiserverPort: number;
  etcdPort: number;
  kubeletPort: number;
  containerdSocket: string;
  kubeconfig: string;
  seccompRoot: string;
  nodeName: string;
  startedAt: string;
  upSeconds: number;
}

const T0 = Date.now();
function log(msg: string): void {
  console.log(`cluster: [${((Date.now() - T0) / 1000).toFixed(1)}s] ${msg}`);
}

/** Reasons this host cannot run the node part of the cluster (empty when it can). */
export function hostProblems(): string[] {
  const p: string[] = [];
  if (process.getuid?.() !== 0) p.push('not root: the kubelet, containerd and the bridge need root');
  for (const b of ['containerd', 'ctr', 'runc']) {
    if (!['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, b)))) p.push(`${b} is missing (apt-get install containerd runc)`);
  }
  if (!existsSync('/sys/fs/cgroup')) p.push('no /sys/fs/cgroup');
  return p;
}

function kubeletConfig(pki: ReturnType<typeof writeClusterPki>, port: number, healthzPort: number, socket: string): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: pki.caCert } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${socket}`,
    // No systemd on these machines; hybrid cgroup v1 + v2 host, which kubelet 1.34 still supports.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
    // A shared test machine: don't evict pods for the disk and memory other work uses.
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    maxPods: 30,
    registerNode: true,
    serializeImagePulls: false,
    rotateCertificates: false,
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
    nodeStatusUpdateFrequency: '5s',
    localStorageCapacityIsolation: false,
    // No KUBE-FIREWALL / canary chains in the host's iptables (nothing here needs them).
    makeIPTablesUtilChains: false,
    // Container logs stay under .work (the default is /var/log/pods); kept after down for debugging.
    podLogsDir: POD_LOGS,
  };
}

export interface UpOptions {
  /** Adds the agent's OCI hook to containerd's base runtime spec (CONTRACTS.md); omitted when absent. */
  runtimeSpec?: ContainerdOptions['runtimeSpec'];
  /** Which locally built images to import (pause is always needed). */
  images?: string[];
  timeoutMs?: number;
}

export async function up(opts: UpOptions = {}): Promise<ClusterState> {
  const t0 = Date.now();
  const problems = hostProblems();
  if (problems.length) throw new ClusterError('CLUSTER_HOST_UNSUPPORTED', `this host cannot run the local cluster:\n- ${problems.join('\n- ')}`);
  const bins = {
    apiserver: k8sBinary('kube-apiserver'),
    cm: k8sBinary('kube-controller-manager'),
    scheduler: k8sBinary('kube-scheduler'),
    kubelet: k8sBinary('kubelet'),
    etcd: etcdBinary(),
  };
  await down({ quiet: true });
  rmSync(POD_LOGS, { recursive: true, force: true });
  for (const d of [PIDS, LOGS, CONTAINERD_DIR, KUBELET_ROOT, SECCOMP_ROOT, POD_LOGS]) mkdirSync(d, { recursive: true });
  const timeout = opts.timeoutMs ?? 180_000;
  const daemons: Daemon[] = [];
  const start = (name: string, cmd: string, args: string[]): Daemon => {
    const d = startDaemon(name, cmd, args, { logFile: join(LOGS, `${name}.log`), pidDir: PIDS });
    daemons.push(d);
    return d;
  };

  const pki = writeClusterPki(join(CLUSTER_WORK, 'pki'), {
    apiserverIPs: ['127.0.0.1', KUBERNETES_SERVICE_IP, NODE_IP],
    clients: [
      { name: 'admin', user: 'varmor-e2e-admin', groups: ['system:masters'] },
      { name: 'apiserver-kubelet-client', user: 'kube-apiserver-kubelet-client', groups: ['system:masters'] },
      { name: 'kube-controller-manager', user: 'system:kube-controller-manager', groups: [] },
      { name: 'kube-scheduler', user: 'system:kube-scheduler', groups: [] },
      { name: 'kubelet', user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] },
    ],
  });
  const [apiserverPort, etcdPort, etcdPeer, kubeletPort, healthzPort, cmPort, schedPort] = await Promise.all(
    Array.from({ length: 7 }, () => freePort()),
  );
  const server = `https://127.0.0.1:${apiserverPort}`;
  const kubeconfigFor = (name: string): string => {
    const file = join(CLUSTER_WORK, `${name}.kubeconfig`);
    writeKubeconfig(file, { server, caFile: pki.caCert, certFile: pki.clients[name].cert, keyFile: pki.clients[name].key }, name);
    return file;
  };

  log('network: bridge, CNI config, API server DNAT');
  setUpNetwork(apiserverPort, join(CLUSTER_WORK, 'cni/net.d'), join(CLUSTER_WORK, 'cni/ipam'));
  if (ensureBpffs(BPFFS_MARKER)) log('mounted bpffs at /sys/fs/bpf (unmounted again by down)');
  // Host directories a node has and this machine may not: the kubelet's fixed device-plugin dir and the
  // agent's hook socket dir. Remember which ones we create, so down removes exactly those.
  for (const dir of HOST_DIRS) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(HOST_DIRS_MARKER, `${dir}\n`, { flag: 'a' });
    }
  }

  log('containerd');
  const ctrd = writeContainerdConfig({
    dir: CONTAINERD_DIR,
    sandboxImage: PAUSE_IMAGE,
    cniConfDir: join(CLUSTER_WORK, 'cni/net.d'),
    cniBinDir: CNI_BIN_DIR,
    runtimeSpec: opts.runtimeSpec,
  });
  const containerd = start('containerd', 'containerd', ['--config', ctrd.config]);
  await waitFor('containerd socket', async () => existsSync(ctrd.socket), 30_000, [containerd]);
  const images = buildImages(['pause', 'busybox', ...(opts.images ?? [])]);
  for (const img of images) {
    execFileSync('ctr', ['-a', ctrd.socket, '-n', 'k8s.io', 'image', 'import', img.file], { stdio: 'pipe' });
    log(`imported ${img.ref}`);
  }

  log('etcd');
  const etcd = start('etcd', bins.etcd, etcdArgs(join(CLUSTER_WORK, 'etcd'), etcdPort, etcdPeer));
  await waitFor('etcd /health', () => httpOk(`http://127.0.0.1:${etcdPort}/health`), 30_000, [etcd]);

  log('kube-apiserver');
  const apiserver = start(
    'kube-apiserver',
    bins.apiserver,
    apiserverArgs({ pki, etcdPort, securePort: apiserverPort, advertiseAddress: NODE_IP, kubeletClient: pki.clients['apiserver-kubelet-client'] }),
  );
  const admin = { caFile: pki.caCert, certFile: pki.clients.admin.cert, keyFile: pki.clients.admin.key };
  await waitFor('kube-apiserver /readyz', async () => (await httpsGet(`${server}/readyz`, admin)).status === 200, timeout, [etcd, apiserver]);
  writeKubeconfig(KUBECONFIG, { server, ...admin });

  log('kube-controller-manager, kube-scheduler');
  const cmKubeconfig = kubeconfigFor('kube-controller-manager');
  const cm = start('kube-controller-manager', bins.cm, [
    `--kubeconfig=${cmKubeconfig}`,
    `--authentication-kubeconfig=${cmKubeconfig}`,
    `--authorization-kubeconfig=${cmKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${cmPort}`,
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allocate-node-cidrs=false',
    '--v=1',
  ]);
  const schedKubeconfig = kubeconfigFor('kube-scheduler');
  const scheduler = start('kube-scheduler', bins.scheduler, [
    `--kubeconfig=${schedKubeconfig}`,
    `--authentication-kubeconfig=${schedKubeconfig}`,
    `--authorization-kubeconfig=${schedKubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${schedPort}`,
    '--leader-elect=false',
    '--v=1',
  ]);

  log('kubelet');
  const kubeletConfigFile = join(CLUSTER_WORK, 'kubelet-config.yaml');
  writeFileSync(kubeletConfigFile, stringify(kubeletConfig(pki, kubeletPort, healthzPort, ctrd.socket)));
  const kubelet = start('kubelet', bins.kubelet, [
    `--config=${kubeletConfigFile}`,
    `--kubeconfig=${kubeconfigFor('kubelet')}`,
    `--root-dir=${KUBELET_ROOT}`,
    // Defaults to /var/lib/kubelet/pki whatever --root-dir says.
    `--cert-dir=${join(KUBELET_ROOT, 'pki')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NODE_IP}`,
    '--v=1',
  ]);
  const watch = [etcd, apiserver, cm, scheduler, kubelet, containerd];
  await waitFor(
    `node ${NODE_NAME} Ready`,
    async () => {
      const res = await httpsGet(`${server}/api/v1/nodes/${NODE_NAME}`, admin);
      if (res.status !== 200) return false;
      const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    },
    timeout,
    watch,
  );
  // The namespace controller must have created the default ServiceAccount before pods can be admitted.
  await waitFor(
    'default ServiceAccount',
    async () => (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, admin)).status === 200,
    60_000,
    watch,
  );
  const state: ClusterState = {
    apiserverPort,
    etcdPort,
    kubeletPort,
    containerdSocket: ctrd.socket,
    kubeconfig: KUBECONFIG,
    seccompRoot: SECCOMP_ROOT,
    nodeName: NODE_NAME,
    startedAt: new Date(t0).toISOString(),
    upSeconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  writeFileSync(join(CLUSTER_WORK, 'state.json'), JSON.stringify(state, null, 2));
  log(`up in ${state.upSeconds}s: KUBECONFIG=${KUBECONFIG}`);
  return state;
}

export interface DownResult {
  sandboxes: number;
  stopped: string[];
  shims: number;
  unmounted: number;
  cgroups: number;
  network: string[];
  leftovers: string[];
}

export async function down(opts: { quiet?: boolean; keepLogs?: boolean } = {}): Promise<DownResult> {
  const say = (m: string): void => {
    if (!opts.quiet) log(m);
  };
  const socket = containerdPaths(CONTAINERD_DIR).socket;
  const result: DownResult = { sandboxes: 0, stopped: [], shims: 0, unmounted: 0, cgroups: 0, network: [], leftovers: [] };
  // Stop the kubelet first so it does not restart the pods we remove.
  result.stopped.push(...(await stopPidDir(PIDS, ['kubelet'], true)));
  if (existsSync(socket)) {
    const cri = new CriRuntime(socket);
    try {
      result.sandboxes = (await cri.removeAll()).length;
    } catch (err) {
      say(`CRI cleanup failed (continuing): ${(err as Error).message}`);
    } finally {
      cri.close();
    }
  }
  result.stopped.push(...(await stopPidDir(PIDS, STOP_ORDER)));
  result.shims = (await killShims(socket)).length;
  result.unmounted = unmountUnder(CLUSTER_WORK).length;
  result.cgroups = removeKubeletCgroups();
  removeContainerLogLinks(POD_LOGS);
  result.network = tearDownNetwork();
  if (releaseBpffs(BPFFS_MARKER)) result.network.push('bpffs /sys/fs/bpf');
  result.network.push(`${removeKubeletIptables()} kubelet iptables chains`);
  // The agent's hook socket outlives it when its pod is force-removed.
  for (const p of [...KUBELET_FIXED_PATHS, HOOK_SOCKET]) rmSync(p, { force: true });
  if (existsSync(HOST_DIRS_MARKER)) {
    for (const dir of readFileSync(HOST_DIRS_MARKER, 'utf8').split('\n').filter(Boolean)) {
      rmSync(dir, { recursive: true, force: true });
      result.network.push(dir);
    }
    rmSync(HOST_DIRS_MARKER, { force: true });
  }
  result.leftovers = leftoverCgroups();
  const keep = opts.keepLogs ? [LOGS] : [];
  if (existsSync(CLUSTER_WORK)) {
    for (const d of ['etcd', 'containerd', 'kubelet', 'cni', 'pki', 'pids', 'state.json']) {
      const p = join(CLUSTER_WORK, d);
      if (!keep.includes(p)) rmSync(p, { recursive: true, force: true });
    }
  }
  rmSync(KUBECONFIG, { force: true });
  say(
    `down: ${result.sandboxes} pod sandboxes removed, stopped [${result.stopped.join(', ')}], ${result.shims} shims, ` +
      `${result.unmounted} mounts, ${result.cgroups} cgroups, ${result.network.join(', ')}` +
      (result.leftovers.length ? `; LEFT BEHIND: ${result.leftovers.join(', ')}` : '; nothing left behind'),
  );
  return result;
}

export function readState(): ClusterState | undefined {
  const f = join(CLUSTER_WORK, 'state.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as ClusterState) : undefined;
}

export { logTail, LOGS };
