// fastify speaks pino: (obj, msg), (msg, ...args), (err, msg), child(bindings, { serializers }).
// This adapter lets fastify (as `loggerInstance`) and the webhook's own (obj, msg) callers write
// through the one structured logger (profiler/api/log.ts, written by cli/log.ts), so the webhook's lines have the same shape as the
// controller's and the agent's: { level, message, timestamp, component, ...fields }.

import type { FastifyBaseLogger } from 'fastify';
import { format } from 'node:util';
import { LOG_LEVELS, type LogLevel, type LogLevelOrSilent, type StructuredLogger } from '../../profiler/index.js';

type Serializers = Record<string, (value: unknown) => unknown>;
type Fields = Record<string, unknown>;

/** Turns one pino-style call into a message and fields. */
export function pinoCall(args: unknown[], serializers: Serializers = {}): { message: string; fields: Fields } {
  const [first, ...rest] = args;
  if (typeof first === 'string') return { message: format(first, ...rest), fields: {} };
  let fields: Fields;
  if (first instanceof Error) fields = { err: first };
  else if (first !== null && typeof first === 'object') fields = { ...(first as Fields) };
  else fields = first === undefined ? {} : { value: first };
  for (const [key, serialize] of Object.entries(serializers)) {
    if (fields[key] !== undefined) fields[key] = serialize(fields[key]);
  }
  const [msg, ...params] = rest;
  if (typeof msg === 'string') return { message: format(msg, ...params), fields };
  // pino: a lone error object logs its message.
  const err = first instanceof Error ? first : fields['err'];
  return { message: err instanceof Error ? err.message : '', fields };
}

const rank = (l: LogLevelOrSilent): number => (l === 'silent' ? -1 : LOG_LEVELS.indexOf(l));

/**
 * A pino-compatible logger over a StructuredLogger. Bindings become the child's fields;
 * serializers given by fastify (req, res, err) apply to the matching fields.
 *
 * fastify makes a child for every request ({ reqId }), and at the usual levels most of them never
 * write: so a child holds only its bindings, and the structured child logger is made on its first
 * line that passes the level. The methods live on the prototype; a child costs one small object.
 */
class PinoAdapter {
  private bound: StructuredLogger | undefined;

  constructor(
    private readonly parent: StructuredLogger,
    private readonly bindings: Fields | undefined,
    private readonly serializers: Serializers,
    public level: LogLevelOrSilent,
  ) {}

  private write(l: LogLevel, args: unknown[]): void {
    if (rank(l) > rank(this.level)) return;
    this.bound ??= this.bindings ? this.parent.child(this.bindings) : this.parent;
    const { message, fields } = pinoCall(args, this.serializers);
    this.bound.log(l, message, fields);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Fields, options?: { serializers?: Serializers; level?: string }): PinoAdapter {
    // Nested children bind to the structured logger lazily too, through this one.
    const parent: StructuredLogger = this.bindings ? this.parent.child(this.bindings) : this.parent;
    const serializers = options?.serializers ? { ...this.serializers, ...options.serializers } : this.serializers;
    return new PinoAdapter(parent, bindings, serializers, (options?.level as LogLevelOrSilent | undefined) ?? this.level);
  }
}

export function fastifyLogger(log: StructuredLogger, serializers: Serializers = {}): FastifyBaseLogger {
  // pino's LogFn is an overloaded generic; the variadic methods above implement all its forms.
  return new PinoAdapter(log, undefined, serializers, log.level) as unknown as FastifyBaseLogger;
}
