import { redact, redactValue } from '../errors/redact.js';
import { readEnv } from './env.js';

/** Log levels, from silent to chatty. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

/** Anything console-compatible: `console`, pino, winston, a test spy. */
export interface Logger {
  error(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  debug(message: string, ...rest: unknown[]): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in LEVEL_RANK;
}

/** The level in force: the option, else `NEMO_LOG`, else `warn`. */
export function resolveLogLevel(option: LogLevel | undefined): LogLevel {
  if (option) return option;
  const env = readEnv('NEMO_LOG')?.toLowerCase();
  return isLogLevel(env) ? env : 'warn';
}

/** A level-filtered logger that redacts credentials from every line. */
export class LevelLogger implements Logger {
  readonly level: LogLevel;
  readonly #sink: Logger;

  constructor(sink: Logger, level: LogLevel) {
    this.#sink = sink;
    this.level = level;
  }

  enabled(level: Exclude<LogLevel, 'off'>): boolean {
    return LEVEL_RANK[this.level] >= LEVEL_RANK[level];
  }

  #write(level: Exclude<LogLevel, 'off'>, message: string, rest: unknown[]): void {
    if (!this.enabled(level)) return;
    const line = redact(`nemovideo ${level}: ${message}`);
    const safeRest = rest.map((r) => {
      if (typeof r === 'string') return redact(r);
      if (r instanceof Error) return redact(String(r));
      return redactValue(r);
    });
    this.#sink[level](line, ...safeRest);
  }

  error(message: string, ...rest: unknown[]): void {
    this.#write('error', message, rest);
  }
  warn(message: string, ...rest: unknown[]): void {
    this.#write('warn', message, rest);
  }
  info(message: string, ...rest: unknown[]): void {
    this.#write('info', message, rest);
  }
  debug(message: string, ...rest: unknown[]): void {
    this.#write('debug', message, rest);
  }
}
