// Seccomp audit records: the parser on the kernel's own lines, and the kmsg reader on this host's
// real kernel (a process with a filter that logs mkdir, SECCOMP_RET_LOG, as runc installs one for
// SCMP_ACT_LOG).

import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KernelLogReader } from './kernel-log.js';
import { kernelLog } from '../../native/index.js';
import { parseSeccompAudit, seccompAction, seccompViolation } from './seccomp-audit.js';

const LINE = 'audit: type=1326 audit(1796307663.640:10010): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4116 comm="t" exe="/tmp/w/sc/t" sig=0 arch=c000003e syscall=83 compat=0 ip=0x7f0bbde5ff37 code=0x7ffc0000';

describe('parseSeccompAudit', () => {
  it('reads pid, comm, exe, arch, syscall and the filter action from the kernel line', () => {
    expect(parseSeccompAudit(LINE)).toEqual({ pid: 4116, comm: 't', exe: '/tmp/w/sc/t', arch: 'c000003e', syscall: 83, code: 0x7ffc0000 });
    expect(parseSeccompAudit('audit: type=1400 audit(1.2:3): apparmor="DENIED"')).toBeUndefined();
    expect(parseSeccompAudit('type=1326 audit(1.2:3): pid=x syscall=1 code=0x0')).toBeUndefined();
    expect(parseSeccompAudit('random text')).toBeUndefined();
  });

  it('names the filter action: LOG is an audit, the rest denials', () => {
    expect(seccompAction(0x7ffc0000)).toEqual({ action: 'AUDIT', ret: 'SCMP_ACT_LOG' });
    expect(seccompAction(0x00050001)).toEqual({ action: 'DENIED', ret: 'SCMP_ACT_ERRNO' });
    expect(seccompAction(0x80000000)).toEqual({ action: 'DENIED', ret: 'SCMP_ACT_KILL_PROCESS' });
  });

  it('shapes a violation of a container, named after the syscall', () => {
    const ref = { containerId: 'c1', containerName: 'app', podName: 'web-1', podNamespace: 'shop', podUid: 'u1' };
    expect(seccompViolation(parseSeccompAudit(LINE)!, ref, 'varmor-shop-web', 'mkdir')).toMatchObject({
      enforcer: 'Seccomp', action: 'AUDIT', enforced: false, profileName: 'varmor-shop-web', namespace: 'shop', pod: 'web-1', container: 'app',
      rule: { operation: 'syscall', syscall: 'mkdir', number: 83, filterAction: 'SCMP_ACT_LOG' },
    });
  });
});

describe('KernelLogReader', () => {
  it('skips what was there, resumes after the last record, and after a wrapped ring by timestamp', () => {
    let ring = '<6>[1.000000] a\n<6>[2.000000] b\n';
    const r = new KernelLogReader(() => Buffer.from(ring));
    const seen: string[] = [];
    expect(r.poll((m) => seen.push(m))).toBe(0);
    ring += '<4>[3.000000] c\n<6>[3.500000] d\n';
    expect(r.poll((m) => seen.push(m))).toBe(2);
    expect(r.poll((m) => seen.push(m))).toBe(0);
    // the ring dropped everything we knew: only what is newer than our last record
    ring = '<6>[3.400000] old\n<6>[4.000000] e\n';
    r.poll((m) => seen.push(m));
    expect(seen).toEqual(['c', 'd', 'e']);
  });
});

describe('KernelLogReader on this host (syslog(2) through the addon)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'varmor-kmsg-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('skips what was there, then hands over the record a logged syscall makes', () => {
    const bin = path.join(dir, 'log-mkdir');
    execFileSync('cc', ['-O2', '-o', bin, path.resolve(import.meta.dirname ?? __dirname, '../../testing/seccomp/log-mkdir.c')]);
    const r = new KernelLogReader(kernelLog);
    {
      const p = spawnSync(bin, [path.join(dir, 'made')]);
      expect(p.status).toBe(0);
      const seen: ReturnType<typeof parseSeccompAudit>[] = [];
      // the kernel's audit thread prints it: poll until it is there
      for (let i = 0; i < 50 && !seen.some((x) => x?.pid === p.pid); i++) {
        r.poll((m) => seen.push(parseSeccompAudit(m)));
        if (!seen.some((x) => x?.pid === p.pid)) execFileSync('sleep', ['0.1']);
      }
      const mine = seen.filter((x) => x?.pid === p.pid);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ comm: 'log-mkdir', syscall: 83, code: 0x7ffc0000 });
    }
  });
});
