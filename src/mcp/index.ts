/**
 * `nemovideo mcp`: the NemoVideo workflow as MCP tools for AI agents, served on stdio with the
 * official MCP TypeScript server. Loaded only when the command runs (the CLI imports this
 * module dynamically), so the SDK and the rest of the CLI never load the MCP package.
 * See docs/mcp.md.
 *
 * @module
 */

import type { Readable, Writable } from 'node:stream';
import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import { AllowedFolders, RootsError } from './files.js';
import { registerResources } from './resources.js';
import { Scrubber } from './results.js';
import { createClient, VERSION } from './sdk.js';
import { registerTools } from './tools.js';
import { Workspace } from './workspace.js';

export { RootsError };

/** How `nemovideo mcp` was started. */
export interface McpServerOptions {
  /** `--root` folders (default: the working directory). */
  roots: readonly string[];
  /** `--api-url`. */
  apiUrl?: string | undefined;
  /** `--token`. */
  token?: string | undefined;
  /** `--verbose`: the SDK's debug log on stderr. */
  verbose?: boolean | undefined;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C / SIGTERM: the server stops. */
  signal: AbortSignal;
  cwd?: string | undefined;
  stdin?: Readable | undefined;
  stdout?: Writable | undefined;
  /** Log lines (never stdout: it carries the protocol). */
  stderr?: { write(text: string): unknown } | undefined;
}

/** How long a stopping server waits for calls in flight to clean up (partial files…). */
const SHUTDOWN_GRACE_MS = 10_000;

const INSTRUCTIONS = `NemoVideo edits videos through a chat agent. Workflow: create_session → upload_media (local files or links) → send_message (what to do, in plain words) → get_timeline → export_video (saves an MP4 locally). Rules: a message is sent once and may cost credits, so never repeat send_message to retry: after a pending, failed or cancelled send_message call get_timeline first. When a reply mentions buttons ("click Export"), call the tool named in next_tools. Export is free.`;

/**
 * The stdio transport, with a promise that settles when the connection closes (stdin ended
 * or the server closed it).
 */
class ObservedTransport implements Transport {
  readonly closed: Promise<void>;
  readonly #inner: StdioServerTransport;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?:
    | (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void)
    | undefined;

  constructor(inner: StdioServerTransport) {
    this.#inner = inner;
    this.closed = new Promise((resolve) => {
      inner.onclose = () => {
        resolve();
        this.onclose?.();
      };
    });
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message) => this.onmessage?.(message);
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * Runs the MCP server on stdio until the client closes stdin or `signal` aborts; resolves with
 * the exit code once calls in flight have cleaned up.
 *
 * @throws {RootsError} a `--root` folder does not exist.
 */
export async function runMcpServer(options: McpServerOptions): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const folders = await AllowedFolders.resolve(options.roots, options.cwd ?? process.cwd());
  const scrubber = new Scrubber();
  scrubber.add(options.token ?? options.env.NEMO_TOKEN);
  const log = (level: string) => (message: string) => {
    stderr.write(`${scrubber.text(`nemovideo mcp ${level}: ${message}`)}\n`);
  };
  const client = createClient({
    apiUrl: options.apiUrl,
    token: options.token,
    env: options.env,
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') },
    logLevel: options.verbose ? 'debug' : undefined,
  });
  const ws = new Workspace(client, folders, scrubber, log('info'));
  const transport = new ObservedTransport(new StdioServerTransport(options.stdin, options.stdout));
  const handle = serveStdio(
    () => {
      const server = new McpServer(
        { name: 'nemovideo', title: 'NemoVideo', version: VERSION },
        { instructions: INSTRUCTIONS },
      );
      registerTools(server, ws);
      registerResources(server, ws);
      return server;
    },
    { transport, onerror: (error) => log('error')(error.message) },
  );
  log('info')(
    `${VERSION} on stdio; API ${new URL(client.baseUrl).origin}; files in ${folders.list.join(', ')}`,
  );
  if ((options.stdin ?? process.stdin) === process.stdin && process.stdin.isTTY) {
    stderr.write(
      'This is an MCP server: an MCP client (Claude Desktop, Claude Code, Cursor…) starts it and talks to it on stdin/stdout. See docs/mcp.md for the configuration. Ctrl-C to stop.\n',
    );
  }
  const stopped = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([transport.closed, stopped]);
  await ws.close(SHUTDOWN_GRACE_MS);
  await handle.close();
  return 0;
}
