// The kernel log, polled through syslog(2) (the addon's kernelLog(): every record still in the
// ring, not consumed, so no other reader loses anything; CAP_SYSLOG). /dev/kmsg would stream it,
// but a container's device cgroup does not allow that device unless the pod is privileged.
// Records already there when the reader starts are skipped (they predate the agent), as vArmor
// tails its audit log from the end. Each poll resumes after the last record it handed over,
// found by its exact text, or by its timestamp when the ring has moved past it.

export class KernelLogReader {
  private last: Buffer | undefined;
  private lastTs = -1;

  constructor(private readonly read: () => Buffer) {
    this.poll(() => undefined);
  }

  /** Hands each new record's text (without the `<pri>[seconds] ` prefix) to `fn`; returns how many. */
  poll(fn: (message: string) => void): number {
    const buf = this.read();
    let start = 0;
    let anchored = false;
    if (this.last) {
      const i = buf.lastIndexOf(this.last);
      if (i >= 0) {
        start = i + this.last.length;
        anchored = true;
      }
    }
    let n = 0;
    let lastLine: string | undefined;
    for (const line of buf.toString('utf8', start).split('\n')) {
      const m = /^<\d+>(?:\[\s*(\d+\.\d+)\] )?(.*)$/.exec(line);
      if (!m) continue;
      const ts = m[1] === undefined ? -1 : Number(m[1]);
      if (!anchored && this.last && ts <= this.lastTs) continue; // the ring moved past our anchor
      lastLine = line;
      if (ts >= 0) this.lastTs = ts;
      n++;
      fn(m[2]);
    }
    if (lastLine !== undefined) this.last = Buffer.from(`${lastLine}\n`);
    else if (!this.last) this.last = Buffer.alloc(0);
    return n;
  }
}
