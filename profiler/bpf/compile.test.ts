// The BPF compiler and the tables encoder, without a kernel: what each pattern, rule and mode
// becomes in the tables, read back through decodeTables.

import { describe, expect, it } from '@jest/globals';
import type { CompileInput } from '../compiled.js';
import type { EnhanceProtect } from '../api/types.js';
import { BUILTIN_RULES } from '../rules/catalogue.js';
import { isUnsupported } from '../rules/types.js';
import { BpfCompileError, compileBpf, permWords, policyDisposition, RUNTIME_DEFAULT_FILES } from './compile.js';
import { BpfTablesError, computeFilters, decodeTables, emptyTables, encodeTables, type Tables } from './encode.js';
import { parseCidr, parseIp, formatIp } from '../ip.js';
import * as L from './layout.js';
import { planPattern } from './rules.js';

const ID = 0xabc123;
function input(mode: CompileInput['mode'], ep?: EnhanceProtect): CompileInput {
  return { profileName: 'varmor-ns-p', bpfPolicyId: ID, mode, enforcers: ['BPF'], policy: { enforcer: 'BPF', mode, enhanceProtect: ep } };
}
const tablesOf = (mode: CompileInput['mode'], ep?: EnhanceProtect): Tables => decodeTables(compileBpf(input(mode, ep)).tables);
const RWA = L.VT_PERM_READ | L.VT_PERM_WRITE | L.VT_PERM_APPEND;

describe('planPattern', () => {
  it.each([
    ['/etc/passwd', { kind: 'exact', path: '/etc/passwd' }],
    ['/run/secrets/**', { kind: 'prefix', prefix: '/run/secrets/' }],
    ['**', { kind: 'prefix', prefix: '' }],
    ['/**', { kind: 'prefix', prefix: '/' }],
    ['**/nc', { kind: 'suffix', suffix: '/nc' }],
    ['/**/busybox', { kind: 'suffix', suffix: '/busybox' }],
    ['*.pem', { kind: 'suffix', suffix: '.pem' }],
    ['passwd', { kind: 'suffix', suffix: '/passwd' }],
    ['id_rsa*', { kind: 'glob', prefix: '', suffix: '', flags: L.VT_GLOB_BASENAME, base: 'id_rsa' }],
    ['/etc/*.conf', { kind: 'glob', prefix: '/etc/', suffix: '.conf', flags: L.VT_GLOB_ONE_COMPONENT, base: '' }],
    ['/sys/fs/cgroup/**/release_agent', { kind: 'glob', prefix: '/sys/fs/cgroup/', suffix: '/release_agent', flags: L.VT_GLOB_SLASH_OVERLAP, base: '' }],
    ['/proc/**mem', { kind: 'glob', prefix: '/proc/', suffix: 'mem', flags: 0, base: '' }],
  ])('%s', (pattern, plan) => {
    expect(planPattern(pattern, 'f')).toEqual(plan);
  });

  it('refuses two globs, naming the field', () => {
    expect(() => planPattern('/a/*/b/*', 'spec.x[0].pattern')).toThrow(BpfCompileError);
    expect(() => planPattern('/a/**/b/*', 'spec.x[0].pattern')).toThrow(/spec\.x\[0\]\.pattern: .*one glob/);
  });
});

describe('compileBpf modes', () => {
  it('AlwaysAllow: enforce mode, no rules', () => {
    const t = tablesOf('AlwaysAllow');
    expect(t.policy.mode).toBe(L.VT_MODE_ENFORCE);
    expect(t.policy.tableMask).toBe(0);
    expect([t.pathExact, t.pathPrefix, t.sockets, t.net, t.mountRules].every((x) => x.length === 0)).toBe(true);
    expect(t.policyId).toBe(ID);
  });

  it('BehaviorModeling: record mode, no rules', () => {
    const t = tablesOf('BehaviorModeling');
    expect(t.policy.mode).toBe(L.VT_MODE_RECORD);
    expect(t.pathExact).toEqual([]);
  });

  it('DefenseInDepth is refused with the mode field', () => {
    expect(() => compileBpf(input('DefenseInDepth'))).toThrow(/spec\.policy\.mode: DefenseInDepth is not supported/);
  });

  it('RuntimeDefault: the baseline files, no new mounts, no cross-container ptrace', () => {
    const t = tablesOf('RuntimeDefault');
    expect(t.pathExact).toContainEqual({ path: '/proc/sysrq-trigger', deny: RWA, audit: 0 });
    expect(t.pathExact).toContainEqual({ path: '/proc/kcore', deny: RWA, audit: 0 });
    expect(t.pathPrefix).toContainEqual({ literal: '/sys/firmware/', deny: RWA, audit: 0, globBits: 0n });
    expect(t.pathPrefix.find((p) => p.literal === '/proc/sys/net/')?.deny).toBe(L.VT_PERM_WRITE | L.VT_PERM_APPEND);
    expect(t.mountRules).toHaveLength(1);
    expect(t.mountRules[0]).toMatchObject({ patternFlags: L.VT_MP_ANY, deny: 1, reverseFlags: 0xffffffff });
    expect(t.mountRules[0].flags & L.VT_MNT_UMOUNT).toBe(0);
    expect(t.mountFstype).toEqual([{ fstype: '*', bits: 1n }]);
    expect(t.policy.ptraceDeny).toBe(L.VT_PT_TRACE | L.VT_PT_READ);
    expect(t.policy.ptraceFlags & L.VT_PT_STRICT).toBe(0);
    expect(RUNTIME_DEFAULT_FILES.length).toBeGreaterThan(20);
  });

  it("RuntimeDefault denies every process's mem, as vArmor's /proc/**/mem: /proc/self/mem and /proc/1/mem, not only /proc/mem", () => {
    const t = tablesOf('RuntimeDefault');
    expect(RUNTIME_DEFAULT_FILES).toContainEqual({ pattern: '/proc/**/mem', perms: RWA });
    expect(t.pathExact.map((e) => e.path)).not.toContain('/proc/mem');
    // prefix "/proc/", suffix "/mem", the two slashes may be one (so /proc/mem matches too)
    expect(planPattern('/proc/**/mem', 'f')).toEqual({ kind: 'glob', prefix: '/proc/', suffix: '/mem', flags: L.VT_GLOB_SLASH_OVERLAP, base: '' });
    expect(t.pathGlob).toContainEqual(expect.objectContaining({ flags: L.VT_GLOB_SLASH_OVERLAP, deny: RWA, prefixLen: 6, suffixLen: 4 }));
  });
});

describe('EnhanceProtect', () => {
  it.each([
    [false, false, { deny: true, audit: false }],
    [true, false, { deny: true, audit: true }],
    [true, true, { deny: false, audit: true }],
    [false, true, { deny: false, audit: false }],
  ])('auditViolations=%s allowViolations=%s -> %o (vArmor table)', (auditViolations, allowViolations, d) => {
    expect(policyDisposition({ auditViolations, allowViolations })).toEqual(d);
    const t = tablesOf('EnhanceProtect', { privileged: true, auditViolations, allowViolations, attackProtectionRules: [{ rules: ['disable-access-shadow'] }] });
    const e = t.pathExact.find((x) => x.path === '/etc/shadow');
    if (!d.deny && !d.audit) expect(e).toBeUndefined();
    else expect(e).toEqual({ path: '/etc/shadow', deny: d.deny ? RWA : 0, audit: d.audit ? RWA : 0 });
  });

  it('privileged skips the baseline; unprivileged carries it', () => {
    expect(tablesOf('EnhanceProtect', { privileged: true }).pathExact).toEqual([]);
    expect(tablesOf('EnhanceProtect', {}).pathExact.map((x) => x.path)).toContain('/proc/kcore');
  });

  it('capability rules confine privileged policies too, and the hooks vArmor lacks are flags', () => {
    const t = tablesOf('EnhanceProtect', {
      privileged: true,
      hardeningRules: ['disable-cap-all', 'disallow-create-user-ns', 'disallow-load-all-bpf-prog', 'disallow-load-bpf-via-setsockopt'],
    });
    expect(t.policy.capDeny).toBe((1n << 41n) - 1n);
    expect(t.policy.flagsDeny).toBe(L.VT_F_USERNS_CREATE | L.VT_F_BPF_PROG_LOAD | L.VT_F_SOCK_FILTER_ATTACH);
  });

  it('every built-in rule with a BPF implementation compiles, alone and all together', () => {
    const bpfRules = BUILTIN_RULES.filter((r) => !isUnsupported(r.bpf));
    expect(bpfRules.length).toBeGreaterThan(40);
    for (const r of bpfRules) {
      const res = compileBpf(input('EnhanceProtect', { vulMitigationRules: [r.name] }));
      expect(res.tables.length).toBeGreaterThan(0);
    }
    const all = compileBpf(input('EnhanceProtect', { hardeningRules: bpfRules.map((r) => r.name) }));
    const t = decodeTables(all.tables);
    expect(t.pathGlob.length).toBeLessThanOrEqual(L.VT_MAX_GLOBS);
    expect(all.selectors?.services.map((s) => `${s.namespace}/${s.name}`)).toContain('default/kubernetes');
  });

  it('LPM entries fold in every shorter match, and glob bits sit on both sides', () => {
    const t = tablesOf('EnhanceProtect', {
      privileged: true,
      bpfRawRules: {
        files: [
          { pattern: '/etc/**', permissions: ['write'], qualifiers: ['deny'] },
          { pattern: '/etc/ssl/**', permissions: ['read'], qualifiers: ['audit'] },
          { pattern: '/etc/*.conf', permissions: ['read'], qualifiers: ['deny'] },
          { pattern: '*.pem', permissions: ['r'], qualifiers: ['deny'] },
        ],
      },
    });
    const ssl = t.pathPrefix.find((p) => p.literal === '/etc/ssl/');
    expect(ssl).toMatchObject({ deny: L.VT_PERM_WRITE | L.VT_PERM_APPEND, audit: L.VT_PERM_READ });
    expect(ssl?.globBits).toBe(1n); // /etc/*.conf's prefix "/etc/" covers /etc/ssl/ too
    expect(t.pathSuffix.find((s) => s.literal === '.conf')?.globBits).toBe(1n);
    expect(t.pathSuffix.find((s) => s.literal === '.pem')).toMatchObject({ deny: L.VT_PERM_READ, globBits: 0n });
    expect(t.pathGlob).toEqual([
      { index: 0, flags: L.VT_GLOB_ONE_COMPONENT, deny: L.VT_PERM_READ, audit: 0, prefixLen: 5, suffixLen: 5, basePrefix: '' },
    ]);
  });

  it('network: sockets expand, CIDRs fold, port ranges become indexed records, selectors are returned', () => {
    const res = compileBpf(
      input('EnhanceProtect', {
        privileged: true,
        bpfRawRules: {
          network: {
            sockets: [{ domains: ['inet', 'inet6'], types: ['raw'], qualifiers: ['deny'] }, { protocols: ['icmp'], qualifiers: ['audit'] }],
            egress: {
              toDestinations: [
                { cidr: '10.0.0.0/8', qualifiers: ['deny'] },
                { cidr: '10.1.0.0/16', ports: [{ port: 2379, endPort: 2380 }], qualifiers: ['deny', 'audit'] },
                { ip: 'fd00::10', ports: [{ port: 6443 }], qualifiers: ['deny'] },
              ],
              toServices: [{ namespace: 'default', name: 'kubernetes', qualifiers: ['deny'] }],
              toPods: [{ namespace: 'db', podSelector: { matchLabels: { app: 'pg' } }, ports: [{ port: 5432 }], qualifiers: ['audit'] }],
            },
          },
        },
      }),
    );
    const t = decodeTables(res.tables);
    expect(t.sockets).toContainEqual({ family: 2, type: 3, protocol: L.VT_ANY, deny: 1, audit: 0 });
    expect(t.sockets).toContainEqual({ family: 10, type: 3, protocol: L.VT_ANY, deny: 1, audit: 0 });
    expect(t.sockets).toContainEqual({ family: L.VT_ANY, type: L.VT_ANY, protocol: 1, deny: 0, audit: 1 });
    expect(t.net).toContainEqual({ addr: '10.1.0.0', prefixBits: 16, deny: 1, audit: 0, portBits: 1n });
    expect(t.net).toContainEqual({ addr: 'fd00::10', prefixBits: 128, deny: 0, audit: 0, portBits: 2n });
    expect(t.netPorts[0]).toEqual({ index: 0, deny: 1, audit: 1, ranges: [{ lo: 2379, hi: 2380 }] });
    expect(res.selectors?.services[0]).toMatchObject({ namespace: 'default', name: 'kubernetes', disposition: { deny: true, audit: false } });
    expect(res.selectors?.pods[0]).toMatchObject({ namespace: 'db', ports: [{ port: 5432 }], disposition: { deny: false, audit: true } });
    // the agent compiles the resolved addresses back in
    const again = compileBpf(input('EnhanceProtect', { privileged: true }), {
      resolvedDestinations: [{ cidr: '10.96.0.1', disposition: { deny: true, audit: false } }],
    });
    expect(decodeTables(again.tables).net).toEqual([{ addr: '10.96.0.1', prefixBits: 32, deny: 1, audit: 0, portBits: 0n }]);
  });

  it('mounts: fstype entries carry the wildcard rules; umount is its own flag', () => {
    const t = tablesOf('EnhanceProtect', {
      privileged: true,
      hardeningRules: ['disallow-mount-procfs', 'disallow-umount'],
    });
    const star = t.mountFstype.find((f) => f.fstype === '*')?.bits ?? 0n;
    const proc = t.mountFstype.find((f) => f.fstype === 'proc')?.bits ?? 0n;
    expect(proc & star).toBe(star);
    expect(t.mountRules.some((m) => m.flags === L.VT_MNT_UMOUNT && m.patternFlags === L.VT_MP_ANY)).toBe(true);
    expect(t.mountRules.some((m) => m.prefix === '/proc' && m.patternFlags === L.VT_MP_GLOB)).toBe(true);
  });

  it('bad raw rules name their field', () => {
    expect(() =>
      compileBpf(input('EnhanceProtect', { bpfRawRules: { files: [{ pattern: '/x', permissions: ['fly'], qualifiers: ['deny'] }] } })),
    ).toThrow(/bpfRawRules\.files\[0\]\.permissions\[0\]: unknown permission "fly"/);
    expect(() =>
      compileBpf(input('EnhanceProtect', { bpfRawRules: { network: { egress: { toDestinations: [{ cidr: '10.0.0.0/33', qualifiers: ['deny'] }] } } } })),
    ).toThrow(/toDestinations\[0\]: "10\.0\.0\.0\/33"/);
    expect(() => compileBpf(input('EnhanceProtect', { hardeningRules: ['no-such-rule'] }))).toThrow(/hardeningRules\[0\]: unknown built-in rule/);
  });
  it('ancestors: every directory above (or equal to) a literal, with the masks of the rules below; none for suffixes', () => {
    const t = tablesOf('EnhanceProtect', {
      privileged: true,
      bpfRawRules: {
        files: [
          { pattern: '/data/secret/**', permissions: ['read'], qualifiers: ['deny'] },
          { pattern: '/data/cfg', permissions: ['write'], qualifiers: ['audit'] },
          { pattern: '/etc/*.conf', permissions: ['write'], qualifiers: ['deny'] },
          { pattern: '/data/sec*', permissions: ['exec'], qualifiers: ['deny'] },
          { pattern: '/**/cgroup.procs', permissions: ['write'], qualifiers: ['deny'] },
          { pattern: '*.pem', permissions: ['read'], qualifiers: ['deny'] },
        ],
      },
    });
    const W = L.VT_PERM_WRITE | L.VT_PERM_APPEND;
    expect(Object.fromEntries(t.pathAncestor.map((a) => [a.path, { deny: a.deny, audit: a.audit }]))).toEqual({
      '/': { deny: L.VT_PERM_READ | W | L.VT_PERM_EXEC, audit: W },
      '/data': { deny: L.VT_PERM_READ | L.VT_PERM_EXEC, audit: W },
      '/data/secret': { deny: L.VT_PERM_READ, audit: 0 },
      '/etc': { deny: W, audit: 0 },
    });
    expect(t.policy.tableMask! & L.VT_T_PATH_ANCESTOR).toBe(L.VT_T_PATH_ANCESTOR);
    // suffix-only rules survive any move: no ancestors, no table
    const s = tablesOf('EnhanceProtect', { privileged: true, bpfRawRules: { files: [{ pattern: '*.pem', permissions: ['read'], qualifiers: ['deny'] }] } });
    expect(s.pathAncestor).toEqual([]);
    expect(s.policy.tableMask! & L.VT_T_PATH_ANCESTOR).toBe(0);
  });
});

describe('encodeTables / decodeTables', () => {
  it('round-trips every section', () => {
    const t = emptyTables(7, L.VT_MODE_ENFORCE);
    t.policy = { mode: 1, capDeny: 1n << 40n, capAudit: 3n, flagsDeny: 1, flagsAudit: 2, ptraceDeny: 2, ptraceAudit: 4, ptraceFlags: 1 };
    t.pathExact = [{ path: '/etc/passwd', deny: 4, audit: 0 }];
    t.pathPrefix = [{ literal: '/etc/', deny: 2, audit: 0, globBits: 1n }];
    t.pathSuffix = [{ literal: '.pem', deny: 0, audit: 4, globBits: 1n }];
    t.pathGlob = [{ index: 0, flags: 1, deny: 4, audit: 0, prefixLen: 5, suffixLen: 4, basePrefix: 'id_' }];
    t.sockets = [{ family: 17, type: L.VT_ANY, protocol: L.VT_ANY, deny: 1, audit: 0 }];
    t.net = [{ addr: '169.254.0.0', prefixBits: 16, deny: 1, audit: 0, portBits: 0n }];
    t.netPorts = [{ index: 0, deny: 1, audit: 0, ranges: [{ lo: 1, hi: 2 }] }];
    t.mountFstype = [{ fstype: 'proc', bits: 1n }];
    t.mountRules = [{ index: 0, deny: 1, audit: 0, flags: 4096, reverseFlags: 0, patternFlags: 4, prefix: '/proc', suffix: '' }];
    t.pathAncestor = [{ path: '/', deny: 4, audit: 0 }, { path: '/etc', deny: 4, audit: 2 }];
    const d = decodeTables(encodeTables(t));
    expect(d).toEqual({ ...t, policy: { ...t.policy, tableMask: 0x7f, filters: computeFilters(t) } });
    expect(() => encodeTables({ ...t, pathAncestor: [{ path: 'x'.repeat(256), deny: 1, audit: 0 }] })).toThrow(/pathAncestor\[0\]\.path/);
  });

  it('writes the suffix bytes reversed with an LPM prefix length, as the kernel looks them up', () => {
    const t = emptyTables(1, 1);
    t.pathSuffix = [{ literal: '/nc', deny: 1, audit: 0, globBits: 0n }];
    const buf = encodeTables(t);
    const dv = new DataView(buf.buffer);
    const sec = L.LAYOUT.vt_blob_header.size + 3 * L.LAYOUT.vt_section.size; // PATH_SUFFIX is the 4th section
    expect(dv.getUint32(sec, true)).toBe(L.VT_SEC.PATH_SUFFIX);
    const rec = dv.getUint32(sec + 12, true);
    expect(dv.getUint32(rec, true)).toBe(64 + 24);
    expect(new TextDecoder().decode(buf.subarray(rec + 12, rec + 15))).toBe('cn/');
  });

  it('rejects bad input with BpfTablesError naming the field', () => {
    const t = emptyTables(1, 1);
    t.pathExact = [{ path: 'x'.repeat(256), deny: 1, audit: 0 }];
    expect(() => encodeTables(t)).toThrow(/pathExact\[0\]\.path/);
    expect(() => decodeTables(new Uint8Array(8))).toThrow(BpfTablesError);
    const ok = encodeTables(emptyTables(1, 1));
    const bad = ok.slice();
    bad[4] = 9;
    expect(() => decodeTables(bad)).toThrow(/version/);
  });
});

describe('lookup pre-filters', () => {
  it('hold exact lengths, the second byte of prefixes and the last byte of suffixes; short literals open them fully', () => {
    const t = emptyTables(1, 1);
    t.pathExact = [{ path: '/etc/passwd', deny: 4, audit: 0 }];
    t.pathPrefix = [{ literal: '/proc/', deny: 4, audit: 0, globBits: 0n }];
    t.pathSuffix = [{ literal: '.pem', deny: 4, audit: 0, globBits: 0n }];
    const f = computeFilters(t);
    expect(f.exactLen).toEqual([1n << 11n, 0n, 0n, 0n]);
    expect(f.prefixC1[1]).toBe(1n << BigInt('p'.charCodeAt(0) - 64));
    expect(f.suffixLast[1]).toBe(1n << BigInt('m'.charCodeAt(0) - 64));
    t.pathPrefix.push({ literal: '', deny: 0, audit: 0, globBits: 1n });
    expect(computeFilters(t).prefixC1).toEqual(Array(4).fill(2n ** 64n - 1n));
  });
});

describe('ip', () => {
  it('parses and formats v4, v6, mapped v4 and CIDRs', () => {
    expect(parseIp('::ffff:10.0.0.1')).toEqual(parseIp('10.0.0.1'));
    expect(formatIp(10, parseIp('fd00:ec2::254')!.bytes)).toBe('fd00:ec2::254');
    expect(parseCidr('10.1.2.3/8')?.bytes.subarray(0, 4)).toEqual(new Uint8Array([10, 0, 0, 0]));
    expect(parseCidr('1.2.3.4/33')).toBeNull();
    expect(parseIp('1.2.3')).toBeNull();
    expect(permWords(L.VT_PERM_READ | L.VT_PERM_EXEC)).toEqual(['read', 'exec']);
  });
});
