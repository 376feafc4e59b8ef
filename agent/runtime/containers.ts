// The node's containers as the agent needs them (id, running, pid, OCI annotations), from CRI:
// ListContainers, then a verbose ContainerStatus only for containers not already known, so a
// periodic scan costs one call plus one per new container.

import type { CriClient } from './cri.js';
import type { ContainerSource, RuntimeContainer } from './source.js';

export class CriContainerSource implements ContainerSource {
  private readonly cache = new Map<string, RuntimeContainer>();

  constructor(private readonly cri: CriClient) {}

  async list(known: ReadonlySet<string>): Promise<RuntimeContainer[]> {
    const listed = await this.cri.listContainers();
    const out: RuntimeContainer[] = [];
    const live = new Set<string>();
    for (const c of listed) {
      live.add(c.id);
      const running = c.state === 'CONTAINER_RUNNING';
      const exited = c.state === 'CONTAINER_EXITED' || c.state === 'CONTAINER_UNKNOWN';
      const cached = this.cache.get(c.id);
      if (cached && (known.has(c.id) || !running || cached.pid > 0)) {
        out.push({ ...cached, running, exited });
        continue;
      }
      if (!running) {
        out.push({ id: c.id, running, exited, pid: 0, annotations: c.annotations });
        continue;
      }
      try {
        const info = await this.cri.containerInfo(c.id);
        const rc: RuntimeContainer = {
          id: c.id,
          running: info.state === 'CONTAINER_RUNNING',
          exited: info.state === 'CONTAINER_EXITED' || info.state === 'CONTAINER_UNKNOWN',
          pid: info.pid,
          annotations: info.specAnnotations,
          cgroupsPath: info.cgroupsPath,
        };
        this.cache.set(c.id, rc);
        out.push(rc);
      } catch {
        // Removed between the list and the status call.
      }
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return out;
  }
}
