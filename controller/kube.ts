// The controller's only door to the API server: typed reads and writes of our custom
// resources, the workloads it restarts, Events and Leases. The reconcile decides in pure code
// (plan.ts) and writes only through this interface (execute.ts), so it is tested without a
// server against an in-memory fake (testing/controller/memory-client.ts), and the e2e suite
// tests this file against a real kube-apiserver.

import { API_GROUP, type ObjectMeta, RESTARTED_AT_ANNOTATION } from '../profiler/index.js';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { KubeApiError } from './errors.js';
import type { WorkloadKind, WorkloadRef } from './targets.js';
import { podRef, type PodRef } from './pods.js';

export const API_VER = 'v1beta1';

export const PLURALS = {
  VarmorPolicy: 'varmorpolicies',
  VarmorClusterPolicy: 'varmorclusterpolicies',
  ArmorProfile: 'armorprofiles',
  ArmorProfileModel: 'armorprofilemodels',
} as const;
export type CrKind = keyof typeof PLURALS;

/** Restart stamp, the same mechanism as `kubectl rollout restart` with our own key. */
/** Anything with our ObjectMeta: our API types. */
export interface Obj {
  metadata: ObjectMeta;
}

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CrClient {
  get<T>(kind: CrKind, namespace: string | undefined, name: string): Promise<T | undefined>;
  list<T>(kind: CrKind, namespace: string | undefined, labelSelector?: string): Promise<T[]>;
  create<T extends Obj>(kind: CrKind, obj: T): Promise<T>;
  /** Replace with the object's resourceVersion: a 409 means someone wrote in between. */
  replace<T extends Obj>(kind: CrKind, obj: T): Promise<T>;
  replaceStatus<T extends Obj>(kind: CrKind, obj: T): Promise<T>;
  /** Returns false when it was already gone. */
  delete(kind: CrKind, namespace: string | undefined, name: string): Promise<boolean>;
}

export interface KubeClient extends CrClient {
  listWorkloads(kind: WorkloadKind, namespace?: string): Promise<WorkloadRef[]>;
  /** Pods of a namespace (or all), as PodRefs: who still uses a deleted policy's profile (pods.ts). */
  listPods(namespace?: string): Promise<PodRef[]>;
  /** Stamp the pod template; returns false when the workload is gone. Same stamp twice is a no-op. */
  restartWorkload(kind: WorkloadKind, namespace: string, name: string, stamp: string): Promise<boolean>;
  createEvent(
    obj: InvolvedObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    now: Date,
    component: string,
  ): Promise<void>;
}

function parseBody(body: unknown): { message?: string; reason?: string } {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as { message?: string; reason?: string };
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as { message?: string; reason?: string };
}

/** Turn the client's ApiException into our KubeApiError with the server's message. */
export async function wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException) {
      const b = parseBody(err.body);
      throw new KubeApiError(err.code, `${what}: ${b.message ?? err.message}`, b.reason, { cause: err });
    }
    throw err;
  }
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function makeKubeClient(kc: KubeConfig): KubeClient {
  const crs = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const group = API_GROUP;
  const version = API_VER;
  const desc = (kind: CrKind, ns: string | undefined, name?: string) =>
    `${kind} ${ns ? `${ns}/` : ''}${name ?? ''}`;
  const nsOf = (o: Obj) => o.metadata.namespace;
  const nameOf = (o: Obj) => o.metadata.name ?? '';

  const client: KubeClient = {
    async get<T>(kind: CrKind, namespace: string | undefined, name: string): Promise<T | undefined> {
      const plural = PLURALS[kind];
      try {
        return (await wrap(`get ${desc(kind, namespace, name)}`, () =>
          namespace
            ? crs.getNamespacedCustomObject({ group, version, namespace, plural, name })
            : crs.getClusterCustomObject({ group, version, plural, name }),
        )) as T;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    async list<T>(kind: CrKind, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
      const plural = PLURALS[kind];
      const res = (await wrap(`list ${kind}`, () =>
        namespace
          ? crs.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector })
          : crs.listClusterCustomObject({ group, version, plural, labelSelector }),
      )) as { items?: T[] };
      return res.items ?? [];
    },
    async create<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
      const plural = PLURALS[kind];
      const namespace = nsOf(obj);
      return (await wrap(`create ${desc(kind, namespace, nameOf(obj))}`, () =>
        namespace
          ? crs.createNamespacedCustomObject({ group, version, namespace, plural, body: obj })
          : crs.createClusterCustomObject({ group, version, plural, body: obj }),
      )) as T;
    },
    async replace<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
      const plural = PLURALS[kind];
      const namespace = nsOf(obj);
      const name = nameOf(obj);
      return (await wrap(`replace ${desc(kind, namespace, name)}`, () =>
        namespace
          ? crs.replaceNamespacedCustomObject({ group, version, namespace, plural, name, body: obj })
          : crs.replaceClusterCustomObject({ group, version, plural, name, body: obj }),
      )) as T;
    },
    async replaceStatus<T extends Obj>(kind: CrKind, obj: T): Promise<T> {
      const plural = PLURALS[kind];
      const namespace = nsOf(obj);
      const name = nameOf(obj);
      return (await wrap(`replace status of ${desc(kind, namespace, name)}`, () =>
        namespace
          ? crs.replaceNamespacedCustomObjectStatus({ group, version, namespace, plural, name, body: obj })
          : crs.replaceClusterCustomObjectStatus({ group, version, plural, name, body: obj }),
      )) as T;
    },
    async delete(kind: CrKind, namespace: string | undefined, name: string): Promise<boolean> {
      const plural = PLURALS[kind];
      try {
        await wrap(`delete ${desc(kind, namespace, name)}`, () =>
          namespace
            ? crs.deleteNamespacedCustomObject({
                group,
                version,
                namespace,
                plural,
                name,
                propagationPolicy: 'Background',
              })
            : crs.deleteClusterCustomObject({
                group,
                version,
                plural,
                name,
                propagationPolicy: 'Background',
              }),
        );
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return false;
        throw err;
      }
    },
    async listWorkloads(kind: WorkloadKind, namespace?: string): Promise<WorkloadRef[]> {
      const res = await wrap(`list ${kind}`, async () => {
        switch (kind) {
          case 'Deployment':
            return namespace
              ? apps.listNamespacedDeployment({ namespace })
              : apps.listDeploymentForAllNamespaces();
          case 'StatefulSet':
            return namespace
              ? apps.listNamespacedStatefulSet({ namespace })
              : apps.listStatefulSetForAllNamespaces();
          case 'DaemonSet':
            return namespace
              ? apps.listNamespacedDaemonSet({ namespace })
              : apps.listDaemonSetForAllNamespaces();
        }
      });
      return res.items.map((w) => ({
        kind,
        namespace: w.metadata?.namespace ?? '',
        name: w.metadata?.name ?? '',
        labels: w.metadata?.labels,
      }));
    },
    async listPods(namespace?: string): Promise<PodRef[]> {
      const res = await wrap(`list Pods${namespace ? ` in ${namespace}` : ''}`, () =>
        namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
      );
      return res.items.map((p) => podRef(p));
    },
    async restartWorkload(
      kind: WorkloadKind,
      namespace: string,
      name: string,
      stamp: string,
    ): Promise<boolean> {
      const body = {
        spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: stamp } } } },
      };
      try {
        await wrap(`restart ${kind} ${namespace}/${name}`, async () => {
          switch (kind) {
            case 'Deployment':
              return apps.patchNamespacedDeployment({ namespace, name, body }, merge);
            case 'StatefulSet':
              return apps.patchNamespacedStatefulSet({ namespace, name, body }, merge);
            case 'DaemonSet':
              return apps.patchNamespacedDaemonSet({ namespace, name, body }, merge);
          }
        });
        return true;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return false;
        throw err;
      }
    },
    async createEvent(obj, type, reason, message, now, component): Promise<void> {
      // Cluster-scoped objects get their Events in `default`, as kubectl and client-go do.
      const namespace = obj.namespace ?? 'default';
      const ts = now.getTime().toString(36);
      await wrap(`create Event for ${obj.kind} ${obj.name}`, () =>
        core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { name: `${obj.name}.${ts}${Math.random().toString(36).slice(2, 6)}`, namespace },
            involvedObject: obj,
            type,
            reason,
            message,
            source: { component },
            reportingComponent: component,
            reportingInstance: component,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      );
    },
  };
  return client;
}
