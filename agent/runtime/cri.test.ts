// Reading containerd's verbose ContainerStatus: the pid, sandbox, OCI annotations and cgroups path.

import { describe, it, expect } from '@jest/globals';
import { parseContainerInfo } from './cri.js';

describe('CRI container info', () => {
  it('takes the pid, sandbox id, spec annotations and cgroupsPath from containerd info JSON', () => {
    const info = {
      info: JSON.stringify({
        pid: 4242,
        sandboxID: 'sb1',
        runtimeSpec: { annotations: { 'io.kubernetes.cri.container-name': 'app' }, linux: { cgroupsPath: 'kubepods-pod1.slice:cri-containerd:c1' } },
      }),
    };
    expect(parseContainerInfo('c1', 'CONTAINER_RUNNING', info)).toEqual({
      id: 'c1',
      state: 'CONTAINER_RUNNING',
      pid: 4242,
      sandboxId: 'sb1',
      specAnnotations: { 'io.kubernetes.cri.container-name': 'app' },
      cgroupsPath: 'kubepods-pod1.slice:cri-containerd:c1',
    });
  });

  it('is empty-handed without verbose info (a runtime that does not send it)', () => {
    expect(parseContainerInfo('c1', 'CONTAINER_EXITED', {})).toEqual({ id: 'c1', state: 'CONTAINER_EXITED', pid: 0, sandboxId: '', specAnnotations: {}, cgroupsPath: undefined });
  });
});
