import { ClientIdSource } from './core/auth/client-id.js';
import type { AnonymousGrant, TokenOption, TokenSourceKind } from './core/auth/credentials.js';
import { ConfigDirTokenStore, MemoryTokenStore, type TokenStore } from './core/auth/token-store.js';
import { type BackendOverrides, type BackendProfile, resolveBackend } from './core/backend.js';
import { DEFAULT_MAX_RESPONSE_BYTES } from './core/body.js';
import type { ClientContext } from './core/context.js';
import { isNodeLike, readEnv } from './core/env.js';
import { headerValueProblem } from './core/headers.js';
import { LevelLogger, type Logger, type LogLevel, resolveLogLevel } from './core/logger.js';
import { MemoryRateBudget, type RateBudget } from './core/rate-budget.js';
import { DEFAULT_RETRY_TIMING, type RetryTiming } from './core/retry.js';
import { raceSignal } from './core/signal.js';
import { type Clock, systemClock } from './core/timers.js';
import { Transport } from './core/transport.js';
import { assertCredentialsAllowed } from './core/url.js';
import { VERSION } from './core/version.js';
import { ConfigError } from './errors/errors.js';
import { BatchResource } from './resources/batch/batch.js';
import { CreditsResource } from './resources/credits/credits.js';
import {
  type DownloadOptions,
  type DownloadResult,
  type DownloadTarget,
  download,
} from './resources/downloads/download.js';
import { RendersResource } from './resources/renders/renders.js';
import { SessionsResource } from './resources/sessions/sessions.js';
import { WorkflowsResource } from './resources/workflows/workflows.js';

/** Values of the three attribution headers (`X-Skill-Source`, `-Version`, `-Platform`). */
export interface Attribution {
  /** Default `nemovideo` (the package name). */
  source?: string;
  /** Default the package version. */
  version?: string;
  /** Default `unknown`. */
  platform?: string;
}

/** Options of {@link NemoClient}. Every one is optional. */
export interface NemoClientOptions {
  /** Bearer token, or a function returning one. Default `NEMO_TOKEN`, else an anonymous token. */
  token?: TokenOption | undefined;
  /** API origin. Default `NEMO_API_URL`, else `https://mega-api-prod.nemovideo.ai`. */
  baseUrl?: string | undefined;
  /** Stable client id for the anonymous token. Default `NEMO_CLIENT_ID`, else the client id file. */
  clientId?: string | undefined;
  /**
   * Client id file, or `false` to keep the client id, the anonymous token and
   * the job journal in memory only (nothing is written to disk). Default `<configDir>/client_id`
   * (an existing `~/.config/nemovideo/client_id` is still read).
   */
  clientIdFile?: string | false | undefined;
  /**
   * The config folder (Node): it holds the client id file, the token store
   * shared with the CLI and the job journal of `client.workflows` (`jobs/`).
   * Default `NEMO_CONFIG_DIR`, else `~/.config/nemovideo`.
   */
  configDir?: string | undefined;
  /**
   * Where anonymous tokens are kept between runs. Default on Node, unless
   * `clientIdFile` is `false`: `<configDir>/token.json` (mode 0600, keyed by API
   * origin and client id, atomic writes; the same file the CLI uses). Elsewhere,
   * or with `clientIdFile: false`: in memory.
   */
  tokenStore?: TokenStore | undefined;
  /**
   * The 429 backoff shared by every request of this client: a 429 anywhere
   * pauses them all until its `Retry-After` has passed. Default: one in memory
   * per client. Pass one instance to several clients to pause them together, or
   * a Redis one (`nemovideo/redis`) to share it across processes and machines.
   */
  rateBudget?: RateBudget | undefined;
  /** Attribution header values. */
  attribution?: Attribution | undefined;
  /** Retries of a failed request where replaying is harmless. Default 2. */
  maxRetries?: number | undefined;
  /** Per-attempt request timeout in ms. Default 60 000. */
  timeout?: number | undefined;
  /**
   * Largest JSON response body the SDK reads, in bytes, counted after
   * decompression (a compressed "bomb" fails fast instead of filling memory).
   * Default 8 MiB; an error body is read up to 64 KiB.
   */
  maxResponseBytes?: number | undefined;
  /**
   * A `fetch` implementation. Default the global one. When given, every request
   * goes through it, including downloads (which otherwise use `node:http` on
   * Node; see docs/rendering-and-downloads.md).
   */
  fetch?: typeof fetch | undefined;
  /** A console-compatible logger. Default `console`. */
  logger?: Logger | undefined;
  /** `off|error|warn|info|debug`. Default `NEMO_LOG`, else `warn`. */
  logLevel?: LogLevel | undefined;
  /** Allow a bearer token over plain http to a host that is not loopback. Default false. */
  allowInsecureHttp?: boolean | undefined;
  /** Override assumptions about the backend (paths, limits, cadences). */
  backend?: BackendOverrides | undefined;
  /** Time source; inject a fake one in tests. */
  clock?: Clock | undefined;
  /** Backoff timing of retries. */
  retryTiming?: Partial<RetryTiming> | undefined;
}

function nonNegativeInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a whole number ≥ 0 (got ${value}).`);
  }
  return value;
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${name} must be a whole number > 0 (got ${value}).`);
  }
  return value;
}

function parseBaseUrl(raw: string, from: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The text may hold user info: show it only when it has none.
    const shown = /@/.test(raw) ? '(not shown: it contains "@")' : JSON.stringify(raw);
    throw new ConfigError(
      `${from} is not a valid URL: ${shown}. Use e.g. https://mega-api-prod.nemovideo.ai.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${from} must be an http(s) URL (got ${url.protocol}).`);
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the URL: its user info is a secret.
    throw new ConfigError(
      `${from} must not contain a user name or password (${url.protocol}//…@${url.host}): the SDK authenticates with a bearer token. Remove the user info and pass the token option or set NEMO_TOKEN.`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * The NemoVideo client. One instance holds one connection pool, one token and
 * one client id; share it across your app.
 *
 * @example
 * ```ts
 * import { NemoClient } from 'nemovideo';
 *
 * const client = new NemoClient(); // NEMO_TOKEN, else a free anonymous token
 * const session = await client.sessions.create();
 * console.log(await client.credits.balance());
 * ```
 */
export class NemoClient {
  /** Editing sessions. */
  readonly sessions: SessionsResource;
  /** Credit balance. */
  readonly credits: CreditsResource;
  /** Render jobs by id, from any process (`client.renders.retrieve()`). */
  readonly renders: RendersResource;
  /** Durable workflows: `client.workflows.export()` records each step and resumes after a crash. */
  readonly workflows: WorkflowsResource;
  /** Many exports at once: `client.batch.export(jobs)` runs the durable workflow over a list, a few at a time. */
  readonly batch: BatchResource;
  /** The resolved API origin. */
  readonly baseUrl: string;
  /** The backend profile in force (documented defaults plus overrides). */
  readonly backend: BackendProfile;
  /** @internal */
  readonly #ctx: ClientContext;

  constructor(options: NemoClientOptions = {}) {
    const backend = resolveBackend(options.backend);
    const envUrl = readEnv('NEMO_API_URL');
    this.baseUrl = parseBaseUrl(
      options.baseUrl ?? envUrl ?? backend.baseUrl,
      options.baseUrl !== undefined
        ? 'baseUrl'
        : envUrl !== undefined
          ? 'NEMO_API_URL'
          : 'the default base URL',
    );
    this.backend = backend;
    const allowInsecureHttp = options.allowInsecureHttp ?? false;
    // Fail at construction, not at the first request, when credentials could leak.
    assertCredentialsAllowed(new URL(this.baseUrl), allowInsecureHttp);

    const clock = options.clock ?? systemClock;
    const logger = new LevelLogger(options.logger ?? console, resolveLogLevel(options.logLevel));
    const attribution = options.attribution ?? {};
    const attributionHeaders = {
      [backend.attributionHeaders.source]: attribution.source ?? 'nemovideo',
      [backend.attributionHeaders.version]: attribution.version ?? VERSION,
      [backend.attributionHeaders.platform]: attribution.platform ?? 'unknown',
    };
    for (const [name, value] of Object.entries(attributionHeaders)) {
      const problem = typeof value === 'string' ? headerValueProblem(value) : 'no text';
      if (problem !== undefined) {
        throw new ConfigError(
          `The attribution value for ${name} contains ${problem}, which cannot be sent in a header. Pass plain text in the attribution option.`,
        );
      }
    }
    const clientIds = new ClientIdSource({
      clientId: options.clientId,
      clientIdFile: options.clientIdFile,
      configDir: options.configDir,
      logger,
    });
    const fetchImpl =
      options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
    const transport = new Transport({
      baseUrl: this.baseUrl,
      backend,
      clock,
      logger,
      maxRetries: nonNegativeInteger(options.maxRetries, 'maxRetries', 2),
      timeoutMs: nonNegativeInteger(options.timeout, 'timeout', 60_000),
      retryTiming: { ...DEFAULT_RETRY_TIMING, ...options.retryTiming },
      random: Math.random,
      fetch: fetchImpl,
      customFetch: options.fetch !== undefined,
      maxResponseBytes: positiveInteger(
        options.maxResponseBytes,
        'maxResponseBytes',
        DEFAULT_MAX_RESPONSE_BYTES,
      ),
      attributionHeaders,
      allowInsecureHttp,
      token: options.token,
      clientIds,
      rateBudget: options.rateBudget ?? new MemoryRateBudget(clock),
      tokenStore:
        options.tokenStore ??
        (options.clientIdFile !== false && isNodeLike()
          ? new ConfigDirTokenStore(options.configDir)
          : new MemoryTokenStore()),
    });
    this.#ctx = {
      transport,
      credentials: transport.credentials,
      backend,
      clock,
      logger,
      allowInsecureHttp,
      attributionHeaders,
    };
    this.sessions = new SessionsResource(this.#ctx);
    this.credits = new CreditsResource(this.#ctx);
    this.renders = new RendersResource(this.#ctx);
    this.workflows = new WorkflowsResource(this.#ctx, {
      configDir: options.configDir,
      persist: options.clientIdFile !== false,
    });
    this.batch = new BatchResource(this.workflows);
  }

  /**
   * Where the token comes from: `option`, `function`, `env` (`NEMO_TOKEN`) or `anonymous`.
   *
   * @example
   * ```ts
   * if (client.tokenSource === 'anonymous') console.log('using a free starter token');
   * ```
   */
  get tokenSource(): TokenSourceKind {
    return this.#ctx.credentials.kind;
  }

  /**
   * The anonymous grant (credits, user id, expiry) once one was obtained; the token itself is not included.
   *
   * @example
   * ```ts
   * await client.credits.balance();
   * console.log(client.anonymousGrant?.expiresAt);
   * ```
   */
  get anonymousGrant(): AnonymousGrant | undefined {
    return this.#ctx.credentials.grant;
  }

  /**
   * The bearer token in use, obtaining an anonymous one if needed. Keep it secret.
   *
   * @example
   * ```ts
   * const token = await client.getToken();
   * ```
   */
  getToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.#ctx.credentials.token(options.signal);
  }

  /**
   * The client id sent with the anonymous-token request.
   *
   * @example
   * ```ts
   * console.log(await client.getClientId());
   * ```
   */
  getClientId(options: { signal?: AbortSignal } = {}): Promise<string> {
    return raceSignal(this.#ctx.credentials.clientId(), options.signal);
  }

  /**
   * Download a file (a render result) to a path (Node) or a `WritableStream`,
   * streaming with bounded memory. A path is written as a temporary file in
   * the same folder and renamed when complete: no partial file is ever left,
   * under any name, on failure or abort. `Content-Length` is checked. The
   * bearer token and attribution headers are sent only to the API base URL,
   * never to another host (a CDN) and never across a redirect to one. With
   * `renderId`, a failing URL falls back to the API's download endpoint. On
   * Node a CDN file is fetched with `node:http(s)` (faster than `fetch`) unless
   * a `fetch` option, a proxy/mock dispatcher or an env proxy is configured.
   *
   * @throws {DownloadError} the server failed or the body was cut or too short.
   * @throws {AbortError} `signal` aborted (nothing is left on disk).
   *
   * @example
   * ```ts
   * const { url, renderId } = await (await session.render()).wait();
   * const { path, bytes } = await client.download(url, './out.mp4', {
   *   renderId,
   *   onProgress: ({ percent }) => console.log(`${percent ?? '?'}%`),
   * });
   * ```
   */
  download(
    url: string,
    to: DownloadTarget,
    options: DownloadOptions = {},
  ): Promise<DownloadResult> {
    return download(this.#ctx, url, to, options);
  }

  /** A description without secrets. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.baseUrl, tokenSource: this.tokenSource };
  }
}
