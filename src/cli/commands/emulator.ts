/**
 * `nemovideo emulator`: run the NemoVideo emulator as a standalone HTTP server (API + CDN on
 * loopback) until the signal aborts (Ctrl-C / SIGTERM). Kept free of any CLI framework so the
 * full CLI can call it: `parseEmulatorArgs(argv)` then `runEmulatorCommand(options, io)`.
 *
 * @module
 */

import { parseArgs } from 'node:util';
import { createCoreEmulator } from '../../testing/emulator.js';
import type { EmulatorOptions, EventStyle, RenderShape } from '../../testing/types.js';

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
  -h, --help              show this help
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
  return options;
}

/**
 * Run the emulator until `io.signal` aborts; resolves with the exit code (0, or 1 when the
 * port cannot be bound). Prints the API URL, the CDN URL and how to point the SDK at it.
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
  const emulatorOptions: EmulatorOptions = {};
  if (options.renderShape) emulatorOptions.renderShape = options.renderShape;
  if (options.eventStyle) emulatorOptions.eventStyle = options.eventStyle;
  if (options.renderDurationMs !== undefined)
    emulatorOptions.renderDurationMs = options.renderDurationMs;
  if (options.resultSizeBytes !== undefined)
    emulatorOptions.resultSizeBytes = options.resultSizeBytes;
  if (options.heartbeatMs !== undefined) emulatorOptions.heartbeatMs = options.heartbeatMs;
  const emulator = createCoreEmulator(emulatorOptions);
  let server: Awaited<ReturnType<typeof emulator.listen>>;
  try {
    const listen: { port?: number; cdnPort?: number; host?: string } = {};
    if (options.port !== undefined) listen.port = options.port;
    if (options.cdnPort !== undefined) listen.cdnPort = options.cdnPort;
    if (options.host !== undefined) listen.host = options.host;
    server = await emulator.listen(listen);
  } catch (error) {
    io.stderr.write(
      `nemovideo emulator: cannot listen: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  io.stdout.write(
    `NemoVideo emulator listening on ${server.url}\n` +
      `CDN: ${server.cdnUrl}\n` +
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
