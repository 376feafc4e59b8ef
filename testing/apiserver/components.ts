// Command lines of the control-plane daemons, in one place so the API-server-only harness
// (control-plane.ts) and the full local cluster (cluster.ts) run them identically.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './process.js';
import type { ClusterPki } from './pki.js';

// The local cluster's folder (e2e/cluster/): its build script puts the binaries under .work/.
export const CLUSTER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'e2e', 'cluster');
export const WORK_DIR = join(CLUSTER_DIR, '.work');
export const BIN_DIR = join(WORK_DIR, 'bin');

/** The Service CIDR; its first address is the `kubernetes` Service's ClusterIP. */
export const SERVICE_CIDR = '10.96.0.0/16';
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export function k8sBinary(name: string): string {
  const p = join(BIN_DIR, name);
  if (!existsSync(p)) {
    throw new ClusterError('CLUSTER_MISSING_BINARY', `${p} is missing: run e2e/cluster/build.sh (builds Kubernetes from the Go module)`, name);
  }
  return p;
}

export function etcdBinary(): string {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  throw new ClusterError('CLUSTER_MISSING_BINARY', 'etcd is missing: apt-get install etcd-server (scripts/setup.sh installs it)', 'etcd');
}

export function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=local',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=local=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=warn',
    // A throwaway test store: skip the periodic snapshot churn.
    '--snapshot-count=100000',
  ];
}

export interface ApiserverOptions {
  pki: ClusterPki;
  etcdPort: number;
  securePort: number;
  /** The address published for the `kubernetes` Service (never used for traffic here). */
  advertiseAddress: string;
  /** A client certificate with which the API server calls kubelets (exec, logs). */
  kubeletClient?: { cert: string; key: string };
}

export function apiserverArgs(o: ApiserverOptions): string[] {
  const args = [
    `--etcd-servers=http://127.0.0.1:${o.etcdPort}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${o.securePort}`,
    `--advertise-address=${o.advertiseAddress}`,
    // The kubernetes Service's endpoints would carry the advertise address; nothing routes by them here
    // (pods reach the API server through a DNAT of the ClusterIP, see cluster.ts), so don't write them.
    '--endpoint-reconciler-type=none',
    `--tls-cert-file=${o.pki.apiserverCert}`,
    `--tls-private-key-file=${o.pki.apiserverKey}`,
    `--client-ca-file=${o.pki.caCert}`,
    `--service-account-key-file=${o.pki.saPub}`,
    `--service-account-signing-key-file=${o.pki.saKey}`,
    `--service-account-issuer=${SA_ISSUER}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    // The defaults already include the admission webhooks; listed so the intent is visible.
    '--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultTolerationSeconds,NodeRestriction,' +
      'MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota',
    // Call webhooks (and aggregated APIs) at the endpoint's pod IP: no kube-proxy runs here.
    '--enable-aggregator-routing=true',
    '--allow-privileged=true',
    '--profiling=false',
    `--cert-dir=${o.pki.dir}`,
    '--v=1',
  ];
  if (o.kubeletClient) {
    args.push(`--kubelet-client-certificate=${o.kubeletClient.cert}`, `--kubelet-client-key=${o.kubeletClient.key}`);
    args.push('--kubelet-preferred-address-types=InternalIP,Hostname');
  }
  return args;
}
