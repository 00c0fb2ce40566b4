import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NemoClient, NemoClientOptions } from '../index.js';
import { type DescribeContext, type ExitCodeValue, usageError } from './errors.js';
import type { Output, TextSink } from './output.js';

/** Options every command accepts (see docs/cli.md). */
export interface GlobalOptions {
  /** `--api-url`: API origin (default `NEMO_API_URL`, else production). */
  apiUrl?: string | undefined;
  /** `--token`: bearer token (default `NEMO_TOKEN`, else an anonymous token cached on disk). */
  token?: string | undefined;
  /** `--json`: machine output. */
  json?: boolean | undefined;
  /** `--quiet`: result and errors only. */
  quiet?: boolean | undefined;
  /** `--verbose`: debug log and stack traces. */
  verbose?: boolean | undefined;
  /** `--no-color` sets this to false. */
  color?: boolean | undefined;
}

/** The process environment the CLI reads. */
export type Env = Record<string, string | undefined>;

/**
 * The directory where the CLI keeps its client id and cached anonymous token:
 * `NEMO_CONFIG_DIR`, else `~/.config/nemovideo`.
 *
 * @example
 * ```ts
 * configDir({ NEMO_CONFIG_DIR: '/tmp/nemo' }); // "/tmp/nemo"
 * ```
 */
export function configDir(env: Env): string {
  const fromEnv = env.NEMO_CONFIG_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return join(homedir(), '.config', 'nemovideo');
}

/** True for `localhost`, `*.localhost`, `127.0.0.0/8` and `::1`: where plain http is allowed. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Checks the API origin the user gave (`--api-url`, else `NEMO_API_URL`) and says what is
 * wrong in terms of the flag or variable it came from. Undefined when neither is set.
 */
export function checkApiUrl(flag: string | undefined, env: Env): string | undefined {
  const fromEnv = env.NEMO_API_URL;
  const [source, raw] =
    flag !== undefined
      ? ['--api-url', flag]
      : fromEnv !== undefined && fromEnv !== ''
        ? ['NEMO_API_URL', fromEnv]
        : [undefined, undefined];
  if (source === undefined || raw === undefined) return undefined;
  const example =
    'e.g. https://mega-api-prod.nemovideo.ai, or http://127.0.0.1:4010 for a local emulator';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(
      `${source} ${JSON.stringify(raw)} is not a URL. Give the API origin, ${example}.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(
      `${source} ${JSON.stringify(raw)} is not an http(s) URL (it is ${url.protocol}). Give the API origin, ${example}.`,
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw usageError(
      `${source} ${JSON.stringify(raw)}: refusing to send the token over plain http to ${url.host}. Use https:// (plain http is accepted only for localhost, e.g. the emulator).`,
    );
  }
  return raw;
}

/** Where a command's raw output goes (the emulator and the MCP server write to it directly). */
export interface RuntimeIo {
  stdout: TextSink;
  stderr: TextSink;
}

/** Everything a command needs: output, options, the abort signal and a lazily built client. */
export class Runtime {
  readonly out: Output;
  readonly globals: GlobalOptions;
  readonly env: Env;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  /** The process's streams, for commands that print their own output. */
  readonly io: RuntimeIo;
  /** Set by a command that ends with a code other than 0 without throwing. */
  exitCode: ExitCodeValue | undefined;
  /** What the current command works on, for clearer error messages. */
  readonly context: DescribeContext;
  #client: NemoClient | undefined;
  readonly #cleanups: Array<() => Promise<void> | void> = [];

  constructor(out: Output, globals: GlobalOptions, env: Env, signal: AbortSignal, io: RuntimeIo) {
    this.out = out;
    this.globals = globals;
    this.env = env;
    this.signal = signal;
    this.io = io;
    this.context = {
      explicitToken: globals.token !== undefined || nonEmpty(env.NEMO_TOKEN),
      configDir: configDir(env),
    };
  }

  /**
   * The client, built on first use from `--api-url`/`--token`, the env vars and the config
   * dir. The SDK is loaded here, so commands that never call it do not pay for it.
   */
  async client(): Promise<NemoClient> {
    if (this.#client) return this.#client;
    const apiUrl = checkApiUrl(this.globals.apiUrl, this.env);
    if (this.globals.token !== undefined && this.globals.token.trim() === '') {
      throw usageError(
        '--token is empty. Pass a token, or leave the flag out to use NEMO_TOKEN or a free anonymous token.',
      );
    }
    const { NemoClient, VERSION } = await import('../index.js');
    const dir = configDir(this.env);
    // The SDK's default store: <configDir>/client_id and <configDir>/token.json, shared with
    // every SDK client that uses the same config folder.
    const options: NemoClientOptions = {
      baseUrl: apiUrl,
      token: this.globals.token,
      configDir: dir,
      logger: this.out.logger(),
      logLevel: this.globals.verbose ? 'debug' : this.globals.quiet ? 'error' : undefined,
      attribution: { source: 'nemovideo', version: VERSION, platform: 'cli' },
    };
    // The SDK keys stored tokens by API base URL and client id, so an emulator's
    // token never goes to production.
    const client = new NemoClient(options);
    this.#client = client;
    this.context.apiUrl = client.baseUrl;
    this.out.debug(`nemovideo ${VERSION}: API ${client.baseUrl}, config ${dir}`);
    return client;
  }

  /** The context for an error message, with what the client knows at the time of the failure. */
  describeContext(): DescribeContext {
    const client = this.#client;
    if (client === undefined) return this.context;
    return {
      ...this.context,
      awaitingToken: client.tokenSource === 'anonymous' && client.anonymousGrant === undefined,
    };
  }

  /** Register work to run if the command is interrupted (e.g. cancel a render). */
  onAbort(fn: () => Promise<void> | void): () => void {
    this.#cleanups.push(fn);
    return () => {
      const i = this.#cleanups.indexOf(fn);
      if (i >= 0) this.#cleanups.splice(i, 1);
    };
  }

  /** Run the registered abort work (each at most once), newest first. */
  async runAbortCleanups(): Promise<void> {
    while (this.#cleanups.length > 0) {
      const fn = this.#cleanups.pop();
      try {
        await fn?.();
      } catch (error) {
        this.out.debug(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
