// Which pods still use a profile, and which workload each belongs to (issue 16, item 7). A policy
// deleted with updateExistingWorkloads keeps its ArmorProfile (so the agents keep the AppArmor
// profile, the Seccomp file and the BPF tables) until no pod references the profile any more: a
// pod whose container starts after the Seccomp file is gone would stall in
// CreateContainerConfigError. Pure: kube.ts turns the API's pods into PodRefs with `podRef`.

import { ANNOTATION_PREFIX, PROFILE_REF_PREFIX } from '../profiler/index.js';

/** What the controller needs of a pod. */
export interface PodRef {
  namespace: string;
  name: string;
  /** creationTimestamp (RFC 3339). */
  created?: string;
  phase?: string;
  /** The workload that owns it, when one does (a Deployment through its ReplicaSet). */
  workload?: { kind: string; name: string };
  /** Every profile name the pod references (our annotations, Localhost profiles in securityContexts). */
  profiles: string[];
}

/** The parts of a core/v1 Pod `podRef` reads (client-node's V1Pod fits). */
export interface PodLike {
  metadata?: {
    namespace?: string;
    name?: string;
    creationTimestamp?: Date | string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec?: {
    securityContext?: SecurityContextLike;
    containers?: { securityContext?: SecurityContextLike }[];
    initContainers?: { securityContext?: SecurityContextLike }[];
    ephemeralContainers?: { securityContext?: SecurityContextLike }[];
  };
  status?: { phase?: string };
}

interface SecurityContextLike {
  seccompProfile?: { type?: string; localhostProfile?: string };
  appArmorProfile?: { type?: string; localhostProfile?: string };
}

const SECCOMP_DIR = 'varmor/';
const LEGACY_APPARMOR_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function profilesOf(pod: PodLike): string[] {
  const out = new Set<string>();
  const ours = Object.values(ANNOTATION_PREFIX);
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (!v.startsWith(PROFILE_REF_PREFIX)) continue;
    if (ours.some((p) => k.startsWith(p)) || k.startsWith(LEGACY_APPARMOR_PREFIX)) out.add(v.slice(PROFILE_REF_PREFIX.length));
  }
  const contexts = [
    pod.spec?.securityContext,
    ...[...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.securityContext),
  ];
  for (const sc of contexts) {
    const seccomp = sc?.seccompProfile;
    if (seccomp?.type === 'Localhost' && seccomp.localhostProfile?.startsWith(SECCOMP_DIR) && seccomp.localhostProfile.endsWith('.json'))
      out.add(seccomp.localhostProfile.slice(SECCOMP_DIR.length, -'.json'.length));
    const aa = sc?.appArmorProfile;
    if (aa?.type === 'Localhost' && aa.localhostProfile) out.add(aa.localhostProfile);
  }
  return [...out].sort();
}

/** The owning workload: a ReplicaSet `<deployment>-<pod-template-hash>` stands for its Deployment. */
function workloadOf(pod: PodLike): PodRef['workload'] {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return { kind: 'Deployment', name: owner.name.slice(0, -hash.length - 1) };
  return { kind: owner.kind, name: owner.name };
}

export function podRef(pod: PodLike): PodRef {
  const created = pod.metadata?.creationTimestamp;
  const workload = workloadOf(pod);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    ...(created ? { created: typeof created === 'string' ? created : created.toISOString() } : {}),
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    ...(workload ? { workload } : {}),
    profiles: profilesOf(pod),
  };
}

/** Pods that may still start a container with the profile: not finished, and referencing it. */
export function podsUsing(pods: readonly PodRef[], profile: string): PodRef[] {
  return pods.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed' && p.profiles.includes(profile));
}
