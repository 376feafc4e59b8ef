import { describe, it, expect } from '@jest/globals';
import { parseAgentArgs } from './agent.js';

describe('varmor agent flags', () => {
  it('defaults from the environment and the hostname', () => {
    const a = parseAgentArgs([], { NODE_NAME: 'node-1' }, 'host');
    expect(a).toMatchObject({ nodeName: 'node-1', seccompRoot: '/var/lib/kubelet/seccomp', hookSocket: '/run/varmor/hook.sock', pinPath: '/sys/fs/bpf/varmor', metricsPort: 9580, metricsAddress: '127.0.0.1', bpfMode: 'auto' });
    expect(parseAgentArgs([], {}, 'host').nodeName).toBe('host');
  });
  it('takes --flag value and --flag=value', () => {
    const a = parseAgentArgs(['--node-name', 'n2', '--metrics-port=0', '--seccomp-root', '/tmp/s', '--bpf-mode', 'audit', '--kubeconfig', '/k'], {}, 'h');
    expect(a).toMatchObject({ nodeName: 'n2', metricsPort: 0, seccompRoot: '/tmp/s', bpfMode: 'audit', kubeconfig: '/k' });
  });
  it('errors name the flag', () => {
    expect(() => parseAgentArgs(['--nope'], {}, 'h')).toThrow('--nope: unknown flag');
    expect(() => parseAgentArgs(['--metrics-port', 'x'], {}, 'h')).toThrow(/--metrics-port: x is not an integer/);
    expect(() => parseAgentArgs(['--bpf-mode', 'strict'], {}, 'h')).toThrow(/--bpf-mode: strict is not one of/);
    expect(() => parseAgentArgs(['--hook-socket', 'rel.sock'], {}, 'h')).toThrow(/--hook-socket: rel.sock is not an absolute path/);
    expect(() => parseAgentArgs(['--node-name'], {}, 'h')).toThrow(/--node-name: needs a value/);
    expect(() => parseAgentArgs([], {}, 'Bad_Host')).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_CLI_USAGE', field: '--node-name' }));
    expect(() => parseAgentArgs(['--binding-key', 'key'], {}, 'h')).toThrow(/--binding-key: key is not an absolute path/);
    expect(() => parseAgentArgs(['--product-namespace', 'Not/A-Ns'], {}, 'h')).toThrow(/--product-namespace/);
  });
  it('takes the binding key file and the product namespace ($POD_NAMESPACE by default)', () => {
    expect(parseAgentArgs(['--binding-key', '/etc/varmor/binding/key'], { POD_NAMESPACE: 'sec' }, 'h')).toMatchObject({ bindingKeyFile: '/etc/varmor/binding/key', productNamespace: 'sec' });
    expect(parseAgentArgs([], {}, 'h')).toMatchObject({ bindingKeyFile: undefined, productNamespace: 'varmor' });
  });
});
