import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { NemoClient, type NemoClientOptions, VERSION } from '../index.js';
import type { DescribeContext, ExitCodeValue } from './errors.js';
import type { Output } from './output.js';

/** Builds the runtime of a command from its merged global options (commands receive one from program.ts). */
export type RuntimeFactory = (command: Command) => Runtime;

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

/** Everything a command needs: output, options, the abort signal and a lazily built client. */
export class Runtime {
  readonly out: Output;
  readonly globals: GlobalOptions;
  readonly env: Env;
  /** Aborted by Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  /** Set by a command that ends with a code other than 0 without throwing. */
  exitCode: ExitCodeValue | undefined;
  /** What the current command works on, for clearer error messages. */
  readonly context: DescribeContext = {};
  #client: NemoClient | undefined;
  readonly #cleanups: Array<() => Promise<void> | void> = [];

  constructor(out: Output, globals: GlobalOptions, env: Env, signal: AbortSignal) {
    this.out = out;
    this.globals = globals;
    this.env = env;
    this.signal = signal;
    this.context.explicitToken = globals.token !== undefined || nonEmpty(env.NEMO_TOKEN);
  }

  /** The client, built on first use from `--api-url`/`--token`, the env vars and the config dir. */
  client(): NemoClient {
    if (this.#client) return this.#client;
    const dir = configDir(this.env);
    const apiUrl = this.globals.apiUrl;
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
    this.#client = new NemoClient(options);
    this.context.apiUrl = this.#client.baseUrl;
    this.out.debug(`nemovideo ${VERSION}: API ${this.#client.baseUrl}, config ${dir}`);
    return this.#client;
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
