// The shapes the mutation reads and writes: the parts of a core/v1 Pod it looks at (everything
// else passes through untouched), the JSONPatch it emits, and the annotation and field names
// shared with the node agent (CONTRACTS.md "Pod annotations").

import type { Enforcer } from '../../profiler/index.js';

export interface ProfileRef {
  type: string; // Localhost | RuntimeDefault | Unconfined
  localhostProfile?: string;
}

export interface SecurityContext {
  privileged?: boolean;
  appArmorProfile?: ProfileRef;
  seccompProfile?: ProfileRef;
  [field: string]: unknown;
}

export interface Container {
  name: string;
  securityContext?: SecurityContext;
  /** Ephemeral containers: the container whose namespaces they join (`kubectl debug --target`). */
  targetContainerName?: string;
  [field: string]: unknown;
}

export interface OwnerRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  controller?: boolean;
}

export interface PodMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerRef[];
  [field: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: PodMeta;
  spec: {
    containers: Container[];
    initContainers?: Container[];
    ephemeralContainers?: Container[];
    securityContext?: { appArmorProfile?: ProfileRef; seccompProfile?: ProfileRef; [field: string]: unknown };
    os?: { name?: string };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

/** `remove` carries no value: the webhook removes pod-authored annotations it did not decide. */
export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}


export type { Enforcer };
