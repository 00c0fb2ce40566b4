import { format as formatArgs } from 'node:util';
import type { Logger } from '../helpers.js';
import type { ErrorReport } from './errors.js';
import { formatBytes } from './format.js';

/** A writable text stream with the few members the CLI uses (process.stdout/stderr or a test double). */
export interface TextSink {
  write(chunk: string): boolean;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

/** How the CLI talks: to people (stage lines, bars), to machines (`--json`), or not at all (`--quiet`). */
export interface OutputOptions {
  stdout: TextSink;
  stderr: TextSink;
  /** `--json`: machine output on stdout, no human chatter. */
  json: boolean;
  /** `--quiet`: only the result and errors. */
  quiet: boolean;
  /** `--verbose`: debug log and stack traces on stderr. */
  verbose: boolean;
  /** Colors allowed (TTY, no `NO_COLOR`, not `--no-color`, `TERM` not `dumb`). */
  color: boolean;
}

/** A progress indicator: a bar on a TTY, occasional plain lines otherwise. */
export interface Progress {
  /** Report the current value (percent, or bytes) and, if it became known, the total. */
  update(value: number, total?: number): void;
  /** Finish: leaves the bar at its last value and moves to a new line. */
  stop(): void;
}

const ANSI = {
  bold: ['\u001b[1m', '\u001b[22m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  red: ['\u001b[31m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
} as const;

/** Whether colors are allowed for `stream` under `env` (honours `NO_COLOR`, `FORCE_COLOR`, `TERM=dumb`). */
export function colorAllowed(
  stream: TextSink,
  env: Record<string, string | undefined>,
  flag: boolean,
): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0')
    return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** The CLI's output: every line the command prints goes through here. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly #stdout: TextSink;
  readonly #stderr: TextSink;
  #activeBar: TerminalBar | undefined;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.verbose = options.verbose;
    this.color = options.color;
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  /** True when progress bars can be drawn (human mode on a terminal). */
  get interactive(): boolean {
    return !this.json && !this.quiet && this.#stderr.isTTY === true;
  }

  #paint(style: keyof typeof ANSI, text: string): string {
    if (!this.color) return text;
    const [open, close] = ANSI[style];
    return `${open}${text}${close}`;
  }

  /** Paint `text` bold (when colors are on). */
  bold(text: string): string {
    return this.#paint('bold', text);
  }

  /** Paint `text` dim (when colors are on). */
  dim(text: string): string {
    return this.#paint('dim', text);
  }

  #human(line: string): void {
    if (this.json || this.quiet) return;
    this.#interruptBar();
    this.#stderr.write(`${line}\n`);
  }

  #interruptBar(): void {
    // A log line while a bar is drawn: clear the bar's line first; it redraws on its next update.
    this.#activeBar?.clear();
  }

  /** A stage starting, e.g. `› Uploading …` (stderr; hidden by --quiet and --json). */
  stage(text: string): void {
    this.#human(`${this.#paint('cyan', '›')} ${text}`);
  }

  /** A stage that finished well, e.g. `✓ Uploaded …`. */
  done(text: string): void {
    this.#human(`${this.#paint('green', '✓')} ${text}`);
  }

  /** A secondary detail line, indented and dim. */
  detail(text: string): void {
    this.#human(`  ${this.dim(text)}`);
  }

  /** A warning (stderr; shown even with --quiet, hidden with --json). */
  warn(text: string): void {
    if (this.json) return;
    this.#interruptBar();
    this.#stderr.write(`${this.#paint('yellow', 'warning:')} ${text}\n`);
  }

  /** The command's result for people (stdout; not printed in --json mode). */
  result(text: string): void {
    if (this.json) return;
    this.#stdout.write(`${text}\n`);
  }

  /** Raw text on stdout with no newline, e.g. a streamed reply (not printed in --json mode). */
  stream(text: string): void {
    if (this.json) return;
    this.#stdout.write(text);
  }

  /** One JSON document (or NDJSON line) on stdout, only in --json mode. */
  emit(value: unknown): void {
    if (!this.json) return;
    this.#stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Report a failure: one line on stderr (a JSON line in --json mode), the stack with --verbose. */
  error(report: ErrorReport, error?: unknown): void {
    this.stopProgress();
    if (this.json) {
      this.#stderr.write(
        `${JSON.stringify({ error: { kind: report.kind, message: report.message, exitCode: report.exitCode } })}\n`,
      );
    } else {
      this.#stderr.write(`${this.#paint('red', 'error:')} ${report.message}\n`);
    }
    if (this.verbose && error instanceof Error && error.stack) {
      this.#stderr.write(`${this.dim(error.stack)}\n`);
      if (error.cause instanceof Error && error.cause.stack) {
        this.#stderr.write(`${this.dim(`caused by: ${error.cause.stack}`)}\n`);
      }
    }
  }

  /** Debug line (stderr, only with --verbose). */
  debug(text: string): void {
    if (!this.verbose) return;
    this.#interruptBar();
    this.#stderr.write(`${this.dim(text)}\n`);
  }

  /** A console-compatible logger for the SDK (`NemoClient({ logger })`) writing to stderr. */
  logger(): Logger {
    const write = (message: string, rest: unknown[]): void => {
      this.#interruptBar();
      this.#stderr.write(`${this.dim(formatArgs(message, ...rest))}\n`);
    };
    return {
      error: (m, ...r) => write(m, r),
      warn: (m, ...r) => write(m, r),
      info: (m, ...r) => write(m, r),
      debug: (m, ...r) => write(m, r),
    };
  }

  /**
   * A progress indicator for `label`. `unit` `percent` counts 0–100, `bytes` counts bytes
   * (total may be unknown). On a TTY it is a bar redrawn in place; otherwise a plain line every
   * 25 % (or every 10 MB when the total is unknown); nothing with --quiet or --json.
   */
  progress(label: string, unit: 'percent' | 'bytes', total?: number): Progress {
    if (this.json || this.quiet) return { update() {}, stop() {} };
    if (this.interactive) return this.#bar(label, unit, total);
    return this.#plain(label, unit, total);
  }

  /**
   * The terminal (stderr) for a command that draws its own live progress (several
   * bars at once), when bars can be drawn; `undefined` otherwise (pipes, --json, --quiet).
   */
  liveSink(): TextSink | undefined {
    return this.interactive ? this.#stderr : undefined;
  }

  /** Stop the bar being drawn, if any (on errors and Ctrl-C, so the cursor comes back). */
  stopProgress(): void {
    const bar = this.#activeBar;
    this.#activeBar = undefined;
    if (bar) bar.stop();
  }

  #bar(label: string, unit: 'percent' | 'bytes', initialTotal: number | undefined): Progress {
    this.stopProgress();
    const size = barSize(this.#stderr.columns);
    const render = (value: number, total: number): string => {
      const known = total > 0;
      const ratio = known ? Math.min(1, Math.max(0, value / total)) : 0;
      const filled = Math.round(ratio * size);
      const drawn = `${'█'.repeat(filled)}${'░'.repeat(size - filled)}`;
      const pct = known ? `${Math.floor(ratio * 100)}%` : '';
      const amount =
        unit === 'bytes'
          ? known
            ? `${formatBytes(value)} / ${formatBytes(total)}`
            : formatBytes(value)
          : '';
      return `  ${label.padEnd(9)} ${this.#paint('cyan', drawn)} ${pct.padStart(4)} ${amount}`.trimEnd();
    };
    const bar = new TerminalBar(this.#stderr, render, unit === 'percent' ? 100 : initialTotal);
    this.#activeBar = bar;
    return {
      update: (value, total) => bar.update(value, total),
      stop: () => {
        if (this.#activeBar === bar) this.#activeBar = undefined;
        bar.stop();
      },
    };
  }

  #plain(label: string, unit: 'percent' | 'bytes', initialTotal: number | undefined): Progress {
    let total = unit === 'percent' ? 100 : initialTotal;
    let lastStep = -1;
    let last = 0;
    let printed = -1;
    const describe = (value: number): string => {
      if (unit === 'percent') return `${Math.floor(value)}%`;
      if (total && total > 0)
        return `${Math.floor((value / total) * 100)}% (${formatBytes(value)} / ${formatBytes(total)})`;
      return formatBytes(value);
    };
    return {
      update: (value, newTotal) => {
        if (newTotal !== undefined && newTotal > 0) total = newTotal;
        last = value;
        const step =
          total && total > 0
            ? Math.floor(((value / total) * 100) / 25)
            : Math.floor(value / (10 * 1024 * 1024));
        if (step > lastStep) {
          lastStep = step;
          printed = value;
          this.#human(`  ${label}: ${describe(value)}`);
        }
      },
      stop: () => {
        // End on the last value reached, unless it was just printed.
        if (last > 0 && last !== printed) {
          printed = last;
          this.#human(`  ${label}: ${describe(last)}`);
        }
      },
    };
  }
}

/** Cells of the bar: 30, fewer on a narrow terminal so the line never wraps. */
function barSize(columns: number | undefined): number {
  if (columns === undefined || columns <= 0) return 30;
  return Math.max(10, Math.min(30, columns - 45));
}

/**
 * A one-line progress bar redrawn in place (carriage return, clear line) at most ten times a
 * second, and once more when it stops. The cursor is left alone, so an interrupted process
 * never leaves the terminal without one.
 */
class TerminalBar {
  static readonly FRAME_MS = 100;
  readonly #sink: TextSink;
  readonly #render: (value: number, total: number) => string;
  readonly #now: () => number;
  #value = 0;
  #total: number;
  #drawnAt = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(
    sink: TextSink,
    render: (value: number, total: number) => string,
    total: number | undefined,
    now: () => number = Date.now,
  ) {
    this.#sink = sink;
    this.#render = render;
    this.#total = total ?? 0;
    this.#now = now;
    this.#draw();
  }

  update(value: number, total?: number): void {
    if (this.#stopped) return;
    this.#value = value;
    if (total !== undefined && total > 0) this.#total = total;
    if (this.#now() - this.#drawnAt >= TerminalBar.FRAME_MS) this.#draw();
  }

  /** Erase the bar's line (a log line is about to be printed); the next update redraws it. */
  clear(): void {
    if (this.#stopped) return;
    this.#sink.write('\r\u001b[2K');
    this.#drawnAt = Number.NEGATIVE_INFINITY;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#draw();
    this.#stopped = true;
    this.#sink.write('\n');
  }

  #draw(): void {
    this.#drawnAt = this.#now();
    this.#sink.write(`\r\u001b[2K${this.#render(this.#value, this.#total)}`);
  }
}
