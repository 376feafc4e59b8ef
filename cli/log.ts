// The one log writer of both processes: JSON lines on winston, in the shape profiler/api/log.ts
// declares. cli/ builds it and hands it to the webhook, the controller and the agent, so the rooms
// only know the Logger interface (CONTRACTS.md "Logs").

import winston from 'winston';
import { serializeError, type LogFields, type LogLevel, type LogLevelOrSilent, type StructuredLogger } from '../profiler/index.js';

export interface LoggerOptions {
  /** Which part writes: 'webhook', 'controller', 'agent', … */
  component: string;
  /** Default 'info'. 'silent' is the same as silent: true. */
  level?: LogLevelOrSilent;
  silent?: boolean;
  /** Default: the process's stdout (winston's Console transport). */
  stream?: NodeJS.WritableStream;
  /** Fields on every line, e.g. { nodeName } for the agent. */
  defaultMeta?: LogFields;
}

const WINSTON_LEVELS: Record<LogLevel, number> = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export function createLogger(opts: LoggerOptions): StructuredLogger {
  const silent = opts.silent === true || opts.level === 'silent';
  const threshold: LogLevel = opts.level === undefined || opts.level === 'silent' ? 'info' : opts.level;
  const w = winston.createLogger({
    levels: WINSTON_LEVELS,
    level: threshold,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console()],
  });
  return bind(w, silent ? 'silent' : threshold, { component: opts.component, ...(opts.defaultMeta ?? {}) });
}

function bind(w: winston.Logger, level: LogLevelOrSilent, bound: LogFields): StructuredLogger {
  const write = (lvl: LogLevel, message: string, fields?: LogFields): void => {
    if (level === 'silent' || WINSTON_LEVELS[lvl] > WINSTON_LEVELS[level]) return;
    const info: Record<string, unknown> = { ...bound };
    if (fields) for (const [k, v] of Object.entries(fields)) info[k] = serializeError(v);
    // The one-argument form: winston's (msg, meta) form drops meta when msg holds a %-token.
    w.log({ ...info, level: lvl, message } as winston.LogEntry);
  };
  return {
    level,
    fatal: (msg, fields) => write('fatal', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    debug: (msg, fields) => write('debug', msg, fields),
    trace: (msg, fields) => write('trace', msg, fields),
    log: write,
    isLevelEnabled: (lvl) => level !== 'silent' && WINSTON_LEVELS[lvl] <= WINSTON_LEVELS[level],
    child: (fields) => bind(w, level, { ...bound, ...fields }),
  };
}
