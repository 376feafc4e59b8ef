// AppArmor in a real kernel, the way a node runs it: the real compiler's profile, loaded by the
// agent's loader (apparmor_parser -r), and a runc container started with it
// (config.json process.apparmorProfile, which runc enters at the container's first exec). The
// cases: each profile mode in a container; child profiles for targeted executables; and the
// loader's own promises (replace under a running container with no unconfined instant, a bad
// profile leaving the previous one in force, removal).

import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { AppArmorLoader } from '../../../agent/loaders/apparmor.js';
import { appArmorBehavior, parseAppArmorAudit, profileOfLabel } from '../../../agent/events/apparmor-audit.js';
import { KernelLogReader } from '../../../agent/events/kernel-log.js';
import { BehaviorRecorder } from '../../../agent/modeling/record.js';
import { kernelLog } from '../../../native/index.js';
import type { BehaviorData, Mode, Policy } from '../../../profiler/api/types.js';
import { appArmorProfileFor } from '../guest/apparmor.js';
import { sh, sleep, takeAppArmorLog } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';
import { ALL_CAPS, createAndStart, makeBundle, runc, stopAndDelete } from './container.js';

const loader = new AppArmorLoader({ profileDir: '/tmp/aa-profiles' });

async function load(name: string, mode: Mode, policy: Partial<Policy> = {}, behaviour?: BehaviorData): Promise<void> {
  const { profile, complain } = appArmorProfileFor(name, mode, policy, behaviour);
  await loader.load(name, profile, complain);
}

/** What every container script reports: `key=OK|DENIED` per action, and the profile it runs under. */
const REPORT = [
  'echo label=$(cat /proc/self/attr/current 2>/dev/null | tr " " _)',
  'cat /etc/secret >/dev/null 2>&1 && echo secret=OK || echo secret=DENIED',
  'cat /etc/allowed >/dev/null 2>&1 && echo allowed=OK || echo allowed=DENIED',
  'mkdir -p /tmp/m 2>/dev/null && mount -t tmpfs x /tmp/m 2>/dev/null && echo mount=OK || echo mount=DENIED',
  // "h" only prints the SysRq help to the kernel log
  '(echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=OK || echo sysrq=DENIED',
].join('; ');

function parse(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line.trim());
    if (m) r[m[1]] = m[2];
  }
  return r;
}

interface Run {
  code: number;
  report: Record<string, string>;
  stderr: string;
}

/** A busybox container under `profile`, running `script`; its `key=value` lines parsed. */
async function container(id: string, profile: string, script: string, setup?: (rootfs: string) => void): Promise<Run> {
  const dir = `/tmp/aa-${id}`;
  makeBundle({
    dir,
    args: ['/bin/sh', '-c', script],
    cgroupsPath: `/aa/${id}`,
    files: { '/etc/secret': 'top-secret\n', '/etc/allowed': 'fine\n' },
    capabilities: ALL_CAPS,
    appArmorProfile: profile,
    applets: ['mount', 'mkdir', 'tr', 'sleep'],
  });
  setup?.(`${dir}/rootfs`);
  const r = await runc(`run --no-pivot -b ${dir} ${id}`);
  return { code: r.code, report: parse(r.stdout), stderr: r.stderr.trim() };
}

/** The apparmor=/name= pairs of the log lines about `name` (a path). */
function verdicts(lines: string[], path: string): string[] {
  return [...new Set(lines.filter((l) => l.includes(`name="${path}"`)).map((l) => /apparmor="(\w+)"/.exec(l)?.[1] ?? '?'))].sort();
}

function loaded(): string[] {
  return readFileSync('/sys/kernel/security/apparmor/profiles', 'utf8').trim().split('\n');
}

export async function setup(): Promise<void> {
  writeFileSync('/proc/sys/kernel/printk_ratelimit', '0');
  await sh('dmesg -c');
}

/** What the DefenseInDepth model allows: the shell and its reads of /etc/allowed, nothing else. */
const MODEL: BehaviorData = {
  executions: ['/bin/busybox'],
  files: [
    { path: '/etc/allowed', permissions: ['read'] },
    { path: '/bin/busybox', permissions: ['read', 'mmap'] },
  ],
};

export const cases: GuestCase[] = [
  {
    name: 'apparmor modes: each profile mode in a runc container',
    async run() {
      const out: Record<string, Run & { log?: Record<string, string[]> }> = {};
      await load('varmor-aa-always', 'AlwaysAllow');
      out.AlwaysAllow = await container('always', 'varmor-aa-always', REPORT);
      await load('varmor-aa-runtime', 'RuntimeDefault');
      out.RuntimeDefault = await container('runtime', 'varmor-aa-runtime', REPORT);
      await load('varmor-aa-enhance', 'EnhanceProtect', {
        enhanceProtect: { appArmorRawRules: [{ rules: 'deny /etc/secret r,' }] },
      });
      out.EnhanceProtect = await container('enhance', 'varmor-aa-enhance', REPORT);
      await sh('dmesg -c');
      await load('varmor-aa-modelling', 'BehaviorModeling');
      out.BehaviorModeling = await container('modelling', 'varmor-aa-modelling', REPORT);
      const modelLog = await takeAppArmorLog('varmor-aa-modelling', { withChildren: true });
      out.BehaviorModeling.log = { secret: verdicts(modelLog, '/etc/secret'), allowed: verdicts(modelLog, '/etc/allowed') };
      await load('varmor-aa-did', 'DefenseInDepth', { defenseInDepth: { appArmor: { profileType: 'BehaviorModel' } } }, MODEL);
      out.DefenseInDepth = await container('did', 'varmor-aa-did', REPORT);
      const didLog = await takeAppArmorLog('varmor-aa-did', { withChildren: true });
      out.DefenseInDepth.log = { secret: verdicts(didLog, '/etc/secret'), allowed: verdicts(didLog, '/etc/allowed') };
      // record -> shadow -> enforce: the same model with allowViolations reports what it would deny
      await load('varmor-aa-shadow', 'DefenseInDepth', { defenseInDepth: { allowViolations: true, appArmor: { profileType: 'BehaviorModel' } } }, MODEL);
      out.DefenseInDepthShadow = await container('shadow', 'varmor-aa-shadow', REPORT);
      const shadowLog = await takeAppArmorLog('varmor-aa-shadow', { withChildren: true });
      out.DefenseInDepthShadow.log = { secret: verdicts(shadowLog, '/etc/secret'), allowed: verdicts(shadowLog, '/etc/allowed') };
      return out;
    },
  },
  {
    name: 'apparmor child profiles: a targeted executable runs in its child profile',
    async run() {
      // The target is a second busybox at its own path (an applet symlink would resolve to
      // /bin/busybox, the parent's program): AppArmor judges an exec by the file's path.
      const tool = '/usr/bin/busybox';
      await load('varmor-aa-child', 'EnhanceProtect', {
        enhanceProtect: {
          attackProtectionRules: [{ rules: ['disable-access-passwd'], targets: [tool] }],
          appArmorRawRules: [{ rules: 'deny /etc/global-secret r,' }],
        },
      });
      const script = [
        'echo parent=$(cat /proc/self/attr/current | tr " " _)',
        `echo child=$(${tool} cat /proc/self/attr/current | tr " " _)`,
        `${tool} cat /etc/allowed >/dev/null 2>&1 && echo childAllowed=OK || echo childAllowed=DENIED`,
        'cat /etc/passwd >/dev/null 2>&1 && echo parentPasswd=OK || echo parentPasswd=DENIED',
        `${tool} cat /etc/passwd >/dev/null 2>&1 && echo childPasswd=OK || echo childPasswd=DENIED`,
        'cat /etc/global-secret >/dev/null 2>&1 && echo parentGlobal=OK || echo parentGlobal=DENIED',
        `${tool} cat /etc/global-secret >/dev/null 2>&1 && echo childGlobal=OK || echo childGlobal=DENIED`,
        // what the child runs stays in the child: its rules go with it
        `echo grandchild=$(${tool} sh -c "cat /proc/self/attr/current" | tr " " _)`,
        `${tool} sh -c "cat /etc/passwd" >/dev/null 2>&1 && echo grandchildPasswd=OK || echo grandchildPasswd=DENIED`,
      ].join('; ');
      return container('child', 'varmor-aa-child', script, (rootfs) => {
        mkdirSync(`${rootfs}/usr/bin`, { recursive: true });
        copyFileSync('/bin/busybox', `${rootfs}${tool}`);
        chmodSync(`${rootfs}${tool}`, 0o755);
        writeFileSync(`${rootfs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\n');
        writeFileSync(`${rootfs}/etc/global-secret`, 'x\n');
      });
    },
  },
  {
    name: 'apparmor loader: replace under a running container, a bad profile keeps the old one, remove',
    async run() {
      const name = 'varmor-aa-live';
      await load(name, 'EnhanceProtect', { enhanceProtect: { privileged: true } });
      const dir = '/tmp/aa-live';
      makeBundle({
        dir,
        // one line per attempt: whether the secret could be read
        args: ['/bin/sh', '-c', 'while true; do if cat /etc/secret >/dev/null 2>&1; then echo OK; else echo DENIED; fi; sleep 0.05; done'],
        cgroupsPath: '/aa/live',
        files: { '/etc/secret': 'top-secret\n' },
        appArmorProfile: name,
        applets: ['sleep'],
      });
      const log = `${dir}/out.log`;
      const pid = await createAndStart(dir, 'live', log);
      const labelOf = (): string => readFileSync(`/proc/${pid}/attr/current`, 'utf8').trim();
      await sleep(1000);
      const before = readFileSync(log, 'utf8').trim().split('\n');

      // replace: sample the container's label all through the replacement
      const labels = new Set<string>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          labels.add(labelOf());
          await sleep(1);
        }
      })();
      await load(name, 'EnhanceProtect', { enhanceProtect: { privileged: true, appArmorRawRules: [{ rules: 'deny /etc/secret r,' }] } });
      // from the first attempt that starts after the replacement returned
      await sleep(200);
      const marker = readFileSync(log, 'utf8').length;
      await sleep(1000);
      sampling = false;
      await sampler;
      const after = readFileSync(log, 'utf8').slice(marker).trim().split('\n');

      // a profile apparmor_parser refuses: the load fails, the running profile stays
      let badLoad = '';
      try {
        await loader.load(name, `profile ${name} {\n  this is not a rule,\n}\n`, false);
      } catch (e) {
        badLoad = `${(e as { code?: string }).code ?? ''}: ${(e as Error).message}`;
      }
      const markerBad = readFileSync(log, 'utf8').length;
      await sleep(1000);
      const afterBad = readFileSync(log, 'utf8').slice(markerBad).trim().split('\n');
      const labelAfterBad = labelOf();

      await stopAndDelete('live', { kill: true });
      const listedBeforeRemove = loaded().some((l) => l.startsWith(`${name} `));
      await loader.unload(name);
      const listedAfterRemove = loaded().some((l) => l.startsWith(`${name} `));
      // removing again is a no-op, as the agent's retries need
      let secondRemove = 'OK';
      try {
        await loader.unload(name);
      } catch (e) {
        secondRemove = (e as Error).message;
      }
      return {
        before: [...new Set(before)],
        after: [...new Set(after)],
        labels: [...labels],
        badLoad,
        afterBad: [...new Set(afterBad)],
        labelAfterBad,
        listedBeforeRemove,
        listedAfterRemove,
        secondRemove,
      };
    },
  },
  {
    name: 'apparmor modelling: a workload recorded in complain mode, then confined by its own model',
    timeoutMs: 300_000,
    async run() {
      // The workload: reads its config, appends to its log, runs a helper script, reports.
      const workload = 'cat /etc/app.conf >/dev/null && echo started >> /tmp/app.log && /bin/helper.sh >> /tmp/app.log && echo work=OK';
      const probes = [
        'mkdir /tmp/new 2>/dev/null && echo mkdir=OK || echo mkdir=DENIED',
        'cat /etc/secret >/dev/null 2>&1 && echo secret=OK || echo secret=DENIED',
      ].join('; ');
      const setupRootfs = (rootfs: string): void => {
        writeFileSync(`${rootfs}/etc/app.conf`, 'port=8080\n');
        writeFileSync(`${rootfs}/bin/helper.sh`, '#!/bin/sh\necho helped\n');
        chmodSync(`${rootfs}/bin/helper.sh`, 0o755);
      };
      const name = 'varmor-aa-journey';
      // 1. record: the agent's own kernel log reader, parser and recorder, as its event pump runs them
      const reader = new KernelLogReader(kernelLog);
      await load(name, 'BehaviorModeling');
      const recorded = await container('journey-model', name, workload, setupRootfs);
      const recorder = new BehaviorRecorder();
      let records = 0;
      reader.poll((m) => {
        const r = parseAppArmorAudit(m);
        if (r && r.verdict === 'ALLOWED' && profileOfLabel(r.label) === name) {
          records++;
          recorder.merge(appArmorBehavior(r));
        }
      });
      // 2. the model, 3. its DefenseInDepth profile in force
      const t0 = Date.now();
      const data = recorder.data();
      await load(name, 'DefenseInDepth', { defenseInDepth: { appArmor: { profileType: 'BehaviorModel' } } }, data);
      const modelToEnforceMs = Date.now() - t0;
      await sh('dmesg -c');
      // 4. the workload again, under its model: its work happens and nothing is denied
      const confined = await container('journey-enforce', name, workload, setupRootfs);
      const deniedDuringWork = (await takeAppArmorLog(name, { withChildren: true })).filter((l) => l.includes('apparmor="DENIED"'));
      // and what it never did is denied
      const outside = await container('journey-outside', name, probes, setupRootfs);
      const deniedOutside = (await takeAppArmorLog(name, { withChildren: true })).filter((l) => l.includes('apparmor="DENIED"')).length;
      return {
        recorded: recorded.report,
        records,
        modelEntries: recorder.entries,
        model: data,
        modelToEnforceMs,
        confined: confined.report,
        confinedStderr: confined.stderr,
        falseDenials: deniedDuringWork,
        outside: outside.report,
        deniedOutside,
      };
    },
  },
];
