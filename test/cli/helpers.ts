/**
 * Helpers of the CLI tests: build `dist/` when stale, spawn the built binary with a
 * private config dir, and serve the emulator over loopback (optionally with a slow CDN).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/testing/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** SDK option and method names, which a CLI user cannot act on: no CLI message may contain one. */
export const SDK_WORDS =
  /\b(baseUrl|maxBytes|maxWait|maxPolls|pollInterval|clientIdFile|clientId\b|allowInsecureHttp|tokenStore|idleTimeout|hardTimeout|heartbeatTimeout|configDir|the token option|the timeout option|session\.\w+\(|job\.wait|toUpload|upload\(\))/;
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the package when `dist/cli/bin.js` is missing or older than a file in `src/`. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(BIN).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(
    newestMtime(join(ROOT, 'src')),
    statSync(join(ROOT, 'package.json')).mtimeMs,
  );
  if (built >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'tsup', 'dist', 'cli-default.js')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
}

/** A fresh private directory (config dir, HOME, output folder), removed by `cleanup()`. */
export function tempDir(prefix = 'nemovideo-cli-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** What a finished CLI run produced. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli} and {@link startCli}. */
export interface CliSpawnOptions {
  apiUrl?: string | undefined;
  /** The private HOME and NEMO_CONFIG_DIR of the run. */
  home: string;
  cwd?: string | undefined;
  env?: Record<string, string | undefined>;
}

function cliEnv(options: CliSpawnOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Never inherit the developer's NemoVideo settings, colors or terminal hints.
    if (key.startsWith('NEMO_') || key === 'NO_COLOR' || key === 'FORCE_COLOR') continue;
    env[key] = value;
  }
  env.HOME = options.home;
  env.NEMO_CONFIG_DIR = join(options.home, '.config', 'nemovideo');
  if (options.apiUrl !== undefined) env.NEMO_API_URL = options.apiUrl;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A running CLI process with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr (or stdout) contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliRun>;
}

/** Spawns `node dist/cli/bin.js …args` (stdio piped: not a TTY). */
export function startCli(args: readonly string[], options: CliSpawnOptions): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? options.home,
    env: cliEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const l of listeners) l();
  });
  const done = new Promise<CliRun>((resolveRun) => {
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitFor(text, timeoutMs = 15_000) {
      const seen = () =>
        typeof text === 'string'
          ? stderr.includes(text) || stdout.includes(text)
          : text.test(stderr) || text.test(stdout);
      return new Promise<void>((resolveWait, reject) => {
        if (seen()) {
          resolveWait();
          return;
        }
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${String(text)}; stderr so far:\n${stderr}`));
        }, timeoutMs);
        const check = () => {
          if (!seen()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolveWait();
        };
        listeners.add(check);
        void done.then(() => {
          if (listeners.has(check)) {
            clearTimeout(timer);
            listeners.delete(check);
            if (seen()) resolveWait();
            else reject(new Error(`the CLI exited before printing ${String(text)}:\n${stderr}`));
          }
        });
      });
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: CliSpawnOptions): Promise<CliRun> {
  return startCli(args, options).done;
}

/** An emulator served on loopback. */
export interface ServedEmulator {
  emulator: Emulator;
  url: string;
  cdnUrl: string;
  close(): Promise<void>;
}

/** `createEmulator(options).listen({ port: 0 })`. */
export async function serveEmulator(options: EmulatorOptions = {}): Promise<ServedEmulator> {
  const emulator = createEmulator(options);
  const server = await emulator.listen({ port: 0 });
  return { emulator, url: server.url, cdnUrl: server.cdnUrl, close: () => server.close() };
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else if (value !== undefined) headers.set(key, value);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(new URL(req.url ?? '/', origin), init);
}

async function sendResponse(
  res: ServerResponse,
  response: Response,
  throttle: { chunkBytes: number; delayMs: number } | undefined,
): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  let closed = false;
  res.on('close', () => {
    closed = true;
    void reader.cancel().catch(() => {});
  });
  try {
    while (!closed) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!throttle) {
        res.write(value);
        continue;
      }
      for (let at = 0; at < value.length && !closed; at += throttle.chunkBytes) {
        res.write(value.subarray(at, at + throttle.chunkBytes));
        await new Promise((r) => setTimeout(r, throttle.delayMs));
      }
    }
  } catch {
    // the client went away
  }
  res.end();
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolveServer) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolveServer(server));
  });
}

/**
 * The emulator behind two loopback servers of this test (API and CDN), the CDN sending
 * bodies slowly (`chunkBytes` every `delayMs`), so a download is in progress long enough
 * to be interrupted.
 */
export async function serveSlowCdnEmulator(
  options: EmulatorOptions,
  throttle: { chunkBytes: number; delayMs: number },
): Promise<ServedEmulator> {
  let emulator: Emulator | undefined;
  const api = await listen((req, res) => {
    const origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    void toRequest(req, origin)
      .then((request) => emulator!.handleApi(request))
      .then((response) => sendResponse(res, response, undefined));
  });
  const cdn = await listen((req, res) => {
    const origin = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    void toRequest(req, origin)
      .then((request) => emulator!.handleCdn(request))
      .then((response) => sendResponse(res, response, throttle));
  });
  const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  emulator = createEmulator({ ...options, baseUrl: url, cdnUrl });
  const close = (server: Server) =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return {
    emulator,
    url,
    cdnUrl,
    close: async () => {
      await Promise.all([close(api), close(cdn)]);
    },
  };
}

/** A loopback port with nothing listening (the service is down). */
export async function closedPort(): Promise<number> {
  const server = await listen(() => {});
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * What a test file's tests share: work to undo after each test (newest first), a served
 * emulator with a private HOME, and a bare private HOME.
 */
export function perTest(): {
  defer(...fns: Array<() => Promise<void> | void>): void;
  setup(options?: EmulatorOptions): Promise<{ served: ServedEmulator; home: string }>;
  home(): string;
} {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return {
    defer: (...fns) => {
      cleanups.push(...fns);
    },
    async setup(options = {}) {
      const served = await serveEmulator(options);
      const dir = tempDir();
      cleanups.push(dir.cleanup, served.close);
      return { served, home: dir.path };
    },
    home() {
      const dir = tempDir();
      cleanups.push(dir.cleanup);
      return dir.path;
    },
  };
}
