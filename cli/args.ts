// The one command-line flag parser of `varmor` and its subcommands, and the one UsageError.
// Pure: argv in, values out. The spelling every command accepts: `--flag value`, `--flag=value`,
// a short alias (`-h`, `-o`) for some, boolean flags without a value, `--` ending the flags.
// Errors name the flag (`--port: needs a value`); each command prints its usage and exits 2.

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'VARMOR_ERR_CLI_USAGE';
  constructor(
    message: string,
    /** The flag or argument the error is about. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** A one-letter alias, spelt without the dash. */
  short?: string;
}

/** Flags by long name, spelt without the dashes: { port: { type: 'string' } }. */
export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues<S extends FlagSpecs> = { [K in keyof S]?: S[K]['type'] extends 'boolean' ? true : string };

export interface ParsedFlags<S extends FlagSpecs> {
  values: FlagValues<S>;
  positionals: string[];
}

/**
 * Parses argv against the specs; the last of a repeated flag wins. `-` is a positional (stdin).
 * Positionals are refused unless `positionals` is set.
 */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S, opts: { positionals?: boolean } = {}): ParsedFlags<S> {
  const byFlag = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byFlag.set(`--${name}`, name);
    if (spec.short) byFlag.set(`-${spec.short}`, name);
  }
  const values: Record<string, string | true> = {};
  const positionals: string[] = [];
  const positional = (arg: string): void => {
    if (!opts.positionals) throw new UsageError(`${arg}: unexpected argument`, arg);
    positionals.push(arg);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      argv.slice(i + 1).forEach(positional);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = byFlag.get(flag);
    if (name === undefined) throw new UsageError(`${flag}: unknown flag`, flag);
    if (specs[name]!.type === 'boolean') {
      if (eq > 0) throw new UsageError(`${flag}: takes no value`, flag);
      values[name] = true;
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag}: needs a value`, flag);
    values[name] = value;
  }
  return { values: values as FlagValues<S>, positionals };
}
