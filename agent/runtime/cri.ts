// A small CRI (runtime.v1) client over gRPC on a unix socket: what the agent needs to list the
// node's containers and learn their pid and annotations, and what the tests need to act as a
// kubelet (sandboxes and containers) against a real containerd.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { CRI_PROTO } from './cri-proto.js';
import { RuntimeError } from '../errors.js';

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriContainerInfo {
  id: string;
  state: ContainerState;
  /** The container's init pid on the host; 0 when not running. */
  pid: number;
  sandboxId: string;
  /** The OCI spec annotations (pod annotations passed through by containerd's pod_annotations). */
  specAnnotations: Record<string, string>;
  /** The OCI spec's linux.cgroupsPath. */
  cgroupsPath?: string;
}

export interface SecurityProfile {
  profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostRef?: string;
}

export interface SandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: {
      namespaceOptions?: { network?: 'POD' | 'CONTAINER' | 'NODE'; pid?: 'POD' | 'CONTAINER' | 'NODE' };
    };
  };
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  linux?: { securityContext?: { seccomp?: SecurityProfile; apparmor?: SecurityProfile; noNewPrivs?: boolean } };
}

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type Unary = (req: unknown, cb: Callback<unknown>) => void;
type RuntimeClient = grpc.Client & Record<string, Unary>;

let cachedCtor: grpc.ServiceClientConstructor | undefined;
function runtimeServiceCtor(): grpc.ServiceClientConstructor {
  if (cachedCtor) return cachedCtor;
  const root = protobuf.parse(CRI_PROTO, { keepCase: false }).root;
  const def = protoLoader.fromJSON(root.toJSON(), { longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
  };
  cachedCtor = pkg.runtime.v1.RuntimeService;
  return cachedCtor;
}

export class CriClient {
  private readonly client: RuntimeClient;

  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 10_000,
  ) {
    const Ctor = runtimeServiceCtor();
    this.client = new Ctor(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    }) as unknown as RuntimeClient;
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method];
      if (!fn) return reject(new RuntimeError('ECRI', `CRI method ${method} missing`));
      const deadline = new Date(Date.now() + this.timeoutMs);
      (fn as unknown as (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<T>) => void).call(
        this.client,
        req,
        new grpc.Metadata(),
        { deadline },
        (err, res) => {
          if (err) reject(new RuntimeError('ECRI', `CRI ${method} (${this.socketPath}): ${err.details || err.message}`));
          else resolve(res);
        },
      );
    });
  }

  async version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    return this.call('Version', { version: 'v1' });
  }

  async listContainers(filter?: { state?: ContainerState; podSandboxId?: string }): Promise<CriContainer[]> {
    const req = filter
      ? { filter: { podSandboxId: filter.podSandboxId ?? '', state: filter.state ? { state: filter.state } : undefined } }
      : {};
    const res = await this.call<{ containers: CriContainer[] }>('ListContainers', req);
    return res.containers;
  }

  /** ContainerStatus (verbose): the pid and the OCI spec annotations come from containerd's info JSON. */
  async containerInfo(id: string): Promise<CriContainerInfo> {
    const res = await this.call<{ status: { id: string; state: ContainerState }; info: Record<string, string> }>(
      'ContainerStatus',
      { containerId: id, verbose: true },
    );
    return parseContainerInfo(res.status.id, res.status.state, res.info);
  }

  async listPodSandboxIds(): Promise<string[]> {
    const res = await this.call<{ items: { id: string }[] }>('ListPodSandbox', {});
    return res.items.map((i) => i.id);
  }

  async runPodSandbox(config: SandboxConfig): Promise<string> {
    const res = await this.call<{ podSandboxId: string }>('RunPodSandbox', { config });
    return res.podSandboxId;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call('StopPodSandbox', { podSandboxId: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call('RemovePodSandbox', { podSandboxId: id });
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: SandboxConfig): Promise<string> {
    const res = await this.call<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    return res.containerId;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('StartContainer', { containerId: id });
  }

  async stopContainer(id: string, timeoutSeconds = 0): Promise<void> {
    await this.call('StopContainer', { containerId: id, timeout: String(timeoutSeconds) });
  }

  async removeContainer(id: string): Promise<void> {
    await this.call('RemoveContainer', { containerId: id });
  }

  close(): void {
    this.client.close();
  }
}

/** containerd's verbose ContainerStatus carries `info` = JSON {pid, sandboxID, runtimeSpec{annotations}}. */
export function parseContainerInfo(id: string, state: ContainerState, info: Record<string, string>): CriContainerInfo {
  let pid = 0;
  let sandboxId = '';
  let specAnnotations: Record<string, string> = {};
  let cgroupsPath: string | undefined;
  const raw = info['info'];
  if (raw) {
    const doc = JSON.parse(raw) as { pid?: number; sandboxID?: string; runtimeSpec?: { annotations?: Record<string, string>; linux?: { cgroupsPath?: string } } };
    pid = typeof doc.pid === 'number' ? doc.pid : 0;
    sandboxId = doc.sandboxID ?? '';
    specAnnotations = doc.runtimeSpec?.annotations ?? {};
    cgroupsPath = doc.runtimeSpec?.linux?.cgroupsPath || undefined;
  }
  return { id, state, pid, sandboxId, specAnnotations, cgroupsPath };
}
