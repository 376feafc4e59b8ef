import { describe, expect, it } from '@jest/globals';
import { podRef, podsUsing } from './pods.js';

describe('podRef', () => {
  it('finds every way a pod references a profile, and its Deployment through the ReplicaSet', () => {
    const ref = podRef({
      metadata: {
        namespace: 'shop',
        name: 'web-5d8f-abcde',
        creationTimestamp: new Date('2026-12-01T10:00:00Z'),
        labels: { 'pod-template-hash': '5d8f' },
        annotations: {
          'container.bpf.security.beta.varmor.org/app': 'localhost/varmor-shop-bpf',
          'container.apparmor.security.beta.kubernetes.io/app': 'localhost/varmor-shop-legacy',
          'container.seccomp.security.beta.varmor.org/side': 'unconfined',
          'example.com/other': 'localhost/not-ours',
        },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d8f', controller: true }],
      },
      spec: {
        containers: [
          { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'varmor/varmor-shop-seccomp.json' } } },
          { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'varmor-shop-aa' } } },
          { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } },
        ],
      },
      status: { phase: 'Running' },
    });
    expect(ref).toEqual({
      namespace: 'shop',
      name: 'web-5d8f-abcde',
      created: '2026-12-01T10:00:00.000Z',
      phase: 'Running',
      workload: { kind: 'Deployment', name: 'web' },
      profiles: ['varmor-shop-aa', 'varmor-shop-bpf', 'varmor-shop-legacy', 'varmor-shop-seccomp'],
    });
  });

  it('finished pods use no profile', () => {
    const pods = ['Running', 'Pending', 'Succeeded', 'Failed', undefined].map((phase, i) => ({
      namespace: 'n',
      name: `p${i}`,
      ...(phase ? { phase } : {}),
      profiles: ['x'],
    }));
    expect(podsUsing(pods, 'x').map((p) => p.name)).toEqual(['p0', 'p1', 'p4']);
    expect(podsUsing(pods, 'y')).toEqual([]);
  });
});
