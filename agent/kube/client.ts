// A small Kubernetes API client over node:https: JSON requests and watch streams, nothing else.
// Errors carry the HTTP status as `code` (404, 409, 410...) like client-node's, so callers branch
// on it the same way.

import http from 'node:http';
import https from 'node:https';
import { AgentError } from '../errors.js';
import type { KubeAccess } from './config.js';

export class KubeError extends AgentError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(String(status), message);
  }
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class KubeClient {
  private readonly agent: https.Agent | http.Agent;
  private readonly url: URL;

  constructor(private readonly access: KubeAccess) {
    this.url = new URL(access.server);
    const opts = { keepAlive: true, maxSockets: 8, ca: access.ca, cert: access.cert, key: access.key, rejectUnauthorized: !access.insecureSkipTLSVerify };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(opts) : new http.Agent({ keepAlive: true });
  }

  private open(method: string, path: string, body: unknown, timeoutMs: number | undefined, onResponse: (res: http.IncomingMessage) => void, onError: (e: Error) => void): http.ClientRequest {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.access.token?.();
    if (token) headers['authorization'] = `Bearer ${token}`;
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const lib = this.url.protocol === 'https:' ? https : http;
    const req = lib.request(
      { protocol: this.url.protocol, hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port, method, path: (this.url.pathname.replace(/\/$/, '') || '') + path, headers, agent: this.agent },
      onResponse,
    );
    req.on('error', onError);
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
    req.end(payload);
    return req;
  }

  request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.open(
        method,
        path,
        body,
        timeoutMs,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              let msg = text;
              try {
                msg = (JSON.parse(text) as { message?: string }).message ?? text;
              } catch {
                // not JSON
              }
              return reject(new KubeError(status, `${method} ${path}: ${status} ${msg}`));
            }
            try {
              resolve((text ? JSON.parse(text) : {}) as T);
            } catch (e) {
              reject(new KubeError(status, `${method} ${path}: bad JSON: ${(e as Error).message}`));
            }
          });
        },
        reject,
      );
    });
  }

  /**
   * Streams watch events until the server ends the stream (resolve) or it fails (reject).
   * `stop()` ends it early. One JSON object per line, as the API server sends them.
   */
  watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void): { done: Promise<void>; stop(): void } {
    let req: http.ClientRequest | undefined;
    let stopped = false;
    const done = new Promise<void>((resolve, reject) => {
      req = this.open(
        'GET',
        path,
        undefined,
        undefined,
        (res) => {
          if ((res.statusCode ?? 0) !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => reject(new KubeError(res.statusCode ?? 0, `watch ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 500)}`)));
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              try {
                onEvent(JSON.parse(line) as WatchEvent<T>);
              } catch (e) {
                req?.destroy(e as Error);
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', (e) => (stopped ? resolve() : reject(e)));
        },
        (e) => (stopped ? resolve() : reject(e)),
      );
    });
    return {
      done,
      stop() {
        stopped = true;
        req?.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}
