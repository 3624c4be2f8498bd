import { pino, type DestinationStream } from 'pino';

/** The logging surface the hub uses: pino-compatible (`logger.warn({ err }, 'msg')`); pass your own pino instance. */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  /** pino's: lets the hub skip building an entry nobody will see (assumed true when absent). */
  isLevelEnabled?(level: string): boolean;
}

const levels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof levels)[number] | 'silent';

/**
 * The hub's default logger: pino, one JSON line per entry, to `destination` (a file
 * descriptor or a stream; default stdout). Fields: level, time, msg, and the entry's own
 * (client, reason, code, ...), never message payloads. Errors go under `err` (pino's serializer).
 */
export function createLogger(level: LogLevel = 'info', destination: DestinationStream | number = 1): pino.Logger {
  const options = { level, name: 'actorhub' };
  return pino(
    options,
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination,
  );
}

/** A small plain-text stderr logger, one line per entry (kept for embedders who used it). */
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
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (lvl) => levels.indexOf(lvl as (typeof levels)[number]) >= min,
  };
}
