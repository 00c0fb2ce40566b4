/**
 * Helpers of the MCP tests: the emulator on loopback in the test process, and `nemovideo mcp`
 * as a real child process driven by the official MCP client over stdio.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/testing/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const TSX = fileURLToPath(import.meta.resolve('tsx'));
const SOURCE_BIN = join(ROOT, 'src', 'cli', 'bin.ts');
export const DIST_BIN = join(ROOT, 'dist', 'cli', 'bin.js');

/** The emulator served on loopback (API + CDN). */
export interface ServedEmulator {
  emulator: Emulator;
  url: string;
  close(): Promise<void>;
}

/** `createEmulator(options).listen({ port: 0 })`. */
export async function serveEmulator(options: EmulatorOptions = {}): Promise<ServedEmulator> {
  const emulator = createEmulator({ heartbeatMs: 0, renderDurationMs: 1500, ...options });
  const server = await emulator.listen({ port: 0 });
  return { emulator, url: server.url, close: () => server.close() };
}

/** A private folder: the server's working directory (its default allowed folder) and config. */
export function tempDir(prefix = 'nemovideo-mcp-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Options of {@link startMcp}. */
export interface StartOptions {
  apiUrl: string;
  /** Working directory of the server (and so its default allowed folder). */
  cwd: string;
  /** Extra arguments after `mcp` (e.g. `--root`). */
  args?: string[];
  /** Extra environment (e.g. NEMO_TOKEN). */
  env?: Record<string, string>;
  /** Run `node --import tsx src/cli/bin.ts` (default) or the built `dist/cli/bin.js`. */
  bin?: 'source' | 'dist';
}

/** A connected MCP client and its server process. */
export interface McpHarness {
  client: Client;
  /** What the server wrote on stderr so far. */
  stderr(): string;
  /** Resolves once the server's stderr matches `pattern` (rejects after `timeoutMs`). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  pid: number | null;
  close(): Promise<void>;
}

/** Spawns `nemovideo mcp` and connects the official MCP client to it over stdio. */
export async function startMcp(options: StartOptions): Promise<McpHarness> {
  const config = join(options.cwd, '.nemo-config');
  mkdirSync(config, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: options.cwd,
    NEMO_CONFIG_DIR: config,
    NEMO_API_URL: options.apiUrl,
    NEMO_CLIENT_ID: `mcp-test-${Math.random().toString(36).slice(2)}`,
    ...options.env,
  };
  const command = options.bin === 'dist' ? [DIST_BIN] : ['--import', TSX, SOURCE_BIN];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...command, 'mcp', ...(options.args ?? [])],
    cwd: options.cwd,
    env,
    stderr: 'pipe',
  });
  let stderr = '';
  const listeners = new Set<() => void>();
  (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  const waitForStderr = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<void>((resolveWait, reject) => {
      if (pattern.test(stderr)) {
        resolveWait();
        return;
      }
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`server stderr never matched ${pattern}:\n${stderr}`));
      }, timeoutMs);
      const check = () => {
        if (!pattern.test(stderr)) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolveWait();
      };
      listeners.add(check);
    });
  const client = new Client({ name: 'nemovideo-mcp-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`could not connect to nemovideo mcp: ${String(error)}\n${stderr}`);
  }
  return {
    client,
    stderr: () => stderr,
    waitForStderr,
    pid: transport.pid,
    close: () => client.close(),
  };
}

/** The text of a tool result's first content block. */
export function textOf(result: { content?: unknown }): string {
  const content = result.content as { type: string; text?: string }[] | undefined;
  return content?.map((c) => c.text ?? '').join('\n') ?? '';
}

/** POSTs to /run_sse in the emulator's request log. */
export function runSsePosts(emulator: Emulator): number {
  return emulator.requests.filter((r) => r.method === 'POST' && r.path === '/run_sse').length;
}

/** A promise resolved by the first call of the returned function. */
export function signalled<T = void>(): { promise: Promise<T>; fire(value: T): void } {
  let fire!: (value: T) => void;
  const promise = new Promise<T>((resolveIt) => {
    fire = resolveIt;
  });
  return { promise, fire };
}

/** Calls `probe` every 50 ms until it returns a value (rejects after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates a session through the tools and returns its id. */
export async function newSession(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'create_session', arguments: {} });
  return (result.structuredContent as { session_id: string }).session_id;
}
