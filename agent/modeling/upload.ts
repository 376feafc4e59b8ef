// Hands a node's behaviour record to the controller (CONTRACTS.md "BehaviorModeling records"):
// one ArmorProfileModel per node, `<profileName>.<nodeName>` in the ArmorProfile's namespace,
// labelled with the profile and the node; created, or replaced when it exists.

import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type ArmorProfileModel, type BehaviorData } from '../../profiler/api/types.js';
import type { NodeProfile } from '../profiles/decode.js';
import type { ModelSink } from '../node.js';

export const LABEL_MODEL_OF = 'varmor.org/model-of';
export const LABEL_NODE = 'varmor.org/node';

/** The per-node model object. Pure. */
export function perNodeModel(profile: NodeProfile, nodeName: string, bpf: BehaviorData): ArmorProfileModel {
  return {
    apiVersion: API_VERSION,
    kind: 'ArmorProfileModel',
    metadata: {
      name: `${profile.profileName}.${nodeName}`,
      namespace: profile.namespace,
      labels: { [LABEL_MODEL_OF]: profile.profileName, [LABEL_NODE]: nodeName },
    },
    data: { dynamicResult: { bpf } },
    storageType: 'CRDInternal',
  };
}

export class ModelUploader implements ModelSink {
  private readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    private readonly nodeName: string,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async upload(profile: NodeProfile, data: { bpf: BehaviorData }): Promise<void> {
    const body = perNodeModel(profile, this.nodeName, data.bpf);
    const coords = { group: API_GROUP, version: 'v1beta1', namespace: profile.namespace, plural: 'armorprofilemodels' };
    try {
      await this.api.createNamespacedCustomObject({ ...coords, body });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      const existing = (await this.api.getNamespacedCustomObject({ ...coords, name: body.metadata.name! })) as ArmorProfileModel;
      body.metadata.resourceVersion = existing.metadata.resourceVersion;
      await this.api.replaceNamespacedCustomObject({ ...coords, name: body.metadata.name!, body });
    }
  }
}
