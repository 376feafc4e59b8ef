// Egress to Services and Pods resolved from a cluster view, then compiled into the BPF tables.

import { describe, expect, it } from '@jest/globals';
import type { AnyPolicy, EnhanceProtect } from './api/types.js';
import { decodeTables } from './bpf/encode.js';
import { compilePolicy } from './compile.js';
import { egressInterest, interestedIn, resolveEgress, staticEgressView, type EgressView, type PodView, type ServiceView, type EndpointSliceView } from './egress.js';

function view(services: ServiceView[], endpointSlices: EndpointSliceView[], pods: PodView[]): EgressView {
  return staticEgressView({ services, endpointSlices, pods });
}

const CLUSTER = view(
  [
    { namespace: 'default', name: 'kubernetes', labels: { component: 'apiserver' }, clusterIPs: ['10.96.0.1'] },
    { namespace: 'db', name: 'pg', labels: { tier: 'data' }, clusterIPs: ['10.96.5.5', 'fd00::5'] },
    { namespace: 'db', name: 'cache', labels: { tier: 'data' }, clusterIPs: [] },
    { namespace: 'web', name: 'front', labels: { tier: 'web' }, clusterIPs: ['10.96.9.9'] },
  ],
  [
    { namespace: 'default', service: 'kubernetes', addresses: ['192.168.1.10'], ports: [6443] },
    { namespace: 'db', service: 'pg', addresses: ['10.244.0.7', '10.244.0.8'], ports: [5432] },
    { namespace: 'db', service: 'cache', addresses: ['10.244.0.9'], ports: [] },
  ],
  [
    { namespace: 'db', name: 'pg-0', labels: { app: 'pg' }, ips: ['10.244.0.7'] },
    { namespace: 'db', name: 'pg-1', labels: { app: 'pg' }, ips: ['10.244.0.8', 'fd00::8'] },
    { namespace: 'web', name: 'pg-lookalike', labels: { app: 'pg' }, ips: ['10.244.1.3'] },
    { namespace: 'db', name: 'other', labels: { app: 'other' }, ips: ['10.244.0.11'] },
  ],
);

const DENY = { deny: true, audit: false };

function bpfPolicy(enhanceProtect: EnhanceProtect, namespace = 'team'): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'egress', namespace },
    spec: { target: { kind: 'Pod', selector: { matchLabels: { app: 'x' } } }, policy: { enforcer: 'BPF', mode: 'EnhanceProtect', enhanceProtect } },
  } as AnyPolicy;
}

describe('resolveEgress', () => {
  it('a Service by name: its ClusterIPs on every port, its endpoints on the slice ports', () => {
    const r = resolveEgress({ services: [{ namespace: 'default', name: 'kubernetes', disposition: DENY, field: 'f' }], pods: [] }, CLUSTER);
    expect(r).toEqual([
      { cidr: '10.96.0.1', disposition: DENY },
      { cidr: '192.168.1.10', ports: [{ port: 6443 }], disposition: DENY },
    ]);
  });

  it('Services by selector across their namespace; a slice without ports covers every port', () => {
    const r = resolveEgress({ services: [{ namespace: 'db', serviceSelector: { matchLabels: { tier: 'data' } }, disposition: DENY, field: 'f' }], pods: [] }, CLUSTER);
    expect(r.map((x) => [x.cidr, x.ports?.map((p) => p.port) ?? 'all'])).toEqual([
      ['10.244.0.7', [5432]],
      ['10.244.0.8', [5432]],
      ['10.244.0.9', 'all'],
      ['10.96.5.5', 'all'],
      ['fd00::5', 'all'],
    ]);
  });

  it('Pods by selector in one namespace, or in all when none is given; with the rule ports', () => {
    const inDb = resolveEgress({ services: [], pods: [{ namespace: 'db', podSelector: { matchLabels: { app: 'pg' } }, ports: [{ port: 5432 }], disposition: DENY, field: 'f' }] }, CLUSTER);
    expect(inDb.map((x) => x.cidr)).toEqual(['10.244.0.7', '10.244.0.8', 'fd00::8']);
    expect(inDb.every((x) => x.ports?.[0]?.port === 5432)).toBe(true);
    const everywhere = resolveEgress({ services: [], pods: [{ podSelector: { matchLabels: { app: 'pg' } }, disposition: DENY, field: 'f' }] }, CLUSTER);
    expect(everywhere.map((x) => x.cidr)).toContain('10.244.1.3');
    expect(everywhere.every((x) => x.ports === undefined)).toBe(true);
  });

  it('a missing Service or no matching Pod resolves to nothing, and the order is stable', () => {
    expect(resolveEgress({ services: [{ namespace: 'x', name: 'gone', disposition: DENY, field: 'f' }], pods: [] }, CLUSTER)).toEqual([]);
    const sel = { services: [{ namespace: 'db', serviceSelector: { matchLabels: { tier: 'data' } }, disposition: DENY, field: 'f' }], pods: [] };
    expect(resolveEgress(sel, CLUSTER)).toEqual(resolveEgress(sel, CLUSTER));
  });
});

describe('egressInterest', () => {
  it('names the namespaces of the Services and Pods a BPF policy reaches, built-in rules included', () => {
    const i = egressInterest(
      bpfPolicy({
        attackProtectionRules: [{ rules: ['block-access-to-kube-apiserver'] }],
        bpfRawRules: { network: { egress: { toPods: [{ podSelector: { matchLabels: { app: 'pg' } }, qualifiers: ['deny'] }], toServices: [{ namespace: 'db', name: 'pg', qualifiers: ['deny'] }] } } },
      }),
    );
    expect(i && [...i.services].sort()).toEqual(['db', 'default']);
    expect(i && [...i.pods]).toEqual(['*']);
    expect(i && interestedIn(i, 'Pod', 'anything')).toBe(true);
    expect(i && interestedIn(i, 'Service', 'web')).toBe(false);
  });

  it('is undefined for a policy naming none, or not enforced by BPF', () => {
    expect(egressInterest(bpfPolicy({ hardeningRules: ['disallow-mount'] }))).toBeUndefined();
    const aa = bpfPolicy({ attackProtectionRules: [{ rules: ['block-access-to-kube-apiserver'] }] });
    (aa.spec.policy as { enforcer: string }).enforcer = 'AppArmor';
    expect(egressInterest(aa)).toBeUndefined();
  });
});

describe('compiled in', () => {
  it('block-access-to-kube-apiserver denies the API server Service and its endpoint in the BPF tables', () => {
    const policy = bpfPolicy({ privileged: true, attackProtectionRules: [{ rules: ['block-access-to-kube-apiserver'] }] });
    const first = compilePolicy(policy);
    expect(decodeTables(first.bpf!.tables).net).toEqual([]);
    const resolved = resolveEgress(first.bpfSelectors!, CLUSTER);
    const t = decodeTables(compilePolicy(policy, { bpf: { resolvedDestinations: resolved } }).bpf!.tables);
    expect(t.net).toContainEqual({ addr: '10.96.0.1', prefixBits: 32, deny: 1, audit: 0, portBits: 0n });
    expect(t.net).toContainEqual({ addr: '192.168.1.10', prefixBits: 32, deny: 0, audit: 0, portBits: 1n });
    expect(t.netPorts).toEqual([{ index: 0, deny: 1, audit: 0, ranges: [{ lo: 6443, hi: 6443 }] }]);
  });

  it('a thousand endpoints on the same port share one port record (the 64-record limit bounds port sets, not addresses)', () => {
    const addresses = Array.from({ length: 1000 }, (_, i) => `10.244.${i >> 8}.${i & 255}`);
    const big = view([{ namespace: 'db', name: 'pg', labels: {}, clusterIPs: ['10.96.5.5'] }], [{ namespace: 'db', service: 'pg', addresses, ports: [5432] }], []);
    const policy = bpfPolicy({ privileged: true, bpfRawRules: { network: { egress: { toServices: [{ namespace: 'db', name: 'pg', qualifiers: ['deny'] }] } } } });
    const resolved = resolveEgress(compilePolicy(policy).bpfSelectors!, big);
    const t = decodeTables(compilePolicy(policy, { bpf: { resolvedDestinations: resolved } }).bpf!.tables);
    expect(t.net).toHaveLength(1001);
    expect(t.netPorts).toHaveLength(1);
  });

  it("vArmor's named addresses: pod-self is one entry the node fills in; localhost and unspecified expand", () => {
    const dest = (ip: string) =>
      decodeTables(compilePolicy(bpfPolicy({ privileged: true, bpfRawRules: { network: { egress: { toDestinations: [{ ip, ports: [{ port: 80 }], qualifiers: ['deny'] }] } } } })).bpf!.tables).net.map((n) => `${n.addr}/${n.prefixBits}`);
    expect(dest('pod-self')).toEqual(['pod-self/0']);
    expect(dest('localhost').sort()).toEqual(['127.0.0.0/8', '::1/128']);
    expect(dest('unspecified').sort()).toEqual(['0.0.0.0/32', '::/128']);
  });
});
