// Which role a container plays in its pod (ephemeral containers are bound like their target).

import { describe, it, expect } from '@jest/globals';
import { containerRole, PodIndex } from './pods.js';

const pod = {
  metadata: { name: 'web-0', namespace: 'team-a' },
  spec: {
    containers: [{ name: 'app' }, { name: 'sidecar' }],
    initContainers: [{ name: 'init' }],
    ephemeralContainers: [{ name: 'dbg', targetContainerName: 'sidecar' }, { name: 'dbg2' }],
  },
};

describe('pod container roles', () => {
  it('names an ephemeral container\'s target (else the first container), knows regular and init containers', () => {
    expect(containerRole(pod, 'dbg')).toEqual({ kind: 'ephemeral', target: 'sidecar' });
    expect(containerRole(pod, 'dbg2')).toEqual({ kind: 'ephemeral', target: 'app' });
    expect(containerRole(pod, 'app')).toEqual({ kind: 'regular' });
    expect(containerRole(pod, 'init')).toEqual({ kind: 'regular' });
    expect(containerRole(pod, 'ghost')).toEqual({ kind: 'unknown' });
  });

  it('waits briefly for the watch to deliver the pod with its new ephemeral container', async () => {
    const idx = new PodIndex();
    idx.apply({ ...pod, spec: { ...pod.spec, ephemeralContainers: [] } });
    const pending = idx.roleOf('team-a', 'web-0', 'dbg', 2000);
    idx.apply(pod);
    expect(await pending).toEqual({ kind: 'ephemeral', target: 'sidecar' });
    expect(await idx.roleOf('team-a', 'other', 'dbg', 10)).toEqual({ kind: 'unknown' });
    idx.remove(pod);
    expect(await idx.roleOf('team-a', 'web-0', 'app', 0)).toEqual({ kind: 'unknown' });
  });
});
