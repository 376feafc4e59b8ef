// The `varmor` command: validate and compile policies offline, print the rule coverage table,
// and start the webhook or the node agent. The subcommands that need servers are imported
// lazily so `varmor validate` starts fast and works without the native addon.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AnyPolicy, type ArmorProfileModel, compilePolicy, coverageTable, DEFAULT_PRODUCT_NAMESPACE, parseDocuments, PolicyValidationError, profileName, validateObject, validatePolicy, type ValidationIssue, YamlParseError } from '../profiler/index.js';
import { parseFlags, UsageError } from './args.js';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
  writeFile(path: string, data: string | Uint8Array): void;
  mkdir(path: string): void;
}

export const nodeIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p, 'utf8'),
  writeFile: (p, d) => writeFileSync(p, d),
  mkdir: (p) => mkdirSync(p, { recursive: true }),
};

const USAGE = `Usage: varmor <command> [options]

Commands:
  validate FILE...            validate VarmorPolicy/VarmorClusterPolicy documents (YAML or JSON,
                              several documents per file); prints every error with its field path
  compile FILE... --out DIR   compile each policy into DIR/<profileName>.apparmor,
                              <profileName>.seccomp.json and <profileName>.bpf
  rules                       the built-in rules x enforcers coverage table
  webhook [...]               run the admission webhook and controller (see varmor webhook --help)
  agent [...]                 run the node agent (see varmor agent --help)
  bpf uninstall [...]         detach the node's pinned BPF programs, remove every pin (see varmor bpf --help)
  uninstall [...]             remove everything the agent left on this node: BPF, Seccomp, AppArmor, hook
                              socket (see varmor uninstall --help)

Run 'varmor <command> --help' for a command's options.
`;

const HELP: Record<string, string> = {
  validate: `Usage: varmor validate [options] FILE...

Validates every VarmorPolicy and VarmorClusterPolicy in the files (multi-document YAML or JSON,
read as kubectl reads them; ArmorProfile and ArmorProfileModel documents are checked against the
schema, other kinds are skipped). Exit status 1 when any document is invalid.

Options:
  --product-namespace NS     namespace varmor runs in (names cluster policies' profiles; default ${DEFAULT_PRODUCT_NAMESPACE})
  --ignore-unknown-fields    do not reject fields the schema does not know (default: rejected, like kubectl --validate=strict)
  -o, --output text|json     output format (default text)
  -h, --help                 this help
`,
  compile: `Usage: varmor compile [options] FILE... --out DIR

Compiles each policy in the files and writes, named as the cluster names them:
  DIR/<profileName>.apparmor      AppArmor profile text (AppArmor enforcer)
  DIR/<profileName>.seccomp.json  Seccomp profile, OCI/Docker JSON (Seccomp enforcer)
  DIR/<profileName>.bpf           BPF rule tables, native/varmor_tables.h layout (BPF enforcer)
Exit status 1 when any policy fails to validate or compile (the others are still written).

Options:
  --out DIR                  output directory (created if missing; required)
  --model FILE               ArmorProfileModel documents, for DefenseInDepth policies with profileType
                             BehaviorModel (matched by name: the model named <profileName>)
  --product-namespace NS     namespace varmor runs in (default ${DEFAULT_PRODUCT_NAMESPACE})
  -h, --help                 this help
`,
  rules: `Usage: varmor rules

Prints each built-in rule against each enforcer: implemented here or not, beside what vArmor
implements, with the totals.
`,
};

const VALIDATE_FLAGS = {
  'product-namespace': { type: 'string' },
  output: { type: 'string', short: 'o' },
  'ignore-unknown-fields': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMPILE_FLAGS = {
  out: { type: 'string' },
  model: { type: 'string' },
  'product-namespace': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Doc {
  file: string;
  index: number;
  value: unknown;
}

function describeDoc(value: unknown): { kind: string; name: string } {
  const o = (value && typeof value === 'object' ? value : {}) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  const kind = typeof o.kind === 'string' ? o.kind : '(no kind)';
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '(no name)';
  const ns = typeof o.metadata?.namespace === 'string' ? `${o.metadata.namespace}/` : '';
  return { kind, name: `${ns}${name}` };
}

/** Reads and parses the files; unreadable files and YAML errors become findings, not exceptions. */
function load(io: CliIO, files: string[], report: (file: string, index: number | null, what: string, errors: ValidationIssue[]) => void): Doc[] {
  const docs: Doc[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = file === '-' ? readFileSync(0, 'utf8') : io.readFile(file);
    } catch (e) {
      report(file, null, '', [{ path: '', code: 'read-error', message: (e as Error).message }]);
      continue;
    }
    try {
      parseDocuments(text).forEach((value, index) => docs.push({ file, index, value }));
    } catch (e) {
      if (!(e instanceof YamlParseError)) throw e;
      const where = e.line ? `line ${e.line}: ` : '';
      report(file, e.document, '', [{ path: '', code: e.code, message: `${where}${e.message.replace(/^document \d+( \(line \d+\))?: /, '')}` }]);
    }
  }
  return docs;
}

const POLICY_KINDS = ['VarmorPolicy', 'VarmorClusterPolicy'];
const VARMOR_KINDS = [...POLICY_KINDS, 'ArmorProfile', 'ArmorProfileModel'];

function formatErrors(file: string, index: number | null, what: string, errors: ValidationIssue[]): string {
  const where = `${file}${index === null ? '' : `[${index}]`}${what ? ` ${what}` : ''}`;
  return errors.map((e) => `${where}: ${e.path ? `${e.path}: ` : ''}${e.message} (${e.code})\n`).join('');
}

function cmdValidate(argv: string[], io: CliIO): number {
  const { positionals: files, values: flags } = parseFlags(argv, VALIDATE_FLAGS, { positionals: true });
  if (flags.help) {
    io.stdout(HELP.validate);
    return 0;
  }
  if (files.length === 0) throw new UsageError('validate needs at least one FILE');
  const output = flags.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output must be text or json, got ${output}`);
  const opts = {
    productNamespace: flags['product-namespace'] ?? DEFAULT_PRODUCT_NAMESPACE,
    unknownFields: flags['ignore-unknown-fields'] ? ('ignore' as const) : ('reject' as const),
  };
  const results: { file: string; document: number | null; kind?: string; name?: string; valid: boolean; skipped?: boolean; errors: ValidationIssue[]; warnings?: ValidationIssue[] }[] = [];
  const docs = load(io, files, (file, index, _what, errors) => results.push({ file, document: index, valid: false, errors }));
  for (const d of docs) {
    const { kind, name } = describeDoc(d.value);
    if (!VARMOR_KINDS.includes(kind) && !(typeof (d.value as { apiVersion?: unknown })?.apiVersion === 'string' && (d.value as { apiVersion: string }).apiVersion.startsWith('crd.varmor.org/'))) {
      results.push({ file: d.file, document: d.index, kind, name, valid: true, skipped: true, errors: [] });
      continue;
    }
    // policies once through validatePolicy, which also gives what the webhook would answer as
    // admission warnings (e.g. rules the enforcers ignore); the other kinds against the schema
    const checked = kind === 'VarmorPolicy' || kind === 'VarmorClusterPolicy' ? validatePolicy(d.value, opts) : undefined;
    const errors = checked ? (checked.ok ? [] : checked.errors) : validateObject(d.value, opts);
    const warnings = checked?.ok ? checked.warnings : [];
    results.push({ file: d.file, document: d.index, kind, name, valid: errors.length === 0, errors, ...(warnings.length ? { warnings } : {}) });
  }
  const failed = results.filter((r) => !r.valid).length;
  if (output === 'json') {
    io.stdout(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const r of results) {
      const what = r.kind ? `${r.kind} ${r.name}` : '';
      if (r.valid) {
        io.stdout(`${r.file}[${r.document}] ${what}: ${r.skipped ? 'skipped (not a varmor kind)' : 'valid'}${r.warnings ? ` (${r.warnings.length} warning(s))` : ''}\n`);
        for (const w of r.warnings ?? []) io.stderr(`${r.file}[${r.document}] ${what}: warning: ${w.path}: ${w.message}\n`);
      } else io.stderr(formatErrors(r.file, r.document, what, r.errors));
    }
    const checked = results.filter((r) => !r.skipped).length;
    (failed ? io.stderr : io.stdout)(`${checked - failed} valid, ${failed} invalid\n`);
  }
  return failed > 0 ? 1 : 0;
}

function cmdCompile(argv: string[], io: CliIO): number {
  const { positionals: files, values: flags } = parseFlags(argv, COMPILE_FLAGS, { positionals: true });
  if (flags.help) {
    io.stdout(HELP.compile);
    return 0;
  }
  const out = flags.out;
  if (out === undefined || out === '') throw new UsageError('compile needs --out DIR');
  if (files.length === 0) throw new UsageError('compile needs at least one FILE');
  const productNamespace = flags['product-namespace'] ?? DEFAULT_PRODUCT_NAMESPACE;
  let failed = 0;
  const report = (file: string, index: number | null, what: string, errors: ValidationIssue[]): void => {
    failed++;
    io.stderr(formatErrors(file, index, what, errors));
  };
  const models = new Map<string, ArmorProfileModel>();
  const modelFile = flags.model;
  if (modelFile !== undefined) {
    for (const d of load(io, [modelFile], report)) {
      const m = d.value as ArmorProfileModel;
      if (m?.kind !== 'ArmorProfileModel') continue;
      const errors = validateObject(m);
      if (errors.length > 0) report(d.file, d.index, `ArmorProfileModel ${describeDoc(m).name}`, errors);
      else if (m.metadata?.name) models.set(m.metadata.name, m);
    }
  }
  io.mkdir(out);
  let written = 0;
  for (const d of load(io, files, report)) {
    const { kind, name } = describeDoc(d.value);
    if (!POLICY_KINDS.includes(kind)) continue;
    const what = `${kind} ${name}`;
    const v = validatePolicy(d.value, { productNamespace });
    if (!v.ok) {
      report(d.file, d.index, what, v.errors);
      continue;
    }
    const policy = d.value as AnyPolicy;
    try {
      // The model is looked up by the profile name the policy compiles to.
      const probe = profileName({ kind: policy.kind, namespace: policy.metadata.namespace, name: policy.metadata.name as string }, productNamespace);
      const compiled = compilePolicy(policy, { productNamespace, model: models.get(probe) });
      const base = join(out, compiled.profileName);
      const outputs: [string, string | Uint8Array][] = [];
      if (compiled.appArmor) outputs.push([`${base}.apparmor`, compiled.appArmor.profile]);
      if (compiled.seccomp) outputs.push([`${base}.seccomp.json`, `${JSON.stringify(compiled.seccomp, null, 2)}\n`]);
      if (compiled.bpf) outputs.push([`${base}.bpf`, compiled.bpf.tables]);
      for (const [path, data] of outputs) {
        io.writeFile(path, data);
        io.stdout(`${path}\n`);
        written++;
      }
    } catch (e) {
      if (!(e instanceof PolicyValidationError)) throw e;
      const errors = e.errors.map((x) =>
        x.code === 'VARMOR_ERR_COMPILE_MODEL_REQUIRED' ? { ...x, message: `${x.message}; pass the ArmorProfileModel with --model FILE` } : x,
      );
      report(d.file, d.index, what, errors);
    }
  }
  (failed ? io.stderr : io.stdout)(`${written} file(s) written, ${failed} document(s) failed\n`);
  return failed > 0 ? 1 : 0;
}

/** Runs one command; returns the exit status. Usage errors print the usage and return 2. */
export async function run(argv: string[], io: CliIO = nodeIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return cmd === undefined ? 2 : 0;
      case 'validate':
        return cmdValidate(rest, io);
      case 'compile':
        return cmdCompile(rest, io);
      case 'rules':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.stdout(HELP.rules);
          return 0;
        }
        if (rest.length > 0) throw new UsageError(`rules takes no arguments, got ${rest.join(' ')}`);
        io.stdout(`${coverageTable()}\n`);
        return 0;
      case 'webhook': {
        const { main } = await import('./webhook.js');
        return await main(rest);
      }
      case 'agent': {
        const { main } = await import('./agent.js');
        return await main(rest);
      }
      case 'bpf': {
        const { main, BPF_HELP } = await import('./bpf.js');
        HELP.bpf ??= BPF_HELP;
        return await main(rest, io);
      }
      case 'uninstall': {
        const { main, UNINSTALL_HELP } = await import('./uninstall.js');
        HELP.uninstall ??= UNINSTALL_HELP;
        return await main(rest, io);
      }
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`varmor: ${e.message}\n\n${cmd && HELP[cmd] ? HELP[cmd] : USAGE}`);
      return 2;
    }
    throw e;
  }
}
