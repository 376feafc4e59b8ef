// A small CRI (runtime.v1) client over gRPC on a unix socket: what the agent calls to list the
// node's containers and learn their pid and annotations. The calls only tests make (acting as a
// kubelet: sandboxes, containers) live in testing/agent/kubelet-cri.ts, which extends this.

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

type Callback<T> = (err: grpc.ServiceError | null, res: T) => void;
type Unary = (req: unknown, cb: Callback<unknown>) => void;
type RuntimeClient = grpc.Client & Record<string, Unary>;

let cachedCtor: grpc.ServiceClientConstructor | undefined;
/** The RuntimeService client class from CRI_PROTO, built once (also used by the local cluster's teardown). */
export function runtimeServiceCtor(): grpc.ServiceClientConstructor {
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

  protected call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method];
      if (!fn) return reject(new RuntimeError('VARMOR_ERR_CRI', `CRI method ${method} missing`));
      const deadline = new Date(Date.now() + this.timeoutMs);
      (fn as unknown as (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<T>) => void).call(
        this.client,
        req,
        new grpc.Metadata(),
        { deadline },
        (err, res) => {
          if (err) reject(new RuntimeError('VARMOR_ERR_CRI', `CRI ${method} (${this.socketPath}): ${err.details || err.message}`));
          else resolve(res);
        },
      );
    });
  }

  async listContainers(): Promise<CriContainer[]> {
    const res = await this.call<{ containers: CriContainer[] }>('ListContainers', {});
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
