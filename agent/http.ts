// Readiness and metrics over plain HTTP: /health/readiness (200 once the agent has synced its
// profiles, restored its bindings and listens for hooks; 503 before), /metrics (Prometheus).

import http from 'node:http';
import type { AgentMetrics } from './metrics.js';

export class AgentHttp {
  private server: http.Server | undefined;

  constructor(
    private readonly metrics: AgentMetrics,
    private readonly ready: () => boolean,
  ) {}

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url === '/health/readiness' || url === '/readyz') {
        const ok = this.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
      } else if (url === '/health/liveness' || url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (url === '/metrics') {
        this.metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body),
          (e: Error) => res.writeHead(500).end(e.message),
        );
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
