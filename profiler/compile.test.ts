import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyPolicy, ArmorProfileModel } from './api/types.js';
import { compilePolicy } from './compile.js';
import { bpfPolicyId, profileName } from './names.js';
import { PolicyValidationError } from './validate/index.js';
import { parseDocuments } from './yaml.js';

const ROOT = join(import.meta.dirname ?? __dirname, '..');
const examples = (): AnyPolicy[] =>
  readdirSync(join(ROOT, 'examples/policies'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseDocuments(readFileSync(join(ROOT, 'examples/policies', f), 'utf8')) as AnyPolicy[]);
const MODEL = parseDocuments(readFileSync(join(ROOT, 'profiler/testdata/models/varmor-shop-web-did.yaml'), 'utf8'))[0] as ArmorProfileModel;

function thrown(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PolicyValidationError) return e;
    throw e;
  }
  throw new Error('expected a PolicyValidationError');
}

describe('compilePolicy', () => {
  it('compiles every example into exactly the outputs of its enforcers, under its cluster names', () => {
    const got = examples().map((p) => {
      const c = compilePolicy(p, { model: MODEL });
      const name = profileName({ kind: p.kind, namespace: p.metadata.namespace, name: p.metadata.name! });
      expect(c.profileName).toBe(name);
      expect(c.bpfPolicyId).toBe(bpfPolicyId(name));
      const outputs = [c.appArmor && 'apparmor', c.seccomp && 'seccomp', c.bpf && 'bpf'].filter(Boolean).join('+');
      return `${c.profileName} ${c.mode} ${outputs}`;
    });
    expect(got).toEqual([
      'varmor-shop-web-hardening EnhanceProtect apparmor+seccomp+bpf',
      'varmor-shop-api-bpf EnhanceProtect bpf',
      'varmor-jobs-worker-seccomp EnhanceProtect seccomp',
      'varmor-cluster-varmor-agents-default RuntimeDefault apparmor',
      'varmor-shop-web-model BehaviorModeling apparmor+seccomp',
      'varmor-shop-web-did DefenseInDepth apparmor+seccomp',
    ]);
  });

  it('uses the product namespace for cluster policies', () => {
    const p = examples().find((x) => x.kind === 'VarmorClusterPolicy')!;
    expect(compilePolicy(p, { productNamespace: 'sec' }).profileName).toBe('varmor-cluster-sec-agents-default');
  });

  it('BehaviorModeling AppArmor profiles are in complain mode', () => {
    const p = examples().find((x) => x.metadata.name === 'web-model')!;
    expect(compilePolicy(p).appArmor?.complain).toBe(true);
  });

  it('refuses an invalid policy with every validation error', () => {
    const p = structuredClone(examples()[0]);
    p.spec.target.kind = 'Job';
    p.spec.policy.enhanceProtect!.hardeningRules = ['disallow-flying'];
    const e = thrown(() => compilePolicy(p));
    expect(e.code).toBe('VARMOR_ERR_POLICY_INVALID');
    expect(e.errors.map((x) => x.path).sort()).toEqual(['spec.policy.enhanceProtect.hardeningRules[0]', 'spec.target.kind']);
    expect(e.message).toContain('VarmorPolicy shop/web-hardening');
  });

  it('DefenseInDepth from a behaviour model without the model: VARMOR_ERR_COMPILE_MODEL_REQUIRED for each enforcer', () => {
    const p = examples().find((x) => x.metadata.name === 'web-did')!;
    const e = thrown(() => compilePolicy(p));
    expect(e.errors.map((x) => `${x.path} ${x.code}`)).toEqual([
      'spec.policy.defenseInDepth.appArmor.profileType VARMOR_ERR_COMPILE_MODEL_REQUIRED',
      'spec.policy.defenseInDepth.seccomp.profileType VARMOR_ERR_COMPILE_MODEL_REQUIRED',
    ]);
  });

  it('a BPF table limit the schema cannot see becomes a field-path error', () => {
    const p = examples().find((x) => x.metadata.name === 'api-bpf')!;
    const many = structuredClone(p);
    many.spec.policy.enhanceProtect!.bpfRawRules!.files = Array.from({ length: 70 }, (_, i) => ({
      pattern: `/data${i}/*/secret`,
      permissions: ['read'],
      qualifiers: ['deny'],
    }));
    const e = thrown(() => compilePolicy(many));
    expect(e.errors).toHaveLength(1);
    expect(e.errors[0].code).toBe('bpf-compile');
    expect(e.errors[0].path).toMatch(/^spec\.policy\.enhanceProtect\.bpfRawRules\.files\[\d+\]/);
  });
});
