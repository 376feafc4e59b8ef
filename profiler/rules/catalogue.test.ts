// The catalogue is complete (every rule the reference lists), well formed for each enforcer,
// and resolves vArmor's spellings and aliases.

import { describe, expect, it } from '@jest/globals';
import { CAPABILITIES } from '../api/well-known.js';
import { BUILTIN_RULES, PRIVILEGED_CAPABILITIES, findBuiltinRule } from './catalogue.js';
import { coverageRows, coverageTable } from './coverage.js';
import { isUnsupported } from './types.js';

// Rule names as listed in varmor-api.md "Built-in rules" (disable-cap-[CAP] expanded below).
const REFERENCE = `
disallow-write-core-pattern disallow-mount-securityfs disallow-mount-procfs disallow-write-release-agent
disallow-mount-cgroupfs disallow-debug-disk-device disallow-mount-disk-device disallow-mount disallow-umount
disallow-insmod disallow-load-bpf-prog disallow-access-procfs-root disallow-access-kallsyms disable-cap-all
disable-cap-all-except-net-bind-service disable-cap-privileged disallow-abuse-user-ns disallow-create-user-ns
disallow-load-all-bpf-prog disallow-load-bpf-via-setsockopt disallow-userfaultfd-creation
mitigate-sa-leak mitigate-disk-device-number-leak mitigate-overlayfs-leak mitigate-host-ip-leak disable-write-etc
disable-access-passwd disable-access-shadow disable-access-ssh-dir disable-busybox disable-shell disable-wget
disable-curl disable-chmod disable-su-sudo disable-network disable-inet disable-inet6 disable-unix-domain-socket
disable-icmp disable-tcp disable-udp block-access-to-container-runtime block-access-to-metadata-service
block-access-to-aws-metadata-service block-access-to-volc-metadata-service block-access-to-alibaba-metadata-service
block-access-to-oci-metadata-service block-access-to-kube-apiserver disable-write-skills disable-chmod-x-bit
disable-chmod-s-bit cgroups-lxcfs-escape-mitigation runc-override-mitigation dirty-pipe-mitigation
ingress-nightmare-mitigation copy-fail-mitigation
`.split(/\s+/).filter(Boolean);

/** Our rules beyond vArmor's catalogue (issue 17): `varmor: []`, BPF only. */
const EXTENSIONS = ['disallow-exec-fileless', 'disallow-exec-unknown'];

/**
 * Rules vArmor implements for an enforcer that we do not. Empty: we implement every one.
 * An entry here needs a comment saying why.
 */
const KNOWN_GAPS: { rule: string; enforcer: string }[] = [];

describe('built-in rule catalogue', () => {
  it('has every rule of the reference, and the 41 disable-cap-<cap> rules', () => {
    for (const n of REFERENCE) expect(findBuiltinRule(n)?.name).toBe(n);
    expect(CAPABILITIES).toHaveLength(41);
    for (const c of CAPABILITIES) expect(findBuiltinRule(`disable-cap-${c.replace(/_/g, '-')}`)?.bpf).toEqual({ capabilities: [c] });
    expect(BUILTIN_RULES).toHaveLength(REFERENCE.length + 41 + EXTENSIONS.length);
    for (const n of EXTENSIONS) expect(findBuiltinRule(n)?.varmor).toEqual([]);
  });

  it('normalises names (case, underscores) and resolves aliases', () => {
    expect(findBuiltinRule('DISABLE_CAP_PRIVILEGED')?.name).toBe('disable-cap-privileged');
    expect(findBuiltinRule('disable-cap-net_raw')?.name).toBe('disable-cap-net-raw');
    expect(findBuiltinRule('disable-ipv4')?.name).toBe('disable-inet');
    expect(findBuiltinRule('disable-ipv6')?.name).toBe('disable-inet6');
    expect(findBuiltinRule('disallow-load-ebpf')?.name).toBe('disallow-load-bpf-prog');
    expect(findBuiltinRule('disallow-metadata-service')?.name).toBe('block-access-to-metadata-service');
    expect(findBuiltinRule('disallow-everything')).toBeUndefined();
  });

  it("disable-cap-privileged is the 27 capabilities outside containerd's default set, NET_RAW kept", () => {
    expect(PRIVILEGED_CAPABILITIES).toHaveLength(27);
    expect(PRIVILEGED_CAPABILITIES).not.toContain('net_raw');
    for (const c of PRIVILEGED_CAPABILITIES) expect(CAPABILITIES).toContain(c);
    const rule = findBuiltinRule('disable-cap-privileged');
    if (!rule || isUnsupported(rule.appArmor)) throw new Error('missing');
    expect(rule.appArmor.lines('deny ', false)).toContain('deny capability sys_admin,');
  });

  it('every rule is implemented by at least one enforcer, and says why where it is not', () => {
    for (const r of BUILTIN_RULES) {
      const impls = [r.appArmor, r.bpf, r.seccomp];
      expect(impls.some((i) => !isUnsupported(i))).toBe(true);
      for (const i of impls) if (isUnsupported(i)) expect(i.unsupported.length).toBeGreaterThan(10);
    }
  });

  it('the BPF hooks vArmor lacks are used: user namespaces, bpf(), setsockopt', () => {
    expect(findBuiltinRule('disallow-create-user-ns')?.bpf).toEqual({ usernsCreate: true });
    expect(findBuiltinRule('disallow-load-all-bpf-prog')?.bpf).toEqual({ bpfProgLoad: true });
    expect(findBuiltinRule('disallow-load-bpf-via-setsockopt')?.bpf).toEqual({ socketFilterAttach: true });
  });

  it("cgroups-lxcfs-escape-mitigation: BPF denies writes to any cgroup.procs (vArmor's /**/cgroup.procs), AppArmor the devices hierarchy's", () => {
    const rule = findBuiltinRule('cgroups-lxcfs-escape-mitigation');
    if (!rule || isUnsupported(rule.bpf) || isUnsupported(rule.appArmor)) throw new Error('missing');
    expect(rule.bpf.files).toContainEqual({ pattern: '/**/cgroup.procs', permissions: ['write', 'append'] });
    expect(rule.bpf.files?.map((f) => f.pattern)).not.toContain('/**/devices/cgroup.procs');
    expect(rule.appArmor.lines('deny ', false)).toContain('deny /**/devices/cgroup.procs w,');
  });

  it('BPF file and process patterns follow the raw-rule glob limits (one * or one **, not both)', () => {
    for (const r of BUILTIN_RULES) {
      if (isUnsupported(r.bpf)) continue;
      for (const f of [...(r.bpf.files ?? []), ...(r.bpf.processes ?? [])]) {
        const doubles = (f.pattern.match(/\*\*/g) ?? []).length;
        const singles = (f.pattern.replace(/\*\*/g, '').match(/\*/g) ?? []).length;
        expect({ rule: r.name, pattern: f.pattern, ok: doubles + singles <= 1 }).toEqual({ rule: r.name, pattern: f.pattern, ok: true });
        expect(Buffer.byteLength(f.pattern)).toBeLessThanOrEqual(128);
      }
    }
  });

  it('AppArmor lines carry the qualifier and end with a comma', () => {
    for (const r of BUILTIN_RULES) {
      if (isUnsupported(r.appArmor)) continue;
      for (const l of r.appArmor.lines('audit deny ', false)) expect(l).toMatch(/^audit deny \S.*,$/);
      for (const l of r.appArmor.lines('', true)) expect(l).not.toMatch(/ rx,$/); // allowing exec rules need ix
    }
  });
});

describe('coverage', () => {
  it('every rule vArmor implements for an enforcer is implemented by us for it (or is a listed gap)', () => {
    const gaps = coverageRows().flatMap((r) =>
      (['AppArmor', 'BPF', 'Seccomp'] as const).filter((e) => r.cells[e].varmor && !r.cells[e].ours).map((e) => ({ rule: r.name, enforcer: e })),
    );
    expect(gaps).toEqual(KNOWN_GAPS);
  });

  it('we implement more than vArmor for each enforcer', () => {
    const rows = coverageRows();
    for (const e of ['BPF', 'Seccomp'] as const) {
      expect(rows.filter((r) => r.cells[e].ours).length).toBeGreaterThan(rows.filter((r) => r.cells[e].varmor).length);
    }
  });

  it('the table lists every rule with both columns and the totals', () => {
    const t = coverageTable();
    for (const r of BUILTIN_RULES) expect(t).toContain(r.name);
    expect(t).toMatch(/^disallow-create-user-ns\s+hardening\s+- \(-\)\s+yes \(-\)\s+yes \(yes\)$/m);
    expect(t).toMatch(/^TOTAL implemented\s+\d+ rules\s+\d+ \(\d+\)\s+\d+ \(\d+\)\s+\d+ \(\d+\)$/m);
    expect(t).toContain('Every rule vArmor implements for an enforcer is implemented by us for it.');
  });
});
