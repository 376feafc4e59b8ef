// fastify speaks pino: (obj, msg), (msg, ...args), (err, msg), child(bindings, { serializers }).
// This adapter lets fastify (as `loggerInstance`) and the webhook's own (obj, msg) callers write
// through the one structured logger (profiler/api/log.ts, written by cli/log.ts), so the webhook's lines have the same shape as the
// controller's and the agent's: { level, message, timestamp, component, ...fields }.

import type { FastifyBaseLogger, FastifyLogFn } from 'fastify';
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

/**
 * A pino-compatible logger over a StructuredLogger. Bindings become the child's fields;
 * serializers given by fastify (req, res, err) apply to the matching fields.
 */
export function fastifyLogger(log: StructuredLogger, serializers: Serializers = {}): FastifyBaseLogger {
  let level: LogLevelOrSilent = log.level;
  const rank = (l: LogLevelOrSilent): number => (l === 'silent' ? -1 : LOG_LEVELS.indexOf(l));
  const method = (l: LogLevel): FastifyLogFn =>
    // pino's LogFn is an overloaded generic; one variadic function implements all its forms.
    ((...args: unknown[]) => {
      if (rank(l) > rank(level)) return;
      const { message, fields } = pinoCall(args, serializers);
      log.log(l, message, fields);
    }) as FastifyLogFn;
  return {
    get level() {
      return level;
    },
    set level(l: string) {
      level = l as LogLevelOrSilent;
    },
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    trace: method('trace'),
    silent: (() => undefined) as FastifyLogFn,
    child(bindings, options) {
      const more = (options?.serializers ?? {}) as Serializers;
      const child = fastifyLogger(log.child(bindings), { ...serializers, ...more });
      child.level = options?.level ?? level;
      return child;
    },
  };
}
