import { describe, it, expect } from '@jest/globals';
import { containerIdentity, containerTargets, profileFromAnnotationValue } from './targets.js';

describe('container targets from pod annotations', () => {
  const ann = {
    'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-demo-web',
    'container.seccomp.security.beta.varmor.org/app': 'localhost/varmor-demo-web',
    'container.apparmor.security.beta.varmor.org/app': 'unconfined',
    'container.bpf.security.beta.varmor.org/sidecar': 'localhost/varmor-demo-other',
    'io.kubernetes.cri.container-name': 'app',
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.sandbox-name': 'web-0',
    'io.kubernetes.cri.sandbox-namespace': 'demo',
    'io.kubernetes.cri.sandbox-uid': 'u-1',
    'io.kubernetes.cri.sandbox-id': 'sb',
  };
  it('reads the profiles of this container only; unconfined opts out', () => {
    expect(containerTargets(ann, 'app')).toEqual({ BPF: 'varmor-demo-web', Seccomp: 'varmor-demo-web' });
    expect(containerTargets(ann, 'sidecar')).toEqual({ BPF: 'varmor-demo-other' });
    expect(containerTargets(ann, 'none')).toEqual({});
  });
  it('rejects values that are not localhost/<valid name>', () => {
    expect(profileFromAnnotationValue('localhost/../../etc/passwd')).toBeUndefined();
    expect(profileFromAnnotationValue('runtime/default')).toBeUndefined();
    expect(profileFromAnnotationValue(undefined)).toBeUndefined();
    expect(profileFromAnnotationValue('localhost/varmor-a.b')).toBe('varmor-a.b');
  });
  it('reads containerd CRI identity annotations', () => {
    expect(containerIdentity(ann)).toEqual({ type: 'container', name: 'app', sandboxId: 'sb', podName: 'web-0', podNamespace: 'demo', podUid: 'u-1' });
  });
});
