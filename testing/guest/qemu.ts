// Boots the guest once: qemu TCG (KVM cannot boot a stock kernel on this host, see
// shared/reference/machine.md §3b), a Debian kernel with AppArmor and the BPF LSM enabled on the
// command line (stacked, as on an Ubuntu or Debian node), the serial console on stdout. Returns
// the console text; kills qemu on timeout.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GuestRunError, GuestUnavailableError } from './errors.js';

export const QEMU = 'qemu-system-x86_64';

/** The LSMs the guest kernel starts: Debian's default order with AppArmor, and bpf last. */
export const GUEST_LSMS = ['landlock', 'lockdown', 'yama', 'apparmor', 'bpf'];

export interface BootOptions {
  kernel: string;
  initrd: string;
  /** Extra kernel command line words, e.g. `varmor.suite=enforcement`. */
  append: string[];
  timeoutMs: number;
  memoryMb?: number;
  /** Extra qemu arguments (bench/bpf adds `-icount` for load-independent guest time). */
  qemuArgs?: string[];
  /** Called with console output as it arrives (progress for long runs). */
  onOutput?: (chunk: string) => void;
}

export function qemuPath(): string {
  for (const dir of ['/usr/bin', '/usr/local/bin', '/bin']) {
    if (existsSync(`${dir}/${QEMU}`)) return `${dir}/${QEMU}`;
  }
  throw new GuestUnavailableError(`${QEMU} is not installed (scripts/setup.sh installs qemu-system-x86)`);
}

export function boot(opts: BootOptions): Promise<{ console: string; ms: number }> {
  const args = [
    '-accel', 'tcg', '-cpu', 'max', '-m', String(opts.memoryMb ?? 2048), '-smp', '1',
    '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-monitor', 'none',
    ...(opts.qemuArgs ?? []),
    '-kernel', opts.kernel, '-initrd', opts.initrd,
    '-append', ['console=ttyS0', 'quiet', 'panic=-1', 'rdinit=/init', `lsm=${GUEST_LSMS.join(',')}`, ...opts.append].join(' '),
  ];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(qemuPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    // If the test process goes away first (jest timeout, ^C), qemu must not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      opts.onOutput?.(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      reject(new GuestUnavailableError(`cannot start ${QEMU}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      const ms = Date.now() - t0;
      if (timedOut) reject(new GuestRunError('EGUESTTIMEOUT', `guest did not power off within ${opts.timeoutMs} ms`, out + err));
      else if (code !== 0) reject(new GuestRunError('EGUESTCRASH', `${QEMU} exited with ${code ?? signal}: ${err.trim()}`, out + err));
      else resolve({ console: out, ms });
    });
  });
}
