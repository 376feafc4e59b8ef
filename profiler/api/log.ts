// The log shape of both processes (the manager: webhook and controller; the node agent): the
// Logger every room logs through, its levels and field names. Pure: the one writer, JSON lines on
// winston, is cli/log.ts, which builds it and hands it to each room (CONTRACTS.md "Logs").
//
//   {"level":"warn","message":"violation","timestamp":"…","component":"agent","nodeName":"n1",
//    "namespace":"shop","pod":"web-0","container":"app","profile":"varmor-shop-web","enforcer":"BPF","rule":{…}}
//
// Fields about an object use the API's names (LOG_FIELDS); a call's fields win over a child's
// bindings, which win over the logger's defaultMeta. Error values are written as
// { type, message, code, stack }, since JSON.stringify turns an Error into {}.

/** pino's level names and order (fastify speaks them), most severe first; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogLevelOrSilent = LogLevel | 'silent';

/**
 * The field names for the objects a line is about, spelt as the API spells them (the per-node
 * status entry's `nodeName`, a policy's `namespace`, …). Other fields (reason, error, path) are free.
 */
export const LOG_FIELDS = ['namespace', 'policy', 'pod', 'container', 'enforcer', 'rule', 'profile', 'nodeName', 'component'] as const;

/** A line's fields: any object's own properties (a record type such as ViolationRecord fits as is). */
export type LogFields = object;

/**
 * What code that logs needs: a message and the fields it concerns. A test can pass a plain object
 * ({ info, warn, error }); debug is optional there, so callers write `log.debug?.(…)`.
 */
export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug?(msg: string, fields?: LogFields): void;
}

/** The logger createLogger returns: all six levels, children with bound fields, its threshold. */
export interface StructuredLogger extends Logger {
  debug(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  trace(msg: string, fields?: LogFields): void;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  /** The threshold; 'silent' when nothing is written. */
  readonly level: LogLevelOrSilent;
  isLevelEnabled(level: LogLevel): boolean;
  /** A logger whose lines carry these fields too (e.g. { component: 'policies' }). */
  child(fields: LogFields): StructuredLogger;
}

export function isLogLevel(value: string): value is LogLevelOrSilent {
  return value === 'silent' || (LOG_LEVELS as readonly string[]).includes(value);
}

/** An Error as JSON can carry it; other values unchanged. */
export function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return { type: value.name, message: value.message, ...(code !== undefined ? { code } : {}), stack: value.stack };
}

const nothing = (): void => undefined;

/** Writes nothing: for tests and for callers that log through something else. */
export const silentLogger: StructuredLogger = {
  level: 'silent',
  fatal: nothing,
  error: nothing,
  warn: nothing,
  info: nothing,
  debug: nothing,
  trace: nothing,
  log: nothing,
  isLevelEnabled: () => false,
  child: () => silentLogger,
};
