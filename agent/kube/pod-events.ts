// Warning Events on Pods (core/v1 Event, written in the Pod's namespace: the agent needs `events
// create` in every namespace), so a pod author sees why a container was not bound or did not
// start (`kubectl describe pod`). Best effort: a failed write is logged, never
// retried, and never delays the hook.

import type { Logger } from '../../profiler/node.js';
import type { KubeClient } from './client.js';
import type { PodEventSink } from '../binding/binder.js';
import { errMsg } from '../errors.js';

/** The Event object. Pure. */
export function podWarningEvent(pod: { namespace: string; name: string; uid?: string }, reason: string, message: string, nodeName: string, now: Date): Record<string, unknown> {
  const t = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name, ...(pod.uid ? { uid: pod.uid } : {}) },
    reason,
    message: message.slice(0, 1024),
    type: 'Warning',
    source: { component: 'varmor-agent', host: nodeName },
    reportingComponent: 'varmor-agent',
    reportingInstance: nodeName,
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
  };
}

export class PodEvents implements PodEventSink {
  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly log: Logger,
  ) {}

  warn(pod: { namespace: string; name: string; uid?: string }, reason: string, message: string): void {
    if (!pod.namespace || !pod.name) return;
    const body = podWarningEvent(pod, reason, message, this.nodeName, new Date());
    this.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/events`, body).catch((e: unknown) => {
      this.log.warn('event not written', { namespace: pod.namespace, pod: pod.name, reason, error: errMsg(e) });
    });
  }
}
