import { describe, it, expect } from '@jest/globals';
import { parseHookRequest } from './request.js';
import { baseRuntimeSpec, POD_ANNOTATIONS_PASSTHROUGH } from './spec.js';

describe('hook request', () => {
  const state = { ociVersion: '1.0.2', id: 'c1', status: 'creating', pid: 42, bundle: '/b', annotations: { a: 'b', n: 1 } };
  it('parses stage and OCI state', () => {
    expect(parseHookRequest(`createRuntime\n${JSON.stringify(state)}`)).toEqual({
      stage: 'createRuntime',
      state: { id: 'c1', pid: 42, bundle: '/b', status: 'creating', annotations: { a: 'b' } },
    });
  });
  it('takes the cgroup path the hook adds to the stage line', () => {
    expect(parseHookRequest(`createRuntime /kubepods/pod1/c1\n${JSON.stringify(state)}`).cgroupPath).toBe('/kubepods/pod1/c1');
    expect(() => parseHookRequest(`createRuntime relative/path\n${JSON.stringify(state)}`)).toThrow(/malformed first line/);
    expect(() => parseHookRequest(`createRuntime /a /b\n${JSON.stringify(state)}`)).toThrow(/malformed first line/);
  });
  it('allows pid 0 at poststop only', () => {
    const s = JSON.stringify({ ...state, pid: 0 });
    expect(parseHookRequest(`poststop\n${s}`).state.pid).toBe(0);
    expect(() => parseHookRequest(`createRuntime\n${s}`)).toThrow(/state.pid/);
  });
  it('names the bad field', () => {
    expect(() => parseHookRequest('prestart\n{}')).toThrow(/hook request stage: unknown stage "prestart"/);
    expect(() => parseHookRequest('createRuntime\n{')).toThrow(/hook request state: not JSON/);
    expect(() => parseHookRequest('createRuntime\n{"pid":1}')).toThrow(/state.id: missing/);
    expect(() => parseHookRequest('createRuntime')).toThrow(expect.objectContaining({ code: 'VARMOR_ERR_HOOK_REQUEST', field: 'stage' }));
  });
});

describe('base runtime spec', () => {
  it('adds createRuntime and poststop hooks once, keeping existing hooks', () => {
    const base = { ociVersion: '1.0.2', hooks: { createRuntime: [{ path: '/other' }] } };
    const once = baseRuntimeSpec(base, '/opt/varmor/varmor-hook', '/run/varmor/hook.sock');
    const twice = baseRuntimeSpec(once, '/opt/varmor/varmor-hook', '/run/varmor/hook.sock');
    expect(twice).toEqual(once);
    const hooks = once['hooks'] as Record<string, { path: string; args: string[] }[]>;
    expect(hooks['createRuntime']!.map((h) => h.path)).toEqual(['/other', '/opt/varmor/varmor-hook']);
    expect(hooks['createRuntime']![1]!.args).toEqual(['varmor-hook', 'createRuntime', '/run/varmor/hook.sock']);
    expect(hooks['poststop']![0]!.args[1]).toBe('poststop');
    expect(POD_ANNOTATIONS_PASSTHROUGH).toEqual(['container.*.security.beta.varmor.org/*']);
  });
});
