import ky, { type KyInstance } from 'ky';
import {
  ApiError,
  ConnectionError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
} from '../errors/errors.js';
import {
  type ApiFailure,
  ErrorCode,
  errorFromFailure,
  isMissingClientId,
} from '../errors/from-response.js';
import { registerSecret } from '../errors/redact.js';
import type { ClientIdSource } from './auth/client-id.js';
import { Credentials, type TokenOption } from './auth/credentials.js';
import type { TokenStore } from './auth/token-store.js';
import type { BackendProfile } from './backend.js';
import { ERROR_BODY_BYTES, readBounded, webBody } from './body.js';
import { parseJsonText, readEnvelope } from './envelope.js';
import type { LevelLogger } from './logger.js';
import { canUseNodeHttp } from './node-http-gate.js';
import type { RateBudget } from './rate-budget.js';
import {
  decideRetry,
  type Outcome,
  parseRetryAfter,
  type ReplayPolicy,
  type RetryTiming,
} from './retry.js';
import { decodeWith, type Schema } from './schema.js';
import { raceSignal, throwIfAborted } from './signal.js';
import { abortErrorFrom, type Clock, deadline, sleep } from './timers.js';
import {
  type BodyTransfer,
  type FetchedResponse,
  fetchTransfer,
  type ReusedChunks,
  toWebResponse,
} from './transfer.js';
import { assertCredentialsAllowed, joinUrl } from './url.js';

export type { ReplayPolicy } from './retry.js';

/** Waits for one request while the rate budget stays paused (each wait re-reads the pause). */
const MAX_PAUSE_WAITS = 4;

/** Per-call options every SDK method accepts. */
export interface RequestOptions {
  /** Abort the call. The SDK rejects with `AbortError` and leaves no timer behind. */
  signal?: AbortSignal | undefined;
  /** Per-attempt time limit in ms (until the response is read), overriding the client's `timeout`. */
  timeout?: number | undefined;
  /** Override the client's `maxRetries` for this call. */
  maxRetries?: number | undefined;
}

export interface TransportConfig {
  baseUrl: string;
  backend: BackendProfile;
  clock: Clock;
  logger: LevelLogger;
  maxRetries: number;
  timeoutMs: number;
  retryTiming: RetryTiming;
  random: () => number;
  /** The `fetch` every request goes through (the global one unless the user gave theirs). */
  fetch: typeof fetch;
  /** True when the user passed their own `fetch`: every request must then go through it. */
  customFetch: boolean;
  attributionHeaders: Record<string, string>;
  allowInsecureHttp: boolean;
  /** Largest JSON response body read (after decompression). */
  maxResponseBytes: number;
  /** Where the bearer token comes from (see {@link Credentials}). */
  token: TokenOption | undefined;
  clientIds: ClientIdSource;
  tokenStore: TokenStore;
  /** The 429 backoff every API request consults before it is sent (see {@link RateBudget}). */
  rateBudget: RateBudget;
}

/** One request as the layers describe it. */
export interface RequestSpec<T> extends RequestOptions {
  method: 'GET' | 'POST';
  /** Absolute API path (`/api/...`). */
  path: string;
  /** JSON body (serialised once; replayable). */
  json?: unknown;
  /** Body factory, called once per attempt so a replay reads the source again. */
  body?: (() => BodyInit | Promise<BodyInit>) | undefined;
  /**
   * The same body as chunks from reused buffers, used instead of `body` where
   * `node:http` may carry the request (Node, nothing configured for `fetch`):
   * an upload then allocates nothing per chunk. Called once per attempt.
   */
  reusedBody?: (() => ReusedChunks | Promise<ReusedChunks>) | undefined;
  headers?: Record<string, string> | undefined;
  /** `none` for the anonymous-token request. Default `bearer`. */
  auth?: 'bearer' | 'none';
  /** Send `X-Client-Id` (the anonymous-token request). */
  sendClientId?: boolean;
  replay: ReplayPolicy;
  /** Decodes the envelope's `data`. */
  schema?: Schema<T>;
  /** Names the response in validation messages: "the credits response". */
  what: string;
  /** Called with the successful response (e.g. to read `Retry-After` on a render poll). */
  onResponse?: ((response: Response) => void) | undefined;
  /**
   * `manual`: a GET whose 3xx is handed back as is (stream mode), so the caller
   * decides whether credentials may follow it (downloads).
   */
  redirect?: 'manual' | undefined;
}

/** A GET to a host other than the API (a CDN): no credentials, no attribution. */
export interface ForeignGet {
  signal: AbortSignal;
  /** Time allowed until the response headers arrive. */
  timeoutMs: number;
  /** `manual` hands a 3xx back (the caller follows it by hand); `follow` lets the runtime. */
  redirect: 'manual' | 'follow';
  headers: Record<string, string>;
}

interface Attempt {
  response: Response;
  /** The body text; `undefined` when a stream was handed back unread. */
  text: string | undefined;
  /** The body parsed as JSON, once; `undefined` when empty or not JSON. */
  body: unknown;
}

const RETRYABLE_STATUS = new Set([408, 500, 502, 503, 504]);

/** The ky option that carries an attempt's signal to our `fetch` (see the constructor). */
const ATTEMPT_SIGNAL = 'nemoAttemptSignal';

function isJsonContentType(response: Response): boolean {
  return /\bjson\b/i.test(response.headers.get('content-type') ?? '');
}

function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
}

/**
 * The HTTP layer, one for every request kind: JSON calls through ky, streamed
 * request bodies (uploads) and SSE through `fetch`, and GETs of other hosts
 * (CDN downloads) through a {@link BodyTransfer} (`node:http` on Node where it
 * is faster, `fetch` elsewhere). One retry decision for all of them
 * ({@link decideRetry}), one timer helper for their deadlines, one bounded
 * reader for every body it reads.
 *
 * What ky does for us: the API base URL (`prefixUrl`), JSON request bodies
 * (serialisation and content type), header merging with the attribution
 * defaults, and the `fetch` it was given. Its retry, timeout and error throwing
 * are off: retries depend on the decoded envelope (a 1001 arrives inside an
 * HTTP 200 body), on the shared token refresh and on the injectable clock.
 */
export class Transport {
  readonly config: TransportConfig;
  /** The bearer token's source. Built here, in one phase: it requests anonymous tokens through this transport. */
  readonly credentials: Credentials;
  readonly #ky: KyInstance;
  readonly #fetch: BodyTransfer;

  constructor(config: TransportConfig) {
    this.config = config;
    assertCredentialsAllowed(new URL(config.baseUrl), config.allowInsecureHttp);
    this.credentials = new Credentials({
      token: config.token,
      baseUrl: config.baseUrl,
      clientIds: config.clientIds,
      store: config.tokenStore,
      clock: config.clock,
      logger: config.logger,
      backend: config.backend,
      requestAnonymousToken: () =>
        this.json<unknown>({
          method: 'POST',
          path: config.backend.paths.anonymousToken,
          auth: 'none',
          sendClientId: true,
          replay: 'safe',
          what: 'the anonymous-token response',
        }),
    });
    this.#ky = ky.create({
      prefixUrl: config.baseUrl,
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: config.attributionHeaders,
      // The attempt's signal reaches fetch as an option ky passes through untouched: given as
      // ky's `signal`, ky would merge it with its own with AbortSignal.any on every call.
      fetch: (input, init) => {
        const signal = (init as { [ATTEMPT_SIGNAL]?: AbortSignal } | undefined)?.[ATTEMPT_SIGNAL];
        return config.fetch(input, signal ? { signal } : undefined);
      },
    });
    this.#fetch = fetchTransfer(config.fetch);
  }

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  /** Full URL of an API path. */
  url(path: string): URL {
    return joinUrl(this.config.baseUrl, path);
  }

  /** Send a request and decode the envelope's `data` with `spec.schema`. */
  async json<T>(spec: RequestSpec<T>): Promise<T> {
    const { response, text, body } = await this.#execute(spec, 'json');
    if (body === undefined && (text ?? '').trim() !== '') {
      throw new ResponseValidationError(
        `Expected JSON in ${spec.what} but got ${response.headers.get('content-type') ?? 'an untyped body'} starting "${(text ?? '').slice(0, 60)}". Check that baseUrl points at the NemoVideo API.`,
        { body: (text ?? '').slice(0, 500) },
      );
    }
    const outcome = readEnvelope(body);
    // A failed envelope inside a 2xx was classified in #execute; here it is success.
    const data = outcome.ok ? outcome.data : undefined;
    if (!spec.schema) return data as T;
    return decodeWith(spec.schema, data, spec.what);
  }

  /**
   * Send a request whose successful body is a stream (SSE, downloads). Errors
   * (non-2xx, or a JSON error envelope instead of the stream) are decoded and
   * retried exactly as for JSON requests. The per-attempt timeout stops at the
   * response headers; the body is the caller's to watch.
   */
  async stream(spec: RequestSpec<never>): Promise<Response> {
    const { response, text } = await this.#execute(spec, 'stream');
    if (text === undefined) return response;
    // A 2xx JSON success where a stream was expected: hand the (bounded) body back.
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  /**
   * GET a URL on another host (a CDN): no bearer, no attribution headers, the
   * time limit covering the response headers. On Node it goes through
   * `node:http` when that bypasses nothing the user configured for `fetch`
   * (cheaper per byte for large files); elsewhere through `fetch`.
   */
  async foreignGet(url: URL, options: ForeignGet): Promise<FetchedResponse> {
    const { signal, timeoutMs } = options;
    const headersDeadline = deadline(this.config.clock, timeoutMs);
    const combined = linkSignals(signal, headersDeadline.signal);
    const transfer = canUseNodeHttp(this.config.customFetch)
      ? await nodeHttpTransfer()
      : this.#fetch;
    try {
      return await transfer.send({
        url,
        method: 'GET',
        headers: options.headers,
        signal: combined.signal,
        redirect: options.redirect,
      });
    } catch (error) {
      if (signal.aborted) throw abortErrorFrom(signal);
      if (headersDeadline.fired) {
        throw new TimeoutError(
          'download',
          timeoutMs,
          `${url.host} sent no response within ${timeoutMs} ms.`,
          { cause: error },
        );
      }
      if (error instanceof ApiError || error instanceof ConnectionError) throw error;
      throw new ConnectionError(`Could not reach ${url.host} (${describeError(error)}).`, {
        cause: error,
      });
    } finally {
      headersDeadline.cancel();
      combined.unlink();
    }
  }

  async #execute<T>(spec: RequestSpec<T>, mode: 'json' | 'stream'): Promise<Attempt> {
    const maxRetries = spec.maxRetries ?? this.config.maxRetries;
    const policy = {
      ...this.config.retryTiming,
      replay: spec.replay,
      maxRetries,
      rateLimitDefaultWaitMs: this.config.backend.rateLimitDefaultWaitMs,
    };
    const endpoint = `${spec.method} ${spec.path}`;
    const previous: Outcome[] = [];
    const credentials = this.credentials;

    for (;;) {
      throwIfAborted(spec.signal);
      const paused = this.#awaitRateBudget(endpoint, policy.maxRetryAfterMs, spec.signal);
      if (paused) await paused;
      const token = spec.auth === 'none' ? undefined : await credentials.token(spec.signal);
      const clientId = spec.sendClientId
        ? await raceSignal(credentials.clientId(), spec.signal)
        : undefined;
      if (token !== undefined) registerSecret(token);

      const started = this.config.clock.now();
      let outcome: Outcome;
      let error: Error;
      try {
        const attempt = await this.#send(spec, mode, token, clientId);
        const failure = this.#failureOf(attempt, endpoint, spec);
        this.#log(endpoint, attempt.response.status, started, previous.length);
        if (!failure) {
          spec.onResponse?.(attempt.response);
          return attempt;
        }
        error = errorFromFailure(failure, this.config.backend);
        outcome = this.#classify(failure, spec, token);
      } catch (thrown) {
        this.#log(endpoint, 'failed', started, previous.length, thrown);
        if (thrown instanceof ConnectionError) outcome = { kind: 'connection' };
        else if (thrown instanceof TimeoutError) outcome = { kind: 'timeout' };
        else throw thrown;
        error = thrown;
      }

      const decision = decideRetry({ previous, jitter: this.config.random() }, outcome, policy);
      if ('fail' in decision) throw error;
      if (decision.renewToken && token !== undefined) {
        if (!(await credentials.onTokenRejected(token, spec.signal))) throw error;
      }
      if (decision.shared) {
        // Every request of the client (and of whoever shares the budget) waits too.
        this.config.logger.info(
          `${endpoint} rate limited (429); every request waits ${decision.retryAfterMs} ms, then this one is retried once`,
        );
        await this.#budgetCall('pause', () => this.config.rateBudget.pause(decision.retryAfterMs));
      }
      if (decision.retryAfterMs > 0) {
        await sleep(this.config.clock, decision.retryAfterMs, spec.signal);
      }
      previous.push(outcome);
    }
  }

  /**
   * Wait while the rate budget is paused (a 429 here or in a process sharing the
   * budget). A pause longer than `maxRetryAfterMs` is not waited for: the request
   * fails at once, unsent, as it would on its own 429 with that hint. Returns
   * nothing (no await) in the common case: a synchronous budget with no pause.
   */
  #awaitRateBudget(
    endpoint: string,
    maxWaitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> | undefined {
    const read = this.#budgetCall('read', () => this.config.rateBudget.remaining());
    if (read === undefined || (typeof read === 'number' && !(read > 0))) return undefined;
    return this.#waitOutPause(endpoint, maxWaitMs, signal, read);
  }

  async #waitOutPause(
    endpoint: string,
    maxWaitMs: number,
    signal: AbortSignal | undefined,
    first: number | Promise<number | undefined>,
  ): Promise<void> {
    let left = await first;
    // Re-read after each wait (another 429 may have made the pause longer), a bounded number of
    // times: a clock whose sleep returns before its `now()` moves on would otherwise spin here.
    for (let waits = 0; left !== undefined && left > 0 && waits < MAX_PAUSE_WAITS; waits++) {
      if (left > maxWaitMs) {
        throw new RateLimitError(
          `${endpoint} was not sent: the service rate-limited this client (HTTP 429) and asked every request to wait ${Math.ceil(left / 1000)} s, longer than retryTiming.maxRetryAfterMs (${maxWaitMs} ms). Try again later, or raise retryTiming.maxRetryAfterMs.`,
          { httpStatus: 429, retryAfterMs: left },
        );
      }
      if (this.config.logger.enabled('debug')) {
        this.config.logger.debug(`${endpoint} waits ${left} ms (rate limit pause)`);
      }
      await sleep(this.config.clock, left, signal);
      // Another 429 meanwhile may have made the pause longer.
      left = await this.#budgetCall('read', () => this.config.rateBudget.remaining());
    }
  }

  /**
   * A rate budget is advice: when it fails (Redis down…), warn and send anyway.
   * Synchronous results stay synchronous.
   */
  #budgetCall<T>(what: string, call: () => T | Promise<T>): T | undefined | Promise<T | undefined> {
    const failed = (error: unknown): undefined => {
      const reason = error instanceof Error ? error.message : String(error);
      const where = this.config.rateBudget.location ? ` (${this.config.rateBudget.location})` : '';
      this.config.logger.warn(`could not ${what} the rate budget${where}: ${reason}`);
      return undefined;
    };
    try {
      const result = call();
      return isThenable(result) ? Promise.resolve(result).catch(failed) : result;
    } catch (error) {
      return failed(error);
    }
  }

  /** What a failed response means for retrying. */
  #classify<T>(failure: ApiFailure, spec: RequestSpec<T>, token: string | undefined): Outcome {
    if (failure.code === ErrorCode.TokenExpired && token !== undefined) {
      return { kind: 'token-rejected' };
    }
    if (spec.sendClientId && isMissingClientId(failure)) return { kind: 'missing-client-id' };
    if (failure.httpStatus === 429 && !failure.anonymousTokenRequest) {
      return { kind: 'rate-limited', retryAfterMs: failure.retryAfterMs };
    }
    const plainStatus = failure.code === undefined || failure.code === failure.httpStatus;
    if (RETRYABLE_STATUS.has(failure.httpStatus) && plainStatus) {
      return { kind: 'transient-status', retryAfterMs: failure.retryAfterMs };
    }
    return { kind: 'final' };
  }

  /** One attempt on the wire, with its own deadline (headers and body). */
  async #send<T>(
    spec: RequestSpec<T>,
    mode: 'json' | 'stream',
    token: string | undefined,
    clientId: string | undefined,
  ): Promise<Attempt> {
    const timeoutMs = spec.timeout ?? this.config.timeoutMs;
    const attemptDeadline = deadline(this.config.clock, timeoutMs);
    const signals = linkSignals(spec.signal, attemptDeadline.signal);
    const signal = signals.signal;
    // A stream handed back stays tied to the caller's signal; the deadline stops at the headers.
    let keepUserLink = false;
    const headers: Record<string, string> = { ...spec.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (clientId !== undefined) headers['x-client-id'] = clientId;
    if (mode === 'json' && !headers.accept) headers.accept = 'application/json';

    const fail = (error: unknown): never => {
      if (spec.signal?.aborted) throw abortErrorFrom(spec.signal);
      if (attemptDeadline.fired) {
        throw new TimeoutError(
          'request',
          timeoutMs,
          `${spec.method} ${spec.path} got no complete response within ${timeoutMs} ms (the request timeout). Raise the timeout option or check the network.`,
          { cause: error },
        );
      }
      if (error instanceof ApiError || error instanceof ResponseValidationError) throw error;
      if (spec.body && /redirect/i.test(describeError(error))) {
        // `redirect: 'error'` (see #sendBody): the runtime does not say which 3xx it was.
        throw new ApiError(
          `${this.config.baseUrl} answered ${spec.method} ${spec.path} with a redirect, which the SDK does not follow for an upload (the body would be sent again, and a redirect may lead off the API). Check baseUrl / NEMO_API_URL: use the final URL of the API.`,
          { httpStatus: 300, cause: error },
        );
      }
      throw new ConnectionError(
        `Could not reach ${this.config.baseUrl} for ${spec.method} ${spec.path} (${describeError(error)}). Check the network connection and the baseUrl / NEMO_API_URL setting.`,
        { cause: error },
      );
    };

    try {
      const reused = spec.reusedBody && canUseNodeHttp(this.config.customFetch);
      const body = !reused && spec.body ? await spec.body() : undefined;
      const response = await (reused
        ? this.#sendReused(spec, headers, signal)
        : body !== undefined
          ? this.#sendBody(spec, headers, body, signal)
          : this.#ky(spec.path.replace(/^\//, ''), {
              method: spec.method,
              headers,
              ...(spec.json !== undefined ? { json: spec.json } : {}),
              // A POST is never sent twice (a redirect would re-send it, perhaps elsewhere and
              // with the token): the 3xx comes back and is refused below. GETs follow redirects,
              // except a download's (handed back), and the anonymous-token request's (the client
              // id mints tokens: it never goes to another host).
              redirect: spec.method === 'POST' || spec.redirect ? 'manual' : 'follow',
              ...(signal ? { [ATTEMPT_SIGNAL]: signal } : {}),
            } as Parameters<KyInstance>[1])
      ).catch(fail);
      if (isRedirect(response) && spec.redirect !== 'manual') {
        await response.body?.cancel().catch(() => {});
        throw this.#redirectRefused(spec, response);
      }
      const streamOk =
        mode === 'stream' &&
        ((response.ok && !isJsonContentType(response)) ||
          (spec.redirect === 'manual' && isRedirect(response)));
      if (streamOk) {
        keepUserLink = true;
        return { response, text: undefined, body: undefined };
      }
      // Bounded: a success body up to maxResponseBytes (beyond is an error), an error body up
      // to 64 KiB (beyond is dropped: the status and the start say enough).
      const cap = response.ok ? this.config.maxResponseBytes : ERROR_BODY_BYTES;
      const read = await readBody(response, cap).catch(fail);
      if (read.overflowed && response.ok) {
        throw new ResponseValidationError(
          `${spec.what} is larger than ${cap} bytes (after decompression), the most the SDK reads for ${spec.method} ${spec.path}. Raise the maxResponseBytes option if the service really sends that much; otherwise check baseUrl / NEMO_API_URL.`,
          { path: '(body)' },
        );
      }
      return { response, text: read.text, body: parseJsonText(read.text) };
    } finally {
      attemptDeadline.cancel();
      if (!keepUserLink) signals.unlink();
    }
  }

  /** A 3xx on a request that must not follow it: a typed refusal, the target named without its query. */
  #redirectRefused<T>(spec: RequestSpec<T>, response: Response): ApiError {
    const location = response.headers.get('location');
    let target = 'a hidden target';
    if (location) {
      try {
        const url = new URL(location, this.url(spec.path));
        target = `${url.origin}${url.pathname}`;
      } catch {
        target = 'an invalid Location';
      }
    }
    return new ApiError(
      `The service answered ${spec.method} ${spec.path} with HTTP ${response.status || '3xx'} (a redirect to ${target}). The SDK does not follow redirects of this request: it must not be sent twice, nor carry the token elsewhere. Check baseUrl / NEMO_API_URL: use the final URL of the API.`,
      { httpStatus: response.status || 300 },
    );
  }

  /**
   * A request whose body comes from `spec.reusedBody` (uploads on Node):
   * `node:http`, each chunk written before the next is read into a reused
   * buffer. A 3xx is handed back (and refused by #send), as with `redirect: 'error'`.
   */
  async #sendReused<T>(
    spec: RequestSpec<T>,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const chunks = await (spec.reusedBody as () => ReusedChunks | Promise<ReusedChunks>)();
    const fetched = await (await nodeHttpTransfer()).send({
      url: this.url(spec.path),
      method: spec.method,
      headers: { ...this.config.attributionHeaders, ...headers },
      body: chunks,
      signal,
      redirect: 'manual',
    });
    return toWebResponse(fetched);
  }

  /** A request whose body comes from `spec.body` (uploads): `fetch` directly, unbuffered. */
  async #sendBody<T>(
    spec: RequestSpec<T>,
    headers: Record<string, string>,
    body: BodyInit,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const merged: Record<string, string> = { ...this.config.attributionHeaders, ...headers };
    const isStream = typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
    // `redirect: 'error'` with `window: null`: undici sends the body without cloning it (see
    // fetchTransfer); a redirect then fails the request, which #send reports as refused.
    return this.config.fetch(this.url(spec.path), {
      method: spec.method,
      headers: merged,
      body,
      redirect: 'error',
      window: null,
      ...(isStream ? { duplex: 'half' } : {}),
      ...(signal ? { signal } : {}),
    } as RequestInit);
  }

  #failureOf<T>(attempt: Attempt, endpoint: string, spec: RequestSpec<T>): ApiFailure | undefined {
    const { response, text, body } = attempt;
    if (spec.redirect === 'manual' && isRedirect(response)) return undefined;
    let code: number | undefined;
    let message: string | undefined;
    if (body !== undefined) {
      const outcome = readEnvelope(body);
      if (outcome.ok && response.ok) return undefined;
      if (!outcome.ok) {
        code = outcome.code;
        message = outcome.message;
      } else if (body && typeof body === 'object') {
        const m =
          (body as { message?: unknown; error?: unknown }).message ??
          (body as { error?: unknown }).error;
        if (typeof m === 'string') message = m;
      }
    } else if (response.ok) {
      return undefined;
    } else if (text) {
      message = text.trim().slice(0, 200) || undefined;
    }
    return {
      httpStatus: response.status,
      code,
      message,
      body: body ?? text,
      requestId: this.#requestId(response, body),
      retryAfterMs: parseRetryAfter((name) => response.headers.get(name), this.config.clock.now()),
      endpoint,
      anonymousTokenRequest: spec.path === this.config.backend.paths.anonymousToken,
      userId: this.credentials.userId(),
    };
  }

  #requestId(response: Response, body: unknown): string | undefined {
    for (const name of this.config.backend.requestIdHeaders) {
      const value = response.headers.get(name);
      if (value) return value;
    }
    if (body && typeof body === 'object') {
      const id =
        (body as { request_id?: unknown; requestId?: unknown }).request_id ??
        (body as { requestId?: unknown }).requestId;
      if (typeof id === 'string') return id;
    }
    return undefined;
  }

  #log(
    endpoint: string,
    status: number | string,
    started: number,
    retries: number,
    error?: unknown,
  ): void {
    if (!this.config.logger.enabled('debug')) return;
    const ms = this.config.clock.now() - started;
    const suffix = error instanceof Error ? ` (${error.name})` : '';
    this.config.logger.debug(`${endpoint} ${status} ${ms}ms retries=${retries}${suffix}`);
  }
}

/**
 * The body as text, at most `cap` bytes. Fast path: an unencoded body whose
 * `Content-Length` is within the cap is read whole by the runtime (what
 * `response.text()` costs); anything else is counted as it is decoded.
 */
async function readBody(response: Response, cap: number) {
  const length = response.headers.get('content-length');
  const encoding = response.headers.get('content-encoding');
  if (
    length !== null &&
    /^\d{1,15}$/.test(length) &&
    Number(length) <= cap &&
    (encoding === null || /^\s*identity\s*$/i.test(encoding))
  ) {
    return { text: await response.text(), overflowed: false };
  }
  return readBounded(webBody(response), cap);
}

/** The `node:http` transfer, loaded on first use (Node only: a browser bundle keeps it in a chunk it never loads). */
async function nodeHttpTransfer(): Promise<BodyTransfer> {
  return (await import('./node-http.js')).nodeHttpTransfer;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/**
 * One signal for the caller's and a deadline's, without `AbortSignal.any` (which
 * costs more than a listener on every call): a controller the first abort
 * forwards to. `unlink()` removes the listeners once the attempt is over.
 */
function linkSignals(
  user: AbortSignal | undefined,
  timer: AbortSignal,
): { signal: AbortSignal; unlink(): void } {
  if (!user) return { signal: timer, unlink: () => {} };
  if (user.aborted) return { signal: user, unlink: () => {} };
  const controller = new AbortController();
  const onUser = () => controller.abort(user.reason);
  const onTimer = () => controller.abort(timer.reason);
  user.addEventListener('abort', onUser, { once: true });
  timer.addEventListener('abort', onTimer, { once: true });
  return {
    signal: controller.signal,
    unlink: () => {
      user.removeEventListener('abort', onUser);
      timer.removeEventListener('abort', onTimer);
    },
  };
}
