// Structured JSON logs (winston) with the API's names: namespace, pod, container, profile,
// policy, enforcer, rule, action. Violations go through the same logger with message "violation".

import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(opts: { level?: string; nodeName: string; silent?: boolean; stream?: NodeJS.WritableStream }): Logger {
  return winston.createLogger({
    level: opts.level ?? 'info',
    silent: opts.silent,
    defaultMeta: { component: 'varmor-agent', nodeName: opts.nodeName },
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console()],
  });
}
