// Test support: the CRI calls a kubelet makes (pod sandboxes, containers), on top of the agent's
// own CRI client, so tests can create and remove pods against a real containerd the way the
// kubelet does. The agent itself only lists containers (agent/runtime/cri.ts).

import { CriClient } from '../../agent/runtime/cri.js';

export interface SecurityProfile {
  profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostRef?: string;
}

export interface SandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: {
      namespaceOptions?: { network?: 'POD' | 'CONTAINER' | 'NODE'; pid?: 'POD' | 'CONTAINER' | 'NODE' };
    };
  };
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  linux?: { securityContext?: { seccomp?: SecurityProfile; apparmor?: SecurityProfile; noNewPrivs?: boolean } };
}

export class KubeletCri extends CriClient {
  async version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    return this.call('Version', { version: 'v1' });
  }

  async listPodSandboxIds(): Promise<string[]> {
    const res = await this.call<{ items: { id: string }[] }>('ListPodSandbox', {});
    return res.items.map((i) => i.id);
  }

  async runPodSandbox(config: SandboxConfig): Promise<string> {
    const res = await this.call<{ podSandboxId: string }>('RunPodSandbox', { config });
    return res.podSandboxId;
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call('StopPodSandbox', { podSandboxId: id });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call('RemovePodSandbox', { podSandboxId: id });
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: SandboxConfig): Promise<string> {
    const res = await this.call<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig });
    return res.containerId;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('StartContainer', { containerId: id });
  }

  async stopContainer(id: string, timeoutSeconds = 0): Promise<void> {
    await this.call('StopContainer', { containerId: id, timeout: String(timeoutSeconds) });
  }

  async removeContainer(id: string): Promise<void> {
    await this.call('RemoveContainer', { containerId: id });
  }
}
