// Hands a node's behaviour record to the controller (CONTRACTS.md "BehaviorModeling records"):
// one ArmorProfileModel per node, `<profileName>.<nodeName>` in the ArmorProfile's namespace,
// labelled with the profile and the node; created, or replaced when it exists.

import type { KubeClient } from '../kube/client.js';
import { API_GROUP, API_VERSION, type ArmorProfileModel, type BehaviorData, LABEL_MODEL_OF, LABEL_NODE } from '../../profiler/node.js';
import type { NodeProfile } from '../profiles/decode.js';
import type { ModelSink } from './session.js';


/** The per-node model object. Pure. */
export function perNodeModel(profile: NodeProfile, nodeName: string, bpf: BehaviorData, syscalls?: string[], appArmor?: BehaviorData): ArmorProfileModel {
  return {
    apiVersion: API_VERSION,
    kind: 'ArmorProfileModel',
    metadata: {
      name: `${profile.profileName}.${nodeName}`,
      namespace: profile.namespace,
      labels: { [LABEL_MODEL_OF]: profile.profileName, [LABEL_NODE]: nodeName },
    },
    data: { dynamicResult: { bpf, ...(appArmor ? { appArmor } : {}), ...(syscalls ? { seccomp: { syscalls } } : {}) } },
    storageType: 'CRDInternal',
  };
}

export class ModelUploader implements ModelSink {
  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
  ) {}

  async upload(profile: NodeProfile, data: { bpf: BehaviorData; syscalls?: string[]; appArmor?: BehaviorData }): Promise<void> {
    const body = perNodeModel(profile, this.nodeName, data.bpf, data.syscalls, data.appArmor);
    const base = `/apis/${API_GROUP}/v1beta1/namespaces/${encodeURIComponent(profile.namespace)}/armorprofilemodels`;
    try {
      await this.client.request('POST', base, body);
    } catch (e) {
      if ((e as { status?: number }).status !== 409) throw e;
      const url = `${base}/${encodeURIComponent(body.metadata.name!)}`;
      const existing = await this.client.request<ArmorProfileModel>('GET', url);
      body.metadata.resourceVersion = existing.metadata.resourceVersion;
      await this.client.request('PUT', url, body);
    }
  }
}
