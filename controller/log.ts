// The logger the controller writes to: structured, field names as the API has them. Any
// object with info/warn/error(msg, fields) fits (winston's logger does).

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  debug?(msg: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stderr, one object per message. */
export function jsonLogger(component = 'controller'): Logger {
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...(fields ?? {}) })}\n`,
    );
  };
  return { info: write('info'), warn: write('warn'), error: write('error'), debug: () => undefined };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** pino / fastify style loggers take (fields, msg): adapt one to this interface. */
export function fromPino(p: {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
  debug?(o: object, m: string): void;
}): Logger {
  return {
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    debug: (msg, fields) => p.debug?.(fields ?? {}, msg),
  };
}
