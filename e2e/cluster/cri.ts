// The few CRI calls `cluster:down` needs to leave nothing behind: list, stop and remove every pod
// sandbox through containerd's CRI plugin, which tears down the pods' CNI networking and network
// namespaces the proper way (CNI DEL) before containerd itself is stopped. There is no crictl here.
// The protocol is the agent's one copy of the CRI subset (agent/runtime/cri-proto.ts).

import * as grpc from '@grpc/grpc-js';
import { runtimeServiceCtor } from '../../agent/runtime/cri.js';

type Call = (req: object, opts: { deadline: Date }, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export interface CriSandbox {
  id: string;
  name: string;
  namespace: string;
}

export class CriRuntime {
  private readonly client: grpc.Client & Record<string, Call>;

  constructor(socket: string) {
    const RuntimeService = runtimeServiceCtor();
    this.client = new RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Call>;
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
