// Egress to Services and Pods: the BPF compiler returns a policy's toServices / toPods (and the
// built-in rules that name a Service, e.g. block-access-to-kube-apiserver) as selectors; this
// module turns them into addresses from what the cluster holds now, as vArmor's manager does:
//
//   Service by name or serviceSelector   every ClusterIP, all ports; every address of the
//                                        Service's EndpointSlices, on the slice's ports
//   Pods by podSelector                  every Pod IP, on the rule's ports (all when none)
//   no namespace                         every namespace
//
// The controller compiles the addresses back into the ArmorProfile and reconciles again when a
// Service, EndpointSlice or Pod of interest changes (controller/egress-watch.ts), so the agents
// swap in the new tables. Pure: the cluster comes in as an `EgressView` (the controller's is over
// its informers' caches).

import type { AnyPolicy, LabelSelector, PortRange } from './api/types.js';
import type { BpfSelectors, ResolvedDestination } from './bpf/compile.js';
import { findBuiltinRule } from './rules/catalogue.js';
import { matchesSelector } from './selector.js';

export interface ServiceView {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** spec.clusterIPs (or clusterIP); headless ("None") and empty ones are left out by the reader. */
  clusterIPs: string[];
}

export interface EndpointSliceView {
  namespace: string;
  /** The label kubernetes.io/service-name. */
  service: string;
  addresses: string[];
  ports: number[];
}

export interface PodView {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ips: string[];
}

/** What the cluster holds now; `undefined` namespace: every namespace. */
export interface EgressView {
  services(namespace: string | undefined): ServiceView[];
  endpointSlices(namespace: string, service: string): EndpointSliceView[];
  pods(namespace: string | undefined): PodView[];
}

/** What kinds of objects, in which namespaces, a policy's egress rules resolve from. */
export interface EgressInterest {
  /** Namespaces of Services (and their EndpointSlices); '*' for all. */
  services: Set<string>;
  /** Namespaces of Pods; '*' for all. */
  pods: Set<string>;
}

const ALL = '*';

function bpfEnhanceProtect(policy: AnyPolicy) {
  const p = policy.spec?.policy;
  if (!p || p.mode !== 'EnhanceProtect' || !String(p.enforcer ?? '').includes('BPF')) return undefined;
  return p.enhanceProtect;
}

/**
 * The Services and Pods a policy's egress rules name, read from its spec without compiling it
 * (the controller asks this of every policy on every Service, EndpointSlice and Pod event).
 * Undefined when it names none.
 */
export function egressInterest(policy: AnyPolicy): EgressInterest | undefined {
  const ep = bpfEnhanceProtect(policy);
  if (!ep) return undefined;
  const interest: EgressInterest = { services: new Set(), pods: new Set() };
  const names = [
    ...(ep.hardeningRules ?? []),
    ...(ep.attackProtectionRules ?? []).flatMap((r) => (r.targets?.length ? [] : r.rules)),
    ...(ep.vulMitigationRules ?? []),
  ];
  for (const name of names) {
    const bpf = findBuiltinRule(name)?.bpf;
    if (bpf && 'services' in bpf) for (const s of bpf.services ?? []) interest.services.add(s.namespace);
  }
  const eg = ep.bpfRawRules?.network?.egress;
  for (const s of eg?.toServices ?? []) interest.services.add(s.namespace || ALL);
  for (const p of eg?.toPods ?? []) interest.pods.add(p.namespace || ALL);
  return interest.services.size + interest.pods.size > 0 ? interest : undefined;
}

/** Does an object of this kind in this namespace matter to the interest? */
export function interestedIn(interest: EgressInterest, kind: 'Service' | 'Pod', namespace: string | undefined): boolean {
  const set = kind === 'Service' ? interest.services : interest.pods;
  return set.has(ALL) || (namespace !== undefined && set.has(namespace));
}

function servicesOf(view: EgressView, s: BpfSelectors['services'][number]): ServiceView[] {
  const candidates = view.services(s.namespace || undefined);
  if (s.name) return candidates.filter((x) => x.name === s.name);
  return candidates.filter((x) => matchesSelector(s.serviceSelector as LabelSelector | undefined, x.labels));
}

function portsOf(numbers: number[]): PortRange[] | undefined {
  const unique = [...new Set(numbers)].sort((a, b) => a - b);
  return unique.length > 0 ? unique.map((port) => ({ port })) : undefined;
}

/**
 * The addresses the selectors stand for now, deduplicated and in a stable order (the same cluster
 * gives the same tables, so an unchanged cluster writes nothing).
 */
export function resolveEgress(selectors: BpfSelectors, view: EgressView): ResolvedDestination[] {
  const out = new Map<string, ResolvedDestination>();
  const add = (cidr: string, ports: PortRange[] | undefined, d: ResolvedDestination['disposition']): void => {
    const key = JSON.stringify([cidr, ports ?? [], d.deny, d.audit]);
    if (!out.has(key)) out.set(key, { cidr, ...(ports ? { ports } : {}), disposition: { deny: d.deny, audit: d.audit } });
  };
  for (const s of selectors.services) {
    for (const svc of servicesOf(view, s)) {
      for (const ip of svc.clusterIPs) add(ip, undefined, s.disposition);
      for (const slice of view.endpointSlices(svc.namespace, svc.name)) {
        // An endpoint is reachable on its slice's ports only; a slice without ports: every port.
        const ports = portsOf(slice.ports);
        for (const ip of slice.addresses) add(ip, ports, s.disposition);
      }
    }
  }
  for (const p of selectors.pods) {
    const pods = view.pods(p.namespace || undefined).filter((x) => matchesSelector(p.podSelector, x.labels));
    const ports = p.ports && p.ports.length > 0 ? p.ports : undefined;
    for (const pod of pods) for (const ip of pod.ips) add(ip, ports, p.disposition);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** A view over fixed lists (tests, and the guest's stand-in cluster). */
export function staticEgressView(c: { services?: ServiceView[]; endpointSlices?: EndpointSliceView[]; pods?: PodView[] }): EgressView {
  return {
    services: (ns) => (c.services ?? []).filter((s) => ns === undefined || s.namespace === ns),
    endpointSlices: (ns, svc) => (c.endpointSlices ?? []).filter((e) => e.namespace === ns && e.service === svc),
    pods: (ns) => (c.pods ?? []).filter((p) => ns === undefined || p.namespace === ns),
  };
}

/** An empty cluster: what a plan sees when nothing was read (unit tests, no egress rules). */
export const EMPTY_EGRESS_VIEW: EgressView = staticEgressView({});
