// The agent's end of varmor-hook: a unix socket server that reads one request per connection,
// hands it to the binder, and answers "ok" or "deny <reason>". Only root may connect (0600).

import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { parseHookRequest, type HookRequest } from './request.js';

export type HookDecision = { ok: true } | { ok: false; reason: string };
export type HookHandler = (req: HookRequest) => Promise<HookDecision>;

const MAX_REQUEST = 1 << 20;

export class HookServer {
  private server: net.Server | undefined;

  constructor(
    readonly socketPath: string,
    private readonly handler: HookHandler,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  async listen(): Promise<void> {
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true });
    // A socket left by a previous agent process: nobody listens on it any more.
    fs.rmSync(this.socketPath, { force: true });
    // Half-open: the hook half-closes after its request and still waits for our answer.
    const server = net.createServer({ allowHalfOpen: true }, (conn) => this.serve(conn));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  private serve(conn: net.Socket): void {
    const chunks: Buffer[] = [];
    let size = 0;
    conn.setTimeout(15_000, () => conn.destroy());
    conn.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST) {
        conn.end('deny request too large\n');
        conn.destroy();
        return;
      }
      chunks.push(c);
    });
    conn.on('error', (e) => this.onError(e));
    conn.on('end', () => {
      let req: HookRequest;
      try {
        req = parseHookRequest(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        this.onError(e as Error);
        conn.end(`deny ${(e as Error).message}\n`);
        return;
      }
      this.handler(req).then(
        (d) => conn.end(d.ok ? 'ok\n' : `deny ${d.reason.replace(/\n/g, ' ')}\n`),
        (e: Error) => {
          this.onError(e);
          conn.end(`deny ${e.message.replace(/\n/g, ' ')}\n`);
        },
      );
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
