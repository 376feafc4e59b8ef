import { describe, expect, it, afterAll, beforeAll, jest } from '@jest/globals';
import { cp, mkdtemp, rm, writeFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeIO, run, type CliIO } from '../../cli/main.js';
import { profilerValidator } from '../validator.js';
import { FolderSource } from './folder.js';
import { PolicyStore } from './store.js';

// Servers, key generation and the profiler load take seconds on a busy shared machine.
jest.setTimeout(60_000);

const here = path.dirname(fileURLToPath(import.meta.url));
const testdata = path.join(here, '..', 'server', 'testdata', 'policies');

function newStore(warnings: object[] = []) {
  return new PolicyStore({ validate: profilerValidator().validatePolicy, log: { info: () => undefined, warn: (o) => warnings.push(o) } });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'varmor-folder-'));
  await cp(testdata, dir, { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FolderSource', () => {
  it('loads valid policies, skips invalid ones with field paths, ignores other kinds', async () => {
    const warnings: object[] = [];
    const store = newStore(warnings);
    const source = new FolderSource(dir, store);
    const res = await source.load();
    expect(res).toMatchObject({ files: 3, loaded: 3, rejected: 1 });
    expect(res.ignored).toEqual([{ source: 'invalid.yaml#1', reason: 'not a VarmorPolicy or VarmorClusterPolicy (kind "ConfigMap")' }]);
    expect(store.policies().list().map((p) => p.id)).toEqual(['VarmorClusterPolicy/shop', 'VarmorPolicy/team-a/debug', 'VarmorPolicy/team-a/web']);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('spec.policy.enforcer');
  });

  it('re-reads the folder when a file changes', async () => {
    const store = newStore();
    const source = new FolderSource(dir, store);
    const size = () => store.size;
    await source.start();
    try {
      expect(store.size).toBe(3);
      await writeFile(
        path.join(dir, 'late.yml'),
        'apiVersion: crd.varmor.org/v1beta1\nkind: VarmorPolicy\nmetadata: {name: late}\nspec:\n  target: {kind: Pod, name: x}\n  policy: {enforcer: BPF, mode: AlwaysAllow}\n',
      );
      while (size() !== 4) {
        await new Promise((r) => setTimeout(r, 50));
        await source.settled();
      }
      // No namespace in the file: kubectl's default.
      expect(store.policies().list().map((p) => p.id)).toContain('VarmorPolicy/default/late');
      await unlink(path.join(dir, 'late.yml'));
      while (size() !== 3) {
        await new Promise((r) => setTimeout(r, 50));
        await source.settled();
      }
    } finally {
      source.stop();
    }
  });
});

describe('FolderSource and varmor validate read a file the same way', () => {
  const policy = (kind: string, name: string, namespace?: string) =>
    [
      `apiVersion: crd.varmor.org/v1beta1`,
      `kind: ${kind}`,
      `metadata: {name: ${name}${namespace ? `, namespace: ${namespace}` : ''}}`,
      `spec:`,
      `  target: {kind: Pod, name: x}`,
      `  policy: {enforcer: BPF, mode: AlwaysAllow}`,
    ].join('\n');
  const indent = (text: string) => text.replace(/^/gm, '    ').replace(/^ {4}/, '  - ');
  const FILES: Record<string, string> = {
    // The second metadata key would silently win in a reader without unique keys.
    'dup.yaml': policy('VarmorPolicy', 'dup', 'team-b') + '\nmetadata: {name: other, namespace: team-b}\n',
    'list.yaml': ['apiVersion: v1', 'kind: List', 'items:', indent(policy('VarmorPolicy', 'listed', 'team-b')), indent(policy('VarmorClusterPolicy', 'listed-cluster')), ''].join('\n'),
    'bomb.yaml': ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', ''].join('\n'),
  };
  let files: string;
  beforeAll(async () => {
    files = await mkdtemp(path.join(os.tmpdir(), 'varmor-folder-same-'));
    for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(files, name), text);
  });
  afterAll(async () => {
    await rm(files, { recursive: true, force: true });
  });

  async function validateCli(file: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIO = { ...nodeIO, stdout: (t) => (out += t), stderr: (t) => (err += t) };
    const code = await run(['validate', path.join(files, file)], io);
    return { code, out, err };
  }

  it('a duplicate key and an alias bomb: the same error from both, the document skipped', async () => {
    const res = await new FolderSource(files, newStore()).load();
    const reasons = Object.fromEntries(res.ignored.map((i) => [i.source, i.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['bomb.yaml#0', 'dup.yaml#0']);
    expect(reasons['dup.yaml#0']).toBe('line 7: Map keys must be unique');
    expect(reasons['bomb.yaml#0']).toMatch(/^line 1: Excessive alias count/);
    for (const [file, reason] of [['dup.yaml', reasons['dup.yaml#0']], ['bomb.yaml', reasons['bomb.yaml#0']]]) {
      const cli = await validateCli(file);
      expect(cli.code).toBe(1);
      expect(cli.err).toContain(`${file}[0]: ${reason} (VARMOR_ERR_YAML_INVALID)`);
    }
  });

  it('kind: List: both take its items as the policies', async () => {
    const store = newStore();
    await new FolderSource(files, store).load();
    expect(store.policies().list().map((p) => p.id)).toEqual(['VarmorClusterPolicy/listed-cluster', 'VarmorPolicy/team-b/listed']);
    const cli = await validateCli('list.yaml');
    expect(cli).toMatchObject({ code: 0, err: '' });
    expect(cli.out).toContain('list.yaml[0] VarmorPolicy team-b/listed: valid');
    expect(cli.out).toContain('list.yaml[1] VarmorClusterPolicy listed-cluster: valid');
  });
});

describe('PolicyStore', () => {
  const policy = (enforcer: string) => ({
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'p', namespace: 'n' },
    spec: { target: { kind: 'Pod', name: 'x' }, policy: { enforcer, mode: 'AlwaysAllow' } },
  });

  it('keeps the last valid version when an update is invalid, and deletes', () => {
    const rejected: string[] = [];
    const store = new PolicyStore({ validate: profilerValidator().validatePolicy, onRejected: (s) => rejected.push(s) });
    expect(store.upsert(policy('BPF'), 'cluster:VarmorPolicy').ok).toBe(true);
    const res = store.upsert(policy('Nope'), 'cluster:VarmorPolicy');
    expect(res.ok).toBe(false);
    expect(rejected).toEqual(['cluster:VarmorPolicy']);
    expect([...store.policies().list()[0].enforcers]).toEqual(['BPF']);
    expect(store.upsert(policy('AppArmorBPF'), 'cluster:VarmorPolicy').ok).toBe(true);
    expect([...store.policies().list()[0].enforcers].sort()).toEqual(['AppArmor', 'BPF']);
    expect(store.delete(policy('x'))).toBe(true);
    expect(store.policies().size).toBe(0);
  });

  it('answers namespace labels from what it was told, else from the default', () => {
    const store = new PolicyStore({ validate: profilerValidator().validatePolicy, defaultNamespaceLabels: (ns) => (ns === 'open' ? { a: 'b' } : undefined) });
    store.setNamespace('known', { 'sandbox.varmor.org/enable': 'true' });
    expect(store.namespaceLabels('known')).toEqual({ 'sandbox.varmor.org/enable': 'true' });
    expect(store.namespaceLabels('open')).toEqual({ a: 'b' });
    expect(store.namespaceLabels('other')).toBeUndefined();
    store.deleteNamespace('known');
    expect(store.namespaceLabels('known')).toBeUndefined();
  });
});
