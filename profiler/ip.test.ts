// The one address parser (./ip.ts): the text forms, what the BPF table holds, and the validator
// and the compiler agreeing on every edge case.
import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy } from './api/types.js';
import { BpfCompileError, compileBpf } from './bpf/compile.js';
import { AF_INET, AF_INET6, cidrVersion, formatIp, ipVersion, parseCidr, parseHost, parseIpOrCidr } from './ip.js';
import { validatePolicy } from './validate/index.js';

describe('address parsing', () => {
  it.each([
    ['10.0.0.1', 4], ['255.255.255.255', 4], ['::', 6], ['::1', 6], ['fd00:ec2::254', 6], ['1:2:3:4:5:6:7:8', 6],
    ['::ffff:192.0.2.1', 6], ['2001:db8::', 6], ['256.0.0.1', 0], ['01.2.3.4', 0], ['1.2.3', 0], ['1:2:3:4:5:6:7:8:9', 0],
    ['1::2::3', 0], ['fd00::g', 0], ['', 0], ['1:2:3:4:5:6:7::8', 0], ['fe80::1%eth0', 0],
  ])('%s is IPv%s (0 = invalid)', (s, v) => expect(ipVersion(s)).toBe(v));

  it.each([
    ['10.0.0.0/8', 4], ['0.0.0.0/0', 4], ['1.2.3.4/32', 4], ['fd00::/8', 6], ['::/0', 6], ['2001:db8::/128', 6],
    ['10.0.0.0/33', 0], ['fd00::/129', 0], ['10.0.0.0', 0], ['10.0.0.0/08', 0], ['10.0.0.0/', 0],
  ])('%s is an IPv%s CIDR (0 = invalid)', (s, v) => expect(cidrVersion(s)).toBe(v));
});

describe('what the table holds', () => {
  it.each([
    // [text, family, table address, prefix bits]
    ['10.1.2.3/8', AF_INET, '10.0.0.0', 8],
    ['::ffff:10.0.0.0/104', AF_INET, '10.0.0.0', 8],
    ['::ffff:0:0/96', AF_INET, '0.0.0.0', 0],
    ['::FFFF:192.0.2.1/128', AF_INET, '192.0.2.1', 32],
    ['fd00:ec2::254/128', AF_INET6, 'fd00:ec2::254', 128],
    ['2001:db8:1::/32', AF_INET6, '2001:db8::', 32],
    ['0::/0', AF_INET6, '::', 0],
  ])('%s is %s %s/%s', (text, family, addr, bits) => {
    const c = parseCidr(text);
    expect(c && { family: c.family, addr: formatIp(c.family, c.bytes), bits: c.bits }).toEqual({ family, addr, bits });
  });

  it('a bare address is a host route; an IPv4-mapped one is IPv4', () => {
    expect(parseHost('::ffff:10.0.0.1')).toEqual(parseHost('10.0.0.1'));
    expect(parseHost('10.0.0.1')?.bits).toBe(32);
    expect(parseHost('fd00::1')?.bits).toBe(128);
    expect(parseHost('10.0.0.0/8')).toBeNull();
    expect(parseCidr('10.0.0.1')).toBeNull();
    expect(parseIpOrCidr('10.0.0.1')?.bits).toBe(32);
    expect(parseIpOrCidr('10.0.0.0/8')?.bits).toBe(8);
  });
});

// The validator (profiler/validate) and the BPF compiler (profiler/bpf) read toDestinations with
// this one parser; this table holds them together on the edge cases, through their public entry
// points, so a second parser creeping back in either of them shows here.
describe('validation and compilation agree on every destination', () => {
  const policy = (dest: { ip?: string; cidr?: string; ports?: { port: number; endPort?: number }[] }): AnyPolicy => ({
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      policy: { enforcer: 'BPF', mode: 'EnhanceProtect', enhanceProtect: { bpfRawRules: { network: { egress: { toDestinations: [{ ...dest, qualifiers: ['deny'] }] } } } } },
    },
  });
  const compiles = (p: AnyPolicy): boolean => {
    try {
      compileBpf({ profileName: 'varmor-ns-p', bpfPolicyId: 1, mode: 'EnhanceProtect', enforcers: ['BPF'], policy: p.spec.policy });
      return true;
    } catch (err) {
      if (err instanceof BpfCompileError) return false;
      throw err;
    }
  };

  const IPS: [string, boolean][] = [
    ['10.0.0.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['::', true],
    ['::1', true],
    ['FD00:EC2::254', true],
    ['0001:0db8::0001', true],
    ['1:2:3:4:5:6:7:8', true],
    ['1:2:3:4:5:6:1.2.3.4', true],
    ['::ffff:10.0.0.1', true], // IPv4-mapped
    ['::ffff:a00:1', true], // IPv4-mapped, hex form
    ['::10.0.0.1', true], // IPv4-compatible (deprecated, still an address)
    ['ffff::10.0.0.1', true],
    ['010.0.0.1', false], // leading zero
    ['10.0.0.01', false],
    ['256.0.0.1', false],
    ['10.0.0', false],
    ['10.0.0.1.', false],
    [' 10.0.0.1', false],
    ['00001::', false], // five hex digits
    ['1:2:3:4:5:6:7:8:9', false],
    ['1:2:3:4:5:6:7::8', false], // `::` must stand for at least one group
    ['1::2::3', false],
    [':::', false],
    ['1:', false],
    [':1::', false],
    ['fe80::1%eth0', false], // zone id
    ['1.2.3.4::', false], // IPv4 part before `::`
    ['1.2.3.4::5', false],
    ['::1.2.3.4:5', false], // IPv4 part not last
    ['::ffff:010.0.0.1', false],
    ['10.0.0.0/8', false], // a CIDR in the ip field
    ['pod-self', true], // vArmor's named addresses
    ['localhost', true],
    ['unspecified', true],
    ['Localhost', false],
  ];
  it.each(IPS)('ip %j valid: %s', (ip, valid) => {
    const p = policy({ ip });
    expect(validatePolicy(p).ok).toBe(valid);
    expect(compiles(p)).toBe(valid);
  });

  const CIDRS: [string, boolean][] = [
    ['10.0.0.0/8', true],
    ['10.1.2.3/8', true], // host bits are cleared, not refused (as the API server's CIDR fields)
    ['0.0.0.0/0', true],
    ['1.2.3.4/32', true],
    ['::/0', true],
    ['fd00::/8', true],
    ['2001:db8::/128', true],
    ['::ffff:10.0.0.0/104', true], // IPv4-mapped: 10.0.0.0/8
    ['::ffff:0:0/96', true], // every IPv4 address
    ['::ffff:10.0.0.0/95', false], // reaches outside the mapped space
    ['::ffff:10.0.0.0/8', false],
    ['10.0.0.0/33', false],
    ['fd00::/129', false],
    ['10.0.0.0/08', false], // leading zero
    ['10.0.0.0/-1', false],
    ['10.0.0.0/', false],
    ['10.0.0.0/8/8', false],
    ['10.0.0.0', false], // a bare address in the cidr field
    ['/8', false],
    ['fe80::%eth0/64', false],
    ['010.0.0.0/8', false],
    ['pod-self', false],
  ];
  it.each(CIDRS)('cidr %j valid: %s', (cidr, valid) => {
    const p = policy({ cidr });
    expect(validatePolicy(p).ok).toBe(valid);
    expect(compiles(p)).toBe(valid);
  });

  const PORTS: [{ port: number; endPort?: number }, boolean][] = [
    [{ port: 1 }, true],
    [{ port: 65535 }, true],
    [{ port: 80, endPort: 443 }, true],
    [{ port: 0 }, false], // the compiler took 0 while the validator refused it
    [{ port: 65536 }, false],
    [{ port: 443, endPort: 80 }, false],
    [{ port: 80, endPort: 65536 }, false],
    [{ port: 1.5 }, false],
  ];
  it.each(PORTS)('ports %j valid: %s', (range, valid) => {
    const p = policy({ cidr: '10.0.0.0/8', ports: [range] });
    expect(validatePolicy(p).ok).toBe(valid);
    expect(compiles(p)).toBe(valid);
  });
});
