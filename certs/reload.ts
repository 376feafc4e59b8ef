// Hot reload of a rotated serving certificate: watch the folder (a mounted Secret is updated by an
// atomic symlink swap, a local rotation by renames), re-read the pair, and hand it to the TLS
// server only once the key matches the certificate, so a half-rotated folder never breaks a
// handshake: connections keep the old context until the new one is complete.

import { watch, type FSWatcher } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { readServingFiles, type ServingFiles } from './files.js';

export interface SecureContextTarget {
  setSecureContext(options: { cert: string; key: string }): void;
}

export interface ReloaderOptions {
  /** Quiet time after the last change before re-reading. Default 100 ms. */
  debounceMs?: number;
  /** Poll as a fallback (some volume types send no events). Default 30 s; 0 disables. */
  pollMs?: number;
  onReload?: (files: ServingFiles) => void;
  onError?: (err: Error) => void;
}

export class CertReloader {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private current?: string;
  private running = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly target: SecureContextTarget,
    private readonly opts: ReloaderOptions = {},
  ) {}

  /** `served` is the certificate the server started with, so an unchanged folder is not reloaded. */
  start(served?: string): void {
    this.current = served;
    this.watcher = watch(this.dir, () => this.schedule());
    this.watcher.on('error', (err) => this.opts.onError?.(err));
    const pollMs = this.opts.pollMs ?? 30_000;
    if (pollMs > 0) {
      this.poll = setInterval(() => this.schedule(), pollMs);
      this.poll.unref();
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(async () => {
        await this.reload();
      });
    }, this.opts.debounceMs ?? 100);
  }

  /** Re-reads the folder now; resolves true when a new certificate was installed. */
  async reload(): Promise<boolean> {
    let files: ServingFiles | null;
    try {
      files = await readServingFiles(this.dir);
      if (!files || files.cert === this.current) return false;
      // Throws on anything the TLS stack would refuse, before the server sees it.
      createSecureContext({ cert: files.cert, key: files.key });
      this.target.setSecureContext({ cert: files.cert, key: files.key });
    } catch (err) {
      // A mismatched pair is normal in the middle of a rotation: the next event completes it.
      this.opts.onError?.(err as Error);
      return false;
    }
    this.current = files.cert;
    this.opts.onReload?.(files);
    return true;
  }

  /** Waits for a reload in progress. */
  async settled(): Promise<void> {
    await this.running;
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
  }
}
