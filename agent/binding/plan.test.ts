// The pure binding decisions: which containers get a record, what they bind to, what is stale.

import { describe, it, expect } from '@jest/globals';
import { adoptable, bpfTargetOf, containerRecordOf, goneRecords, staleBindings } from './plan.js';
import type { ContainerRecord } from './registry.js';
import type { RuntimeContainer } from '../runtime/source.js';

const identity = {
  'io.kubernetes.cri.container-type': 'container',
  'io.kubernetes.cri.container-name': 'app',
  'io.kubernetes.cri.sandbox-name': 'web-0',
  'io.kubernetes.cri.sandbox-namespace': 'shop',
  'io.kubernetes.cri.sandbox-uid': 'uid-1',
};

const record = (id: string, e: Partial<ContainerRecord> = {}): ContainerRecord => ({
  containerId: id,
  containerName: 'app',
  podName: 'web-0',
  podNamespace: 'shop',
  podUid: 'uid-1',
  pid: 1,
  targets: { BPF: 'p' },
  signedAs: 'app',
  refs: { BPF: 'localhost/p' },
  seenAt: 100,
  ...e,
});

const listed = (id: string, e: Partial<RuntimeContainer> = {}): RuntimeContainer => ({ id, running: true, pid: 1, annotations: {}, ...e });

describe('binding plan', () => {
  it('records a workload container its pod annotations target, naming its profile BPF first', () => {
    const rec = containerRecordOf('c1', 42, { ...identity, 'container.bpf.security.beta.varmor.org/app': 'localhost/b', 'container.seccomp.security.beta.varmor.org/app': 'localhost/s' }, 7);
    expect(rec).toEqual({
      containerId: 'c1',
      containerName: 'app',
      podName: 'web-0',
      podNamespace: 'shop',
      podUid: 'uid-1',
      profileName: 'b',
      pid: 42,
      targets: { BPF: 'b', Seccomp: 's' },
      signedAs: 'app',
      refs: { BPF: 'localhost/b', Seccomp: 'localhost/s' },
      signature: undefined,
      seenAt: 7,
    });
  });

  it('keeps no record of a sandbox, of an untargeted container, or of another container name', () => {
    const ann = { 'container.bpf.security.beta.varmor.org/app': 'localhost/b' };
    expect(containerRecordOf('s', 1, { ...identity, ...ann, 'io.kubernetes.cri.container-type': 'sandbox' }, 0)).toBeNull();
    expect(containerRecordOf('c', 1, identity, 0)).toBeNull();
    expect(containerRecordOf('c', 1, { ...identity, 'container.bpf.security.beta.varmor.org/other': 'localhost/b' }, 0)).toBeNull();
    expect(containerRecordOf('c', 1, { ...identity, 'container.bpf.security.beta.varmor.org/app': 'unconfined' }, 0)).toBeNull();
  });

  it('binds to the BPF profile, or to a modelled AppArmor/Seccomp profile while it records', () => {
    expect(bpfTargetOf({ BPF: 'b', AppArmor: 'a' }, () => true)).toBe('b');
    expect(bpfTargetOf({ AppArmor: 'a', Seccomp: 's' }, () => false)).toBeUndefined();
    expect(bpfTargetOf({ AppArmor: 'a', Seccomp: 's' }, (n) => n === 's')).toBe('s');
    expect(bpfTargetOf({ AppArmor: 'a', Seccomp: 's' }, () => true)).toBe('a');
  });

  it('forgets records the runtime no longer holds, keeping created ones and records newer than the listing', () => {
    const records = [record('running'), record('created'), record('exited'), record('absent'), record('late', { seenAt: 200 })];
    const list = [listed('running'), listed('created', { running: false }), listed('exited', { running: false, exited: true })];
    expect(goneRecords(records, list, 150).map((r) => r.containerId)).toEqual(['exited', 'absent']);
  });

  it('finds kernel bindings no bound record owns', () => {
    const recs = new Map<bigint, ContainerRecord>([
      [1n, record('a', { cgroupId: 1n, boundPolicy: 9 })],
      [2n, record('b', { cgroupId: 2n })],
    ]);
    const kernel = new Map<bigint, number>([
      [1n, 9],
      [2n, 9],
      [3n, 9],
    ]);
    expect(staleBindings(kernel, (id) => recs.get(id))).toEqual([2n, 3n]);
  });

  it('adopts only running containers with a pid', () => {
    expect(adoptable(listed('a'))).toBe(true);
    expect(adoptable(listed('b', { running: false }))).toBe(false);
    expect(adoptable(listed('c', { pid: 0 }))).toBe(false);
  });
});
