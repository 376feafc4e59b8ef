// Writes this node's entry into ArmorProfile status through the status subresource: get, edit
// our entry only, replace with the read resourceVersion, retry on 409 (another node wrote in
// between). Writes are coalesced per profile: only the latest wanted entry is sent.

import { API_GROUP, type ArmorProfile, type ArmorProfileNodeCondition } from '../../profiler/node.js';
import type { KubeClient } from '../kube/client.js';
import { withNodeEntry } from './entry.js';

type Cond = Omit<ArmorProfileNodeCondition, 'lastTransitionTime'> | null;

export interface StatusTarget {
  namespace: string;
  name: string;
}

const statusOf = (e: unknown): number | undefined => (e as { status?: number }).status;

export function armorProfilePath(t: StatusTarget, sub = ''): string {
  return `/apis/${API_GROUP}/v1beta1/namespaces/${encodeURIComponent(t.namespace)}/armorprofiles/${encodeURIComponent(t.name)}${sub}`;
}

export class StatusWriter {
  private readonly pending = new Map<string, { target: StatusTarget; cond: Cond }>();
  private running: Promise<void> | null = null;

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly onError: (target: StatusTarget, err: Error) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Queues this node's entry for an ArmorProfile (null removes it). */
  set(target: StatusTarget, cond: Cond): void {
    this.pending.set(`${target.namespace}/${target.name}`, { target, cond });
    if (!this.running) this.running = this.drain().finally(() => (this.running = null));
  }

  /** Resolves when everything queued so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending.size) {
      const [key, item] = this.pending.entries().next().value as [string, { target: StatusTarget; cond: Cond }];
      this.pending.delete(key);
      try {
        await this.write(item.target, item.cond);
      } catch (e) {
        this.onError(item.target, e as Error);
      }
    }
  }

  private async write(target: StatusTarget, cond: Cond): Promise<void> {
    const p = armorProfilePath(target, '/status');
    for (let attempt = 0; attempt < 8; attempt++) {
      let ap: ArmorProfile;
      try {
        ap = await this.client.request<ArmorProfile>('GET', p);
      } catch (e) {
        if (statusOf(e) === 404) return; // deleted meanwhile: nothing to report on
        throw e;
      }
      const status = withNodeEntry(ap.status, this.nodeName, cond, this.now());
      if (!status) return;
      try {
        await this.client.request('PUT', p, { ...ap, status });
        return;
      } catch (e) {
        const code = statusOf(e);
        if (code === 404) return;
        if (code !== 409) throw e;
      }
    }
    throw new Error(`status of ArmorProfile ${target.namespace}/${target.name}: gave up after repeated conflicts`);
  }
}
