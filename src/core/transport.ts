import ky, { type KyInstance } from 'ky';
import {
  ApiError,
  ConnectionError,
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
import { parseJsonText, readEnvelope } from './envelope.js';
import type { LevelLogger } from './logger.js';
import { backoffDelay, parseRetryAfter, type RetryTiming } from './retry.js';
import { decodeWith, type Schema } from './schema.js';
import { anySignal, raceSignal, throwIfAborted } from './signal.js';
import { abortErrorFrom, type Clock, schedule, sleep } from './timers.js';
import { assertCredentialsAllowed, joinUrl } from './url.js';

/**
 * When a request may be sent again after a failure.
 * - `safe`: replaying is harmless (reads, idempotent writes): retry 408, 5xx,
 *   connection failures and timeouts, plus the refusals below.
 * - `refusal-only`: only when the server refused the request before acting on
 *   it (429, 1001, missing client id). Used for `/run_sse`: a message the server
 *   may have received is never sent twice.
 * - `never`: no replay at all.
 */
export type ReplayPolicy = 'safe' | 'refusal-only' | 'never';

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
  fetch: typeof fetch | undefined;
  attributionHeaders: Record<string, string>;
  allowInsecureHttp: boolean;
  /** Where the bearer token comes from (see {@link Credentials}). */
  token: TokenOption | undefined;
  clientIds: ClientIdSource;
  tokenStore: TokenStore;
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
   * `manual`: do not follow redirects; a 3xx is handed back as is (stream mode)
   * so the caller decides whether credentials may follow it (downloads).
   */
  redirect?: 'manual' | undefined;
}

function isHandedBackRedirect(spec: { redirect?: 'manual' | undefined }, response: Response) {
  return spec.redirect === 'manual' && response.status >= 300 && response.status < 400;
}

interface Attempt {
  response: Response;
  /** The body text; `undefined` when a stream was handed back unread. */
  text: string | undefined;
  /** The body parsed as JSON, once; `undefined` when empty or not JSON. */
  body: unknown;
}

const RETRYABLE_STATUS = new Set([408, 500, 502, 503, 504]);

function isJsonContentType(response: Response): boolean {
  return /\bjson\b/i.test(response.headers.get('content-type') ?? '');
}

/**
 * The HTTP layer: one ky instance per client, attribution and bearer headers,
 * tolerant envelope decoding, typed errors and the retry policy.
 *
 * Retries are decided here rather than by ky's own retry because they depend on
 * the decoded envelope (a 1001 arrives inside an HTTP 200 body), on the shared
 * token refresh, and on an injectable clock.
 */
export class Transport {
  readonly config: TransportConfig;
  /** The bearer token's source. Built here, in one phase: it requests anonymous tokens through this transport. */
  readonly credentials: Credentials;
  readonly #ky: KyInstance;

  constructor(config: TransportConfig) {
    this.config = config;
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
    assertCredentialsAllowed(new URL(config.baseUrl), config.allowInsecureHttp);
    this.#ky = ky.create({
      prefixUrl: config.baseUrl,
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: config.attributionHeaders,
      ...(config.fetch ? { fetch: config.fetch } : {}),
    });
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
    // A 2xx JSON success where a stream was expected: hand the body back as is.
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }

  async #execute<T>(spec: RequestSpec<T>, mode: 'json' | 'stream'): Promise<Attempt> {
    const maxRetries = spec.maxRetries ?? this.config.maxRetries;
    const endpoint = `${spec.method} ${spec.path}`;
    let retries = 0;
    let tokenRefreshed = false;
    let clientIdRetried = false;
    let rateLimitRetried = false;

    for (;;) {
      throwIfAborted(spec.signal);
      const credentials = this.credentials;
      const token =
        spec.auth === 'none' ? undefined : await credentials.token(spec.signal ?? undefined);
      const clientId = spec.sendClientId
        ? await raceSignal(credentials.clientId(), spec.signal)
        : undefined;
      // Paths are relative to baseUrl, whose scheme was checked once in the constructor.
      if (token !== undefined) registerSecret(token);

      const started = this.config.clock.now();
      let attempt: Attempt;
      try {
        attempt = await this.#send(spec, mode, token, clientId);
      } catch (error) {
        this.#log(endpoint, 'failed', started, retries, error);
        const transient = error instanceof ConnectionError || error instanceof TimeoutError;
        if (transient && spec.replay === 'safe' && retries < maxRetries) {
          await sleep(
            this.config.clock,
            backoffDelay(retries, this.config.retryTiming, this.config.random),
            spec.signal,
          );
          retries += 1;
          continue;
        }
        throw error;
      }

      const failure = this.#failureOf(attempt, endpoint, spec);
      this.#log(endpoint, attempt.response.status, started, retries);
      if (!failure) {
        spec.onResponse?.(attempt.response);
        return attempt;
      }

      // 1001: the server refused the token before acting; replay once with a new one.
      if (
        failure.code === ErrorCode.TokenExpired &&
        token !== undefined &&
        !tokenRefreshed &&
        spec.replay !== 'never' &&
        (await credentials.onTokenRejected(token, spec.signal))
      ) {
        tokenRefreshed = true;
        continue;
      }
      const error = errorFromFailure(failure, this.config.backend);
      if (isMissingClientId(failure) && spec.sendClientId && !clientIdRetried) {
        clientIdRetried = true;
        continue;
      }
      if (
        failure.httpStatus === 429 &&
        !failure.anonymousTokenRequest &&
        spec.replay !== 'never' &&
        !rateLimitRetried &&
        maxRetries > 0
      ) {
        const wait = failure.retryAfterMs ?? this.config.backend.rateLimitDefaultWaitMs;
        if (wait <= this.config.retryTiming.maxRetryAfterMs) {
          this.config.logger.info(`${endpoint} rate limited; waiting ${wait} ms before one retry`);
          await sleep(this.config.clock, wait, spec.signal);
          rateLimitRetried = true;
          continue;
        }
      }
      const transientStatus =
        RETRYABLE_STATUS.has(failure.httpStatus) &&
        (failure.code === undefined || failure.code === failure.httpStatus);
      if (transientStatus && spec.replay === 'safe' && retries < maxRetries) {
        const hinted = failure.retryAfterMs;
        const wait =
          hinted !== undefined && hinted <= this.config.retryTiming.maxRetryAfterMs
            ? hinted
            : backoffDelay(retries, this.config.retryTiming, this.config.random);
        await sleep(this.config.clock, wait, spec.signal);
        retries += 1;
        continue;
      }
      throw error;
    }
  }

  /** One attempt on the wire, with its own timeout. */
  async #send<T>(
    spec: RequestSpec<T>,
    mode: 'json' | 'stream',
    token: string | undefined,
    clientId: string | undefined,
  ): Promise<Attempt> {
    const timeoutMs = spec.timeout ?? this.config.timeoutMs;
    const timeoutController = new AbortController();
    let timedOut = false;
    const cancelTimeout =
      Number.isFinite(timeoutMs) && timeoutMs > 0
        ? schedule(this.config.clock, timeoutMs, () => {
            timedOut = true;
            timeoutController.abort();
          })
        : undefined;
    const signal = anySignal([spec.signal, timeoutController.signal]);
    const headers: Record<string, string> = { ...spec.headers };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (clientId !== undefined) headers['x-client-id'] = clientId;
    if (mode === 'json' && !headers.accept) headers.accept = 'application/json';

    const fail = (error: unknown): never => {
      if (spec.signal?.aborted) throw abortErrorFrom(spec.signal);
      if (timedOut) {
        throw new TimeoutError(
          'request',
          timeoutMs,
          `${spec.method} ${spec.path} got no complete response within ${timeoutMs} ms (the request timeout). Raise the timeout option or check the network.`,
          { cause: error },
        );
      }
      if (error instanceof ApiError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      const cause =
        error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new ConnectionError(
        `Could not reach ${this.config.baseUrl} for ${spec.method} ${spec.path} (${reason}${cause}). Check the network connection and the baseUrl / NEMO_API_URL setting.`,
        { cause: error },
      );
    };

    try {
      const body = spec.body ? await spec.body() : undefined;
      const response = await (body !== undefined
        ? this.#fetchBody(spec, headers, body, signal)
        : this.#ky(spec.path.replace(/^\//, ''), {
            method: spec.method,
            headers,
            ...(spec.json !== undefined ? { json: spec.json } : {}),
            // The client id mints tokens: never let a redirect carry it to another host.
            ...(spec.redirect
              ? { redirect: spec.redirect }
              : spec.sendClientId
                ? { redirect: 'error' }
                : {}),
            ...(signal ? { signal } : {}),
          } as Parameters<KyInstance>[1])
      ).catch(fail);
      const streamOk =
        mode === 'stream' &&
        ((response.ok && !isJsonContentType(response)) || isHandedBackRedirect(spec, response));
      if (streamOk) return { response, text: undefined, body: undefined };
      const text = await response.text().catch(fail);
      return { response, text, body: parseJsonText(text) };
    } finally {
      cancelTimeout?.();
    }
  }

  /**
   * A request whose body comes from `spec.body` (uploads) goes to `fetch`
   * directly, unbuffered. ky clones every request to prepare retries and undici
   * clones it to follow redirects; a clone tees the body stream and the unread
   * branch keeps every chunk, so a 500 MB upload would end up in memory.
   * `window: null` with `redirect: 'error'` lets undici send the body without a
   * clone (a redirect could not replay a streamed body anyway).
   */
  #fetchBody<T>(
    spec: RequestSpec<T>,
    headers: Record<string, string>,
    body: BodyInit,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const merged = new Headers(this.config.attributionHeaders);
    for (const [name, value] of Object.entries(headers)) merged.set(name, value);
    const isStream = typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
    return (this.config.fetch ?? globalThis.fetch)(this.url(spec.path), {
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
    if (isHandedBackRedirect(spec, response)) return undefined;
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
      retryAfterMs: parseRetryAfter(response.headers, this.config.clock.now()),
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
