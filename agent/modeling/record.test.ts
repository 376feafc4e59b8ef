import { describe, it, expect } from '@jest/globals';
import { BehaviorRecorder } from './record.js';
import { violationRecord } from '../events/violation.js';
import type { BpfEvent } from '../loaders/bpf.js';

const ev = (e: Partial<BpfEvent>): BpfEvent => ({ timeNs: 1n, cgroupId: 77n, pid: 10, policyId: 5, hook: 'file_open', decision: 'allowed', ...e });

describe('behaviour record', () => {
  it('folds events into deduplicated, sorted BehaviorData', () => {
    const r = new BehaviorRecorder();
    r.add(ev({ hook: 'file_open', path: '/etc/passwd', detail: 0x4 }));
    r.add(ev({ hook: 'file_open', path: '/etc/passwd', detail: 0x2 }));
    r.add(ev({ hook: 'file_open', path: '/app/a', detail: 0x4 }));
    r.add(ev({ hook: 'exec', path: '/bin/busybox', detail: 0x1 }));
    r.add(ev({ hook: 'exec', path: '/bin/busybox', detail: 0x1 }));
    r.add(ev({ hook: 'capable', detail: 21 }));
    r.add(ev({ hook: 'socket_connect', address: '10.0.0.1', port: 443 }));
    r.add(ev({ hook: 'mount', path: 'proc\0proc' }));
    expect(r.data()).toEqual({
      files: [
        { path: '/app/a', permissions: ['read'] },
        { path: '/etc/passwd', permissions: ['read', 'write'] },
      ],
      executions: ['/bin/busybox'],
      capabilities: ['sys_admin'],
      network: [{ address: '10.0.0.1', port: 443 }],
      ptrace: [],
      mounts: [{ source: 'proc', fstype: 'proc' }],
    });
  });
  it('an empty record still has every list (a node with nothing recorded uploads empty lists)', () => {
    expect(new BehaviorRecorder().data()).toEqual({ files: [], executions: [], capabilities: [], network: [], ptrace: [], mounts: [] });
  });
});

describe('violation record', () => {
  const ref = { containerId: 'c1', containerName: 'app', podName: 'web-0', podNamespace: 'demo', podUid: 'u', profileName: 'varmor-demo-web' };
  it('names pod, container, profile, rule and action', () => {
    const v = violationRecord(ev({ hook: 'file_open', decision: 'denied', path: '/etc/shadow', detail: 0x4 }), ref, () => undefined, true);
    expect(v).toEqual({
      enforcer: 'BPF', action: 'DENIED', enforced: true, profileName: 'varmor-demo-web', policyId: 5,
      namespace: 'demo', pod: 'web-0', podUid: 'u', container: 'app', containerId: 'c1', cgroupId: '77', pid: 10,
      rule: { operation: 'file', hook: 'file_open', path: '/etc/shadow', permissions: ['read'] },
    });
  });
  it('audit-only programs say what would have been denied, not enforced', () => {
    const v = violationRecord(ev({ hook: 'capable', decision: 'denied', detail: 12 }), undefined, (id) => (id === 5 ? 'varmor-x' : undefined), false);
    expect(v).toMatchObject({ action: 'DENIED', enforced: false, profileName: 'varmor-x', pod: '', rule: { capability: 'net_admin' } });
  });
});
