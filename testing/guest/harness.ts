// The host side of the guest tests: find the kernel, build (or reuse) the initramfs, boot one
// qemu guest for a whole suite, and hand back the per-case records. Used by
// testing/guest/*.guest.test.ts and bench/bpf.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GuestRunError, GuestUnavailableError } from './errors.js';
import { addonSource, buildInitramfs } from './initramfs.js';
import { findKernel, GUEST_KERNEL_PKG, kernelRelease, overlayModule } from './kernel.js';
import { parseRecords, type CaseRecord, type InfoRecord } from './protocol.js';
import { boot, qemuPath } from './qemu.js';
import { SUITES } from './suites.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface GuestRunOptions {
  timeoutMs?: number;
  /** Print the console as it arrives (bench progress). */
  echo?: boolean;
  /** Extra qemu arguments. */
  qemuArgs?: string[];
  /** Extra kernel command line words for the guest (read by the suite from /proc/cmdline). */
  append?: string[];
  /** The Debian kernel package to boot (default GUEST_KERNEL_PKG, Debian 12's 6.1). */
  kernelPkg?: string;
}

export class GuestRun {
  readonly cases = new Map<string, CaseRecord>();
  readonly info = new Map<string, unknown>();
  constructor(
    readonly suite: string,
    readonly console: string,
    readonly ms: number,
    readonly initrd: string,
    /** The release of the kernel booted (`uname -r`). */
    readonly kernelRelease = '',
  ) {
    for (const r of parseRecords(console)) {
      if (r.type === 'case') this.cases.set(r.name, r);
      else if (r.type === 'info') this.info.set((r as InfoRecord).key, r.value);
    }
  }

  /** A case's observations; throws (with the guest's own error and console tail) if it did not pass. */
  result<T = Record<string, unknown>>(name: string): T {
    const r = this.cases.get(name);
    if (!r) {
      throw new GuestRunError('EGUESTCRASH', `guest case '${name}' reported nothing (ran: ${[...this.cases.keys()].join(', ')})`, this.console);
    }
    if (!r.ok) {
      const e = r.error;
      throw new Error(`guest case '${name}' failed in the guest: ${e?.code ? `[${e.code}] ` : ''}${e?.message}\n${e?.stack ?? ''}`);
    }
    return r.data as T;
  }
}

/** Checks what a guest run needs before spending time on it; throws GuestUnavailableError naming what is missing. */
export function guestPrerequisites(kernelPkg = GUEST_KERNEL_PKG): { kernel: string; qemu: string } {
  return { qemu: qemuPath(), kernel: findKernel(REPO_ROOT, kernelPkg) };
}

export async function runGuest(suite: string, opts: GuestRunOptions = {}): Promise<GuestRun> {
  if (!SUITES[suite]) throw new GuestUnavailableError(`unknown guest suite '${suite}' (have: ${Object.keys(SUITES).join(', ')})`);
  const kernelPkg = opts.kernelPkg ?? GUEST_KERNEL_PKG;
  const { kernel } = guestPrerequisites(kernelPkg);
  if (suite !== 'smoke' && !existsSync(addonSource(REPO_ROOT))) {
    throw new GuestUnavailableError(`the BPF addon is not built (${addonSource(REPO_ROOT)} is missing): run npm run build:native`);
  }
  const initrd = buildInitramfs({ repoRoot: REPO_ROOT, suites: SUITES, overlayModule: overlayModule(REPO_ROOT, kernelPkg) });
  const { console: text, ms } = await boot({
    kernel,
    initrd,
    append: [`varmor.suite=${suite}`, ...(opts.append ?? [])],
    timeoutMs: opts.timeoutMs ?? 600_000,
    qemuArgs: opts.qemuArgs,
    onOutput: opts.echo ? (d) => process.stderr.write(d) : undefined,
  });
  const run = new GuestRun(suite, text, ms, initrd, kernelRelease(kernel));
  const done = parseRecords(text).find((r) => r.type === 'done');
  if (!done) throw new GuestRunError('EGUESTCRASH', `guest suite '${suite}' powered off without finishing`, text);
  if (done.type === 'done' && done.code !== 0) {
    throw new GuestRunError('EGUESTCRASH', `guest suite '${suite}' stopped: ${done.message ?? `code ${done.code}`}`, text);
  }
  return run;
}

