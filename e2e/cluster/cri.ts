// The few CRI calls `cluster:down` needs to leave nothing behind: list, stop and remove every pod
// sandbox through containerd's CRI plugin, which tears down the pods' CNI networking and network
// namespaces the proper way (CNI DEL) before containerd itself is stopped. There is no crictl here.
// Message fields are copied with their numbers from k8s.io/cri-api v0.34 runtime/v1/api.proto.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PROTO = `syntax = "proto3";
package runtime.v1;
service RuntimeService {
  rpc Status(StatusRequest) returns (StatusResponse) {}
  rpc ListPodSandbox(ListPodSandboxRequest) returns (ListPodSandboxResponse) {}
  rpc StopPodSandbox(StopPodSandboxRequest) returns (StopPodSandboxResponse) {}
  rpc RemovePodSandbox(RemovePodSandboxRequest) returns (RemovePodSandboxResponse) {}
}
message StatusRequest { bool verbose = 1; }
message RuntimeCondition { string type = 1; bool status = 2; string reason = 3; string message = 4; }
message RuntimeStatus { repeated RuntimeCondition conditions = 1; }
message StatusResponse { RuntimeStatus status = 1; }
message ListPodSandboxRequest {}
message PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3; uint32 attempt = 4; }
message PodSandbox { string id = 1; PodSandboxMetadata metadata = 2; }
message ListPodSandboxResponse { repeated PodSandbox items = 1; }
message StopPodSandboxRequest { string pod_sandbox_id = 1; }
message StopPodSandboxResponse {}
message RemovePodSandboxRequest { string pod_sandbox_id = 1; }
message RemovePodSandboxResponse {}
`;

type Call = (req: object, opts: { deadline: Date }, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export interface CriSandbox {
  id: string;
  name: string;
  namespace: string;
}

export class CriRuntime {
  private readonly client: grpc.Client & Record<string, Call>;

  constructor(socket: string) {
    const dir = mkdtempSync(join(tmpdir(), 'cri-'));
    try {
      writeFileSync(join(dir, 'api.proto'), PROTO);
      const def = protoLoader.loadSync(join(dir, 'api.proto'), { keepCase: false, defaults: true });
      const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } } };
      this.client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Call>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private call<T>(method: string, req: object, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method].call(this.client, req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res as T)));
    });
  }

  async sandboxes(): Promise<CriSandbox[]> {
    const res = await this.call<{ items: { id: string; metadata?: { name: string; namespace: string } }[] }>('listPodSandbox', {});
    return res.items.map((s) => ({ id: s.id, name: s.metadata?.name ?? '', namespace: s.metadata?.namespace ?? '' }));
  }

  async removeAll(): Promise<CriSandbox[]> {
    const all = await this.sandboxes();
    for (const s of all) {
      await this.call('stopPodSandbox', { podSandboxId: s.id });
      await this.call('removePodSandbox', { podSandboxId: s.id });
    }
    return all;
  }

  close(): void {
    this.client.close();
  }
}
