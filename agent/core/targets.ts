// Which profiles a container asks for, read from the annotations the webhook wrote on its pod
// (passed into the OCI spec by containerd's pod_annotations, or read from the Pod object), and
// who the container is (containerd's CRI annotations). Pure.

import { ANNOTATION_PREFIX, type BindingRefs, type Enforcer, PROFILE_REF_PREFIX } from '../../profiler/node.js';

export const CRI_CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
export const CRI_CONTAINER_NAME = 'io.kubernetes.cri.container-name';
export const CRI_SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
export const CRI_SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name';
export const CRI_SANDBOX_NAMESPACE = 'io.kubernetes.cri.sandbox-namespace';
export const CRI_SANDBOX_UID = 'io.kubernetes.cri.sandbox-uid';

const PREFIX = ANNOTATION_PREFIX;

export type ContainerTargets = Partial<Record<Enforcer, string>>;

export interface ContainerIdentity {
  /** 'container' for workloads, 'sandbox' for the pod's pause container. */
  type: string;
  name: string;
  sandboxId: string;
  podName: string;
  podNamespace: string;
  podUid: string;
}

/** `localhost/<profileName>` -> profileName; `unconfined` (user opt-out) and anything else -> undefined. */
export function profileFromAnnotationValue(value: string | undefined): string | undefined {
  if (!value || !value.startsWith(PROFILE_REF_PREFIX)) return undefined;
  const name = value.slice(PROFILE_REF_PREFIX.length);
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? name : undefined;
}

export function containerTargets(annotations: Record<string, string>, containerName: string): ContainerTargets {
  const out: ContainerTargets = {};
  for (const enforcer of Object.keys(PREFIX) as Enforcer[]) {
    const name = profileFromAnnotationValue(annotations[PREFIX[enforcer] + containerName]);
    if (name) out[enforcer] = name;
  }
  return out;
}

/** The raw reference annotation values of `containerName` (what the webhook signed), by enforcer. */
export function containerRefs(annotations: Record<string, string>, containerName: string): BindingRefs {
  const out: BindingRefs = {};
  for (const enforcer of Object.keys(PREFIX) as Enforcer[]) {
    const v = annotations[PREFIX[enforcer] + containerName];
    if (v !== undefined) out[enforcer] = v;
  }
  return out;
}

/** Whether the pod's annotations bind any of its containers to a BPF profile. */
export function podHasBpfRefs(annotations: Record<string, string>): boolean {
  return Object.entries(annotations).some(([k, v]) => k.startsWith(PREFIX.BPF) && profileFromAnnotationValue(v) !== undefined);
}

export function containerIdentity(annotations: Record<string, string>): ContainerIdentity {
  return {
    type: annotations[CRI_CONTAINER_TYPE] ?? '',
    name: annotations[CRI_CONTAINER_NAME] ?? '',
    sandboxId: annotations[CRI_SANDBOX_ID] ?? '',
    podName: annotations[CRI_SANDBOX_NAME] ?? '',
    podNamespace: annotations[CRI_SANDBOX_NAMESPACE] ?? '',
    podUid: annotations[CRI_SANDBOX_UID] ?? '',
  };
}
