// What concerns this node from the API server, through list+watch informers (./kube):
//  - ArmorProfiles (all namespaces: one per policy, so the count follows the policies, not the
//    cluster's size), handed to the agent to decode and place;
//  - the Pods bound to this node only (fieldSelector spec.nodeName=<node>), so the watch carries
//    this node's pods and nothing else; used to place a pod's BPF tables as soon as it is
//    scheduled here (its hook then only binds).

import { API_GROUP, type ArmorProfile, type Logger } from '../../profiler/node.js';
import type { KubeClient } from '../kube/client.js';
import { Informer, type KubeObject } from '../kube/informer.js';

export interface PodLike extends KubeObject {
  metadata?: KubeObject['metadata'] & { annotations?: Record<string, string> };
  spec?: {
    nodeName?: string;
    containers?: { name: string }[];
    initContainers?: { name: string }[];
    ephemeralContainers?: { name: string; targetContainerName?: string }[];
  };
}

export interface Handlers<T> {
  apply(obj: T): void;
  remove(obj: T): void;
}

export function armorProfileInformer(client: KubeClient, log: Logger, h: Handlers<ArmorProfile>): Informer<ArmorProfile & KubeObject> {
  return new Informer<ArmorProfile & KubeObject>(client, `/apis/${API_GROUP}/v1beta1/armorprofiles`, undefined, {
    apply: (o) => h.apply(o),
    remove: (o) => h.remove(o),
    error: (e) => log.warn('watch failed; resuming', { source: 'armorprofiles', error: e.message }),
  });
}

export function nodePodInformer(client: KubeClient, log: Logger, nodeName: string, h: Handlers<PodLike>): Informer<PodLike> {
  return new Informer<PodLike>(client, '/api/v1/pods', `spec.nodeName=${nodeName}`, {
    apply: (o) => h.apply(o),
    remove: (o) => h.remove(o),
    error: (e) => log.warn('watch failed; resuming', { source: 'pods', error: e.message }),
  });
}
