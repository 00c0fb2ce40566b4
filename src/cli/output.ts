import { format as formatArgs } from 'node:util';
import cliProgress from 'cli-progress';
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
  #activeBar: cliProgress.SingleBar | undefined;

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
    if (this.#activeBar && this.#stderr.isTTY) this.#stderr.write('\r\u001b[2K');
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
   * (total may be unknown). On a TTY it is a cli-progress bar; otherwise a plain line every
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
    let total = unit === 'percent' ? 100 : (initialTotal ?? 0);
    const paintBar = (text: string): string => this.#paint('cyan', text);
    const bar = new cliProgress.SingleBar(
      {
        stream: this.#stderr as unknown as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        barsize: 30,
        fps: 10,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        format: (options, params) => {
          const size = options.barsize ?? 30;
          const known = params.total > 0;
          const filled = known ? Math.round(Math.min(1, params.progress) * size) : 0;
          const drawn = `${'█'.repeat(filled)}${'░'.repeat(size - filled)}`;
          const pct = known ? `${Math.floor(Math.min(1, params.progress) * 100)}%` : '';
          const amount =
            unit === 'bytes'
              ? known
                ? `${formatBytes(params.value)} / ${formatBytes(params.total)}`
                : formatBytes(params.value)
              : '';
          return `  ${label.padEnd(9)} ${paintBar(drawn)} ${pct.padStart(4)} ${amount}`.trimEnd();
        },
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    this.#activeBar = bar;
    return {
      update: (value, newTotal) => {
        if (newTotal !== undefined && newTotal > 0 && newTotal !== total) {
          total = newTotal;
          bar.setTotal(total);
        }
        bar.update(value);
      },
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
