/**
 * `nemovideo emulator`: run the NemoVideo emulator as a standalone HTTP server (API + CDN on
 * loopback) until the signal aborts (Ctrl-C / SIGTERM). Kept free of any CLI framework so the
 * full CLI can call it: `parseEmulatorArgs(argv)` then `runEmulatorCommand(options, io)`.
 *
 * @module
 */

import { parseArgs } from 'node:util';
import type { EmulatorOptions, EventStyle, RenderShape } from '../../testing/index.js';

const DOCS = 'https://github.com/nemovideo/nemovideo/blob/main/docs/testing.md';
/** Requests kept in the log of a long-running emulator (counters stay exact beyond it). */
const DEFAULT_REQUEST_LOG_LIMIT = 10_000;

/** Options of the emulator command. */
export interface EmulatorCommandOptions {
  /** API port. Default 0 (any free port). */
  port?: number;
  /** CDN port. Default 0. */
  cdnPort?: number;
  /** Interface. Default 127.0.0.1. */
  host?: string;
  renderShape?: RenderShape;
  eventStyle?: EventStyle;
  renderDurationMs?: number;
  resultSizeBytes?: number;
  heartbeatMs?: number;
  eventDelayMs?: number;
  initialCredits?: number;
  resultUrlTtlMs?: number;
  requestLogLimit?: number;
}

/** Where the command writes, and when it stops. */
export interface EmulatorCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Aborting it stops the server. */
  signal: AbortSignal;
  /** Called once the server listens (tests use it). */
  onListening?: (info: { url: string; cdnUrl: string }) => void;
}

/** Usage text of the command. */
export const EMULATOR_USAGE = `Usage: nemovideo emulator [options]

Run the NemoVideo emulator (API + CDN) on loopback until Ctrl-C.

Options:
  --port <n>              API port (default 0: any free port)
  --cdn-port <n>          CDN port (default 0)
  --host <host>           interface (default 127.0.0.1)
  --render-shape <shape>  render poll answer: top-level | wrapped (default top-level)
  --event-style <style>   /run_sse payloads: adk | typed (default adk)
  --render-duration <ms>  render time from start to completed (default 3000)
  --result-size <bytes>   size of the served render result (default: the 2 s sample MP4)
  --heartbeat <ms>        SSE heartbeat interval (default 15000; 0 disables)
  --event-delay <ms>      delay between the SSE events of a turn (default 0)
  --initial-credits <n>   credits of a new anonymous user (default 100)
  --result-url-ttl <ms>   result URLs expire this long after a poll hands them out
                          (default 0: never)
  --request-log-limit <n> requests kept in the log (default 10000; counters stay exact)
  -h, --help              show this help

Faults, counters and every other control: the control API at <url>/_emulator
(${DOCS}#the-control-api).
`;

/** Thrown for bad command-line arguments. */
export class EmulatorUsageError extends Error {
  override name = 'EmulatorUsageError';
}

function intOption(
  name: string,
  value: string | undefined,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max)
    throw new EmulatorUsageError(`--${name} must be an integer from 0 to ${max}, got "${value}"`);
  return n;
}

/**
 * Parse the command's arguments (after `emulator`). Returns `'help'` for `--help`.
 *
 * @example
 * ```ts
 * parseEmulatorArgs(['--port', '4010']); // { port: 4010 }
 * ```
 */
export function parseEmulatorArgs(argv: readonly string[]): EmulatorCommandOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        'cdn-port': { type: 'string' },
        host: { type: 'string' },
        'render-shape': { type: 'string' },
        'event-style': { type: 'string' },
        'render-duration': { type: 'string' },
        'result-size': { type: 'string' },
        heartbeat: { type: 'string' },
        'event-delay': { type: 'string' },
        'initial-credits': { type: 'string' },
        'result-url-ttl': { type: 'string' },
        'request-log-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new EmulatorUsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const options: EmulatorCommandOptions = {};
  const port = intOption('port', str('port'), 65535);
  if (port !== undefined) options.port = port;
  const cdnPort = intOption('cdn-port', str('cdn-port'), 65535);
  if (cdnPort !== undefined) options.cdnPort = cdnPort;
  const host = str('host');
  if (host !== undefined) options.host = host;
  const shape = str('render-shape');
  if (shape !== undefined) {
    if (shape !== 'top-level' && shape !== 'wrapped')
      throw new EmulatorUsageError('--render-shape must be top-level or wrapped');
    options.renderShape = shape;
  }
  const style = str('event-style');
  if (style !== undefined) {
    if (style !== 'adk' && style !== 'typed')
      throw new EmulatorUsageError('--event-style must be adk or typed');
    options.eventStyle = style;
  }
  const duration = intOption('render-duration', str('render-duration'));
  if (duration !== undefined) options.renderDurationMs = duration;
  const size = intOption('result-size', str('result-size'));
  if (size !== undefined) options.resultSizeBytes = size;
  const heartbeat = intOption('heartbeat', str('heartbeat'));
  if (heartbeat !== undefined) options.heartbeatMs = heartbeat;
  const eventDelay = intOption('event-delay', str('event-delay'));
  if (eventDelay !== undefined) options.eventDelayMs = eventDelay;
  const credits = intOption('initial-credits', str('initial-credits'));
  if (credits !== undefined) options.initialCredits = credits;
  const ttl = intOption('result-url-ttl', str('result-url-ttl'));
  if (ttl !== undefined) options.resultUrlTtlMs = ttl;
  const logLimit = intOption('request-log-limit', str('request-log-limit'));
  if (logLimit !== undefined) options.requestLogLimit = logLimit;
  return options;
}

/** A listen error the user can fix (a busy or privileged port, a foreign host): the message and exit code 2. */
function listenProblem(error: unknown, options: EmulatorCommandOptions): string | undefined {
  const e = error as { code?: unknown; port?: unknown };
  const host = options.host ?? '127.0.0.1';
  const cdn = typeof e.port === 'number' && e.port === options.cdnPort && e.port !== options.port;
  const flag = cdn ? '--cdn-port' : '--port';
  const port = typeof e.port === 'number' ? e.port : cdn ? options.cdnPort : options.port;
  switch (e.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (is another emulator running?). Pick another port (${flag} ${typeof port === 'number' && port < 65535 ? port + 1 : 4010}), or ${flag} 0 to let the system choose a free one.`;
    case 'EACCES':
      return `not allowed to listen on port ${port} of ${host} (ports below 1024 need privileges). Pick a port from 1024 up, or ${flag} 0.`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `--host ${host} is not an address of this machine. Use 127.0.0.1 (the default), ::1 or 0.0.0.0.`;
    default:
      return undefined;
  }
}

/**
 * Run the emulator until `io.signal` aborts; resolves with the exit code: 0, 2 when the port
 * is busy or not allowed or the host is not local (a usage problem, with what to do), 1 for
 * any other failure to listen. Prints the API URL, the CDN URL, the control API and how to
 * point the SDK at it.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * process.once('SIGINT', () => ac.abort());
 * process.exitCode = await runEmulatorCommand({ port: 4010 }, { stdout: process.stdout, stderr: process.stderr, signal: ac.signal });
 * ```
 */
export async function runEmulatorCommand(
  options: EmulatorCommandOptions,
  io: EmulatorCommandIo,
): Promise<number> {
  const { port, cdnPort, host, ...rest } = options;
  // The other options are the emulator's own, under the same names.
  const emulatorOptions: EmulatorOptions = {
    requestLogLimit: DEFAULT_REQUEST_LOG_LIMIT,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  };
  // Loaded here, not at the top: the other commands do not pay for the emulator (120 KB).
  const { createEmulator } = await import('../../testing/index.js');
  const emulator = createEmulator(emulatorOptions);
  let server: Awaited<ReturnType<typeof emulator.listen>>;
  try {
    const listen: { port?: number; cdnPort?: number; host?: string } = {};
    if (port !== undefined) listen.port = port;
    if (cdnPort !== undefined) listen.cdnPort = cdnPort;
    if (host !== undefined) listen.host = host;
    server = await emulator.listen(listen);
  } catch (error) {
    const problem = listenProblem(error, options);
    if (problem !== undefined) {
      io.stderr.write(`nemovideo emulator: ${problem}\n`);
      return 2;
    }
    io.stderr.write(
      `nemovideo emulator: cannot listen: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  io.stdout.write(
    `NemoVideo emulator listening on ${server.url}\n` +
      `CDN: ${server.cdnUrl}\n` +
      `Control API: ${server.url}/_emulator (${DOCS}#the-control-api)\n` +
      `Use it: export NEMO_API_URL=${server.url}\n` +
      'Press Ctrl-C to stop.\n',
  );
  io.onListening?.({ url: server.url, cdnUrl: server.cdnUrl });
  if (!io.signal.aborted) {
    await new Promise<void>((resolve) =>
      io.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }
  await emulator.close();
  io.stderr.write('nemovideo emulator: stopped\n');
  return 0;
}
