/** The logging surface the hub uses: pino-compatible (`logger.warn({ err }, 'msg')`). */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const levels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof levels)[number] | 'silent';

/** A small stderr logger, one line per entry; pass a pino instance for anything more. */
export function consoleLogger(level: LogLevel = 'warn'): Logger {
  const min = level === 'silent' ? levels.length : levels.indexOf(level);
  const at =
    (lvl: (typeof levels)[number]) =>
    (obj: object, msg?: string): void => {
      if (levels.indexOf(lvl) < min) return;
      const err = (obj as { err?: unknown }).err;
      const detail = err instanceof Error ? ` ${err.stack ?? err.message}` : '';
      const rest = Object.entries(obj)
        .filter(([k]) => k !== 'err')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(`${new Date().toISOString()} ${lvl} ${msg ?? ''} ${rest}${detail}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
