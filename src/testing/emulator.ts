/**
 * The NemoVideo emulator core: a stateful, in-memory implementation of the wire contract with
 * one web-standard entry point, `handle(request: Request): Promise<Response>`. No msw and no
 * static Node import here: it runs under msw (Node or browser), behind `listen()` (Node), or
 * in any fetch-style host.
 *
 * @module
 */

import { type DefaultAgentEnv, defaultAgentItems, TurnEncoder } from './agent.js';
import { isRenderable } from './draft.js';
import { resultMp4, resultResponse, resultSize } from './media.js';
import { fileTypeOf, type MultipartParse, parseMultipart } from './multipart.js';
import {
  ACCEPTED_LIST,
  APP_NAME,
  CDN_PATHS,
  CODES,
  COSTS,
  DEFAULT_API_URL,
  DEFAULT_CDN_URL,
  DEFAULT_MAX_UPLOAD_BYTES,
  DEFAULT_MEDIA,
  HEADERS,
  INITIAL_CREDITS,
  PATHS,
  RENDER,
  TOKEN_PREFIX,
  TOKEN_RETRY_AFTER_S,
  TOKEN_TTL_MS,
  USER_ME,
  USER_PREFIX,
} from './protocol.js';
import { type StreamFault, toAsync, turnStream } from './sse.js';
import type {
  AgentContext,
  AgentFn,
  AgentItem,
  AgentResult,
  BodySummary,
  Draft,
  EmulatorClock,
  EmulatorOptions,
  EmulatorServer,
  FailRendersOptions,
  FaultHandle,
  FaultOptions,
  ListenOptions,
  MediaFile,
  RecordedRequest,
  RuntimeOptions,
} from './types.js';
import {
  clone,
  compilePath,
  delay,
  extensionOf,
  isRecord,
  jsonResponse,
  matchPath,
  numericId,
  randomId,
} from './util.js';

interface TokenRecord {
  token: string;
  userId: string;
  clientId: string | undefined;
  issuedAt: number;
  expiresAt: number;
}

interface UserRecord {
  userId: string;
  clientId: string | undefined;
  available: number;
  frozen: number;
}

/** What the emulator keeps per session: the public snapshot plus its bookkeeping. */
interface SessionRecord extends SessionSnapshot {
  editCharged: boolean;
  uploads: number;
}

interface RenderJob {
  id: string;
  sessionId: string;
  userId: string;
  draft: unknown;
  output: Record<string, unknown>;
  createdAt: number;
  durationMs: number;
  sizeBytes: number;
  failAt: number | undefined;
  failReason: string | undefined;
  cancelledAt: number | undefined;
}

interface Fault {
  method: string | undefined;
  path: RegExp;
  options: FaultOptions;
  remaining: number;
}

/** A render's state as computed at a point in time. */
export interface RenderView {
  id: string;
  sessionId: string;
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
  progress: number;
  url: string | undefined;
  error: string | undefined;
  createdAt: string;
  completedAt: string | undefined;
  durationSec: number;
  sizeBytes: number;
}

/** A read-only snapshot of an emulated session. */
export interface SessionSnapshot {
  sessionId: string;
  taskId: string;
  userId: string;
  taskName: string;
  language: string;
  draft: Draft | null;
  videoInfos: MediaFile[];
  generatedMedia: Record<string, unknown>[];
  turns: number;
}

/** An anonymous token issued by `issueToken()`. */
export interface IssuedToken {
  token: string;
  userId: string;
  clientId: string;
  expiresAt: string;
}

class CreditsError extends Error {
  constructor(
    readonly needed: number,
    readonly available: number,
  ) {
    super(`Insufficient credits: this needs ${needed}, ${available} available`);
  }
}

type Handler = (
  request: Request,
  params: Record<string, string>,
  record: RecordedRequest,
  fault: Fault | undefined,
) => Promise<Response> | Response;

interface Route {
  method: string;
  re: RegExp;
  handler: Handler;
}

const SEMANTIC_STATUS: Record<number, number> = {
  [CODES.tokenInvalid]: 401,
  [CODES.sessionNotFound]: 404,
  [CODES.outOfCredits]: 403,
  [CODES.unsupportedType]: 415,
  [CODES.fileTooLarge]: 413,
};

function resolveRuntime(options: EmulatorOptions): Required<RuntimeOptions> {
  return {
    eventStyle: options.eventStyle ?? 'adk',
    partial: options.partial ?? true,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    heartbeatStyle: options.heartbeatStyle ?? 'comment',
    eventDelayMs: options.eventDelayMs ?? 0,
    renderShape: options.renderShape ?? 'top-level',
    renderDurationMs: options.renderDurationMs ?? RENDER.durationMs,
    resultSizeBytes: options.resultSizeBytes ?? 0,
    maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    errorStatus: options.errorStatus ?? 'always-200',
  };
}

function trimOrigin(url: string): string {
  return new URL(url).origin;
}

/**
 * A stateful emulator of the NemoVideo API. Create one with `createEmulator()`.
 *
 * @example
 * ```ts
 * const emulator = createEmulator();
 * const res = await emulator.handle(
 *   new Request('https://mega-api-prod.nemovideo.ai/api/auth/anonymous-token', {
 *     method: 'POST',
 *     headers: { 'X-Client-Id': 'test' },
 *   }),
 * );
 * console.log(await res.json()); // { code: 0, data: { token: 'nmv_usr_…', credits: 100, … } }
 * ```
 */
export class Emulator {
  /** Every request received (API and CDN), oldest first. Headers include `authorization`: a test log, never print it. */
  readonly requests: RecordedRequest[] = [];
  /** The API origin the msw handlers serve. */
  readonly baseUrl: string;
  readonly #options: EmulatorOptions;
  readonly #clock: EmulatorClock;
  readonly #defaultCdnUrl: string;
  #cdnUrl: string;
  #settings: Required<RuntimeOptions>;
  #initialCredits: number;
  #agentFn: AgentFn | undefined;
  #renderFailure: { reason: string; remaining: number; atProgress: number } | undefined;
  readonly #clients = new Map<string, TokenRecord>();
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #users = new Map<string, UserRecord>();
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #renders = new Map<string, RenderJob>();
  #faults: Fault[] = [];
  readonly #openStreams = new Set<() => void>();
  readonly #servers = new Set<EmulatorServer>();
  readonly #apiRoutes: Route[];
  readonly #cdnRoutes: Route[];

  constructor(options: EmulatorOptions = {}) {
    this.#options = options;
    this.baseUrl = trimOrigin(options.baseUrl ?? DEFAULT_API_URL);
    this.#defaultCdnUrl = trimOrigin(options.cdnUrl ?? DEFAULT_CDN_URL);
    this.#cdnUrl = this.#defaultCdnUrl;
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#settings = resolveRuntime(options);
    this.#initialCredits = options.initialCredits ?? INITIAL_CREDITS;
    this.#agentFn = options.agent;
    this.#renderFailure = options.renderFailure
      ? { reason: options.renderFailure, remaining: Infinity, atProgress: RENDER.failAtProgress }
      : undefined;
    const r = (method: string, path: string, handler: Handler): Route => ({
      method,
      re: compilePath(path),
      handler: handler.bind(this),
    });
    this.#apiRoutes = [
      r('POST', PATHS.anonymousToken, this.#anonymousToken),
      r('POST', PATHS.createSession, this.#createSession),
      r('POST', PATHS.runSse, this.#runSse),
      r('POST', PATHS.upload, this.#upload),
      r('GET', PATHS.credits, this.#credits),
      r('GET', PATHS.state, this.#state),
      r('POST', PATHS.renderStart, this.#renderStart),
      r('POST', PATHS.renderCancel, this.#renderCancel),
      r('GET', PATHS.renderPoll, this.#renderPoll),
      r('GET', PATHS.renderDownload, this.#renderDownload),
    ];
    this.#cdnRoutes = [
      r('GET', CDN_PATHS.render, this.#cdnRender),
      r('HEAD', CDN_PATHS.render, this.#cdnRender),
      r('GET', CDN_PATHS.upload, this.#cdnUpload),
      r('HEAD', CDN_PATHS.upload, this.#cdnUpload),
    ];
  }

  /** The CDN origin result URLs point to (the CDN server's origin while `listen()`ing). */
  get cdnUrl(): string {
    return this.#cdnUrl;
  }

  /** Current run-time settings (see `configure`). */
  get settings(): Readonly<Required<RuntimeOptions>> {
    return this.#settings;
  }

  // ---------------------------------------------------------------- entry points

  /**
   * Answer one request. Requests to the CDN origin are served as CDN requests, all others as
   * API requests (whatever their origin).
   *
   * @example
   * ```ts
   * const res = await emulator.handle(new Request(`${emulator.baseUrl}/api/credits/balance/simple`));
   * ```
   */
  handle(request: Request): Promise<Response> {
    const origin = new URL(request.url).origin;
    const cdn = origin === this.#cdnUrl || origin === this.#defaultCdnUrl;
    return cdn ? this.handleCdn(request) : this.handleApi(request);
  }

  /**
   * Answer one request as the API, whatever its origin.
   *
   * @example
   * ```ts
   * const res = await emulator.handleApi(new Request('http://x/api/credits/balance/simple'));
   * ```
   */
  handleApi(request: Request): Promise<Response> {
    return this.#dispatch('api', request, this.#apiRoutes);
  }

  /**
   * Answer one request as the CDN, whatever its origin.
   *
   * @example
   * ```ts
   * const res = await emulator.handleCdn(new Request(resultUrl));
   * ```
   */
  handleCdn(request: Request): Promise<Response> {
    return this.#dispatch('cdn', request, this.#cdnRoutes);
  }

  /**
   * Serve the emulator over HTTP on loopback: the API on `port` and the CDN on `cdnPort`
   * (both default 0: any free port), CORS enabled. Node only.
   *
   * @example
   * ```ts
   * const server = await emulator.listen({ port: 0 });
   * const client = new NemoClient({ baseUrl: server.url });
   * // …
   * await server.close();
   * ```
   */
  async listen(options: ListenOptions = {}): Promise<EmulatorServer> {
    const { startServer } = await import('./server.js');
    const server = await startServer(this, options, {
      attach: (cdnUrl) => {
        this.#cdnUrl = cdnUrl;
      },
      detach: (cdnUrl) => {
        if (this.#cdnUrl === cdnUrl) this.#cdnUrl = this.#defaultCdnUrl;
      },
    });
    this.#servers.add(server);
    const close = server.close;
    server.close = async () => {
      this.#servers.delete(server);
      this.#closeStreams();
      await close();
    };
    return server;
  }

  // ---------------------------------------------------------------- test controls

  /**
   * Make matching requests fail. `route` is `'METHOD /path'` or `'/path'` (any method), with
   * `:param` and `*` wildcards, or a RegExp tested on the path. Applies to API and CDN paths.
   * Returns a handle to inspect or remove the fault.
   *
   * @example
   * ```ts
   * emulator.fail('POST /run_sse', { status: 503, times: 2 });
   * emulator.fail('POST /run_sse', { cutAfterEvents: 2 });
   * emulator.fail('GET /api/credits/balance/simple', { code: 1001 });
   * emulator.fail('GET /renders/*', { cutAfterBytes: 1000 });
   * ```
   */
  fail(route: string | RegExp, options: FaultOptions = {}): FaultHandle {
    let method: string | undefined;
    let path: RegExp;
    if (route instanceof RegExp) path = route;
    else {
      const m = /^(?:([A-Za-z]+|\*)\s+)?(\S+)$/.exec(route.trim());
      if (!m?.[2]) throw new TypeError(`emulator.fail: bad route "${route}"; use "POST /run_sse"`);
      method = m[1] && m[1] !== '*' ? m[1].toUpperCase() : undefined;
      path = compilePath(m[2]);
    }
    const fault: Fault = { method, path, options, remaining: options.times ?? 1 };
    this.#faults.push(fault);
    const faults = () => this.#faults;
    return {
      get remaining() {
        return fault.remaining;
      },
      remove: () => {
        this.#faults = faults().filter((f) => f !== fault);
      },
    };
  }

  /**
   * Script the agent's turns. The function receives the user message and a context, and
   * returns the items of the turn (array, iterable or async iterable; see `AgentItem`).
   * `emulator.agent(undefined)` restores the default agent.
   *
   * @example
   * ```ts
   * emulator.agent((message, ctx) => [
   *   { text: `You said: ${message}` },
   *   { toolCall: { name: 'add_text', args: { text: 'Hi' } } },
   *   { toolResult: { name: 'add_text', response: { status: 'success' } } },
   * ]);
   * ```
   */
  agent(fn: AgentFn | undefined): void {
    this.#agentFn = fn;
  }

  /**
   * Set the available credits of every existing user (or of `userId`); without `userId` it
   * also sets the credits future anonymous users start with.
   *
   * @example
   * ```ts
   * emulator.setCredits(0); // the next editing turn answers code 2001
   * ```
   */
  setCredits(credits: number, userId?: string): void {
    for (const user of this.#users.values()) {
      if (userId === undefined || user.userId === userId) user.available = credits;
    }
    if (userId === undefined) this.#initialCredits = credits;
  }

  /**
   * Expire every token issued so far: bearer requests answer 1001, and the anonymous-token
   * endpoint issues a new token for the same client id (same user, sessions kept).
   *
   * @example
   * ```ts
   * emulator.expireTokens();
   * ```
   */
  expireTokens(): void {
    const now = this.#clock.now();
    for (const t of this.#tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  /**
   * Make renders fail with `reason`: running ones and the next ones, `times` in all (default
   * all), when they reach `atProgress` % (default 40).
   *
   * @example
   * ```ts
   * emulator.failRenders('Lambda timeout', { times: 1 });
   * ```
   */
  failRenders(reason = 'Render failed', options: FailRendersOptions = {}): void {
    this.#renderFailure = {
      reason,
      remaining: options.times ?? Infinity,
      atProgress: options.atProgress ?? RENDER.failAtProgress,
    };
    const now = this.#clock.now();
    for (const job of this.#renders.values()) {
      if (job.failAt === undefined && !this.#isTerminal(this.#view(job, now)))
        this.#markFailure(job);
    }
  }

  /**
   * Change run-time settings (event style, heartbeats, render shape and duration, result size,
   * upload limit, error status mode).
   *
   * @example
   * ```ts
   * emulator.configure({ eventStyle: 'typed', renderShape: 'wrapped' });
   * ```
   */
  configure(options: RuntimeOptions): void {
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ) as RuntimeOptions;
    this.#settings = { ...this.#settings, ...defined };
  }

  /**
   * Issue an anonymous token directly (as if `POST /api/auth/anonymous-token` was called),
   * for tests that configure a client with an explicit token.
   *
   * @example
   * ```ts
   * const { token } = emulator.issueToken();
   * const client = new NemoClient({ token });
   * ```
   */
  issueToken(clientId: string = crypto.randomUUID()): IssuedToken {
    const t = this.#issue(clientId);
    return {
      token: t.token,
      userId: t.userId,
      clientId,
      expiresAt: new Date(t.expiresAt).toISOString(),
    };
  }

  /**
   * A snapshot of a session (draft, uploaded files…), or undefined.
   *
   * @example
   * ```ts
   * expect(emulator.session(sessionId)?.draft?.t).toHaveLength(1);
   * ```
   */
  session(sessionId: string): SessionSnapshot | undefined {
    const s = this.#sessions.get(sessionId);
    if (!s) return undefined;
    return clone({
      sessionId: s.sessionId,
      taskId: s.taskId,
      userId: s.userId,
      taskName: s.taskName,
      language: s.language,
      draft: s.draft,
      videoInfos: s.videoInfos,
      generatedMedia: s.generatedMedia,
      turns: s.turns,
    });
  }

  /**
   * The state of a render job now, or undefined.
   *
   * @example
   * ```ts
   * expect(emulator.render('render_1')?.status).toBe('completed');
   * ```
   */
  render(id: string): RenderView | undefined {
    const job = this.#renders.get(id);
    return job ? this.#view(job, this.#clock.now()) : undefined;
  }

  /**
   * Credits of a user (`available`, `frozen`), or undefined.
   *
   * @example
   * ```ts
   * expect(emulator.credits(userId)?.available).toBe(50);
   * ```
   */
  credits(userId: string): { available: number; frozen: number } | undefined {
    const u = this.#users.get(userId);
    return u ? { available: u.available, frozen: u.frozen } : undefined;
  }

  /**
   * Forget everything: tokens, users, sessions, renders, faults, the request log, the custom
   * agent and run-time settings; open SSE streams are closed. Servers keep listening.
   *
   * @example
   * ```ts
   * afterEach(() => emulator.reset());
   * ```
   */
  reset(): void {
    this.#closeStreams();
    this.requests.length = 0;
    this.#clients.clear();
    this.#tokens.clear();
    this.#users.clear();
    this.#sessions.clear();
    this.#renders.clear();
    this.#faults = [];
    this.#settings = resolveRuntime(this.#options);
    this.#initialCredits = this.#options.initialCredits ?? INITIAL_CREDITS;
    this.#agentFn = this.#options.agent;
    this.#renderFailure = this.#options.renderFailure
      ? {
          reason: this.#options.renderFailure,
          remaining: Infinity,
          atProgress: RENDER.failAtProgress,
        }
      : undefined;
  }

  /**
   * Close every server started by `listen()` and every open stream.
   *
   * @example
   * ```ts
   * afterAll(() => emulator.close());
   * ```
   */
  async close(): Promise<void> {
    this.#closeStreams();
    await Promise.all([...this.#servers].map((s) => s.close()));
  }

  // ---------------------------------------------------------------- dispatch

  #closeStreams(): void {
    for (const close of [...this.#openStreams]) close();
    this.#openStreams.clear();
  }

  async #dispatch(origin: 'api' | 'cdn', request: Request, routes: Route[]): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const record: RecordedRequest = {
      origin,
      method,
      url: request.url,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body:
        method === 'GET' || method === 'HEAD' || !request.body
          ? { type: 'none' }
          : { type: 'unread' },
      at: this.#clock.now(),
    };
    this.requests.push(record);
    const response = await this.#route(request, url.pathname, method, record, routes);
    record.status = response.status;
    return response;
  }

  async #route(
    request: Request,
    path: string,
    method: string,
    record: RecordedRequest,
    routes: Route[],
  ): Promise<Response> {
    const fault = this.#takeFault(method, path);
    if (fault?.options.delayMs) await delay(fault.options.delayMs, request.signal);
    if (fault) {
      const o = fault.options;
      if (o.status !== undefined || o.code !== undefined || o.body !== undefined) {
        return this.#faultResponse(o);
      }
    }
    let allowed = false;
    for (const route of routes) {
      const params = matchPath(route.re, path);
      if (!params) continue;
      if (route.method !== method) {
        allowed = true;
        continue;
      }
      try {
        const response = await route.handler(request, params, record, fault);
        return fault?.options.cutAfterBytes !== undefined
          ? cutBody(response, fault.options)
          : response;
      } catch (error) {
        return jsonResponse(
          {
            code: 500,
            message: `emulator error: ${error instanceof Error ? error.message : String(error)}`,
          },
          500,
        );
      }
    }
    if (allowed) return jsonResponse({ message: `Method ${method} not allowed on ${path}` }, 405);
    return jsonResponse({ message: `Not found: ${method} ${path}` }, 404);
  }

  #takeFault(method: string, path: string): Fault | undefined {
    for (const f of this.#faults) {
      if (f.remaining <= 0) continue;
      if (f.method && f.method !== method) continue;
      f.path.lastIndex = 0;
      if (!f.path.test(path)) continue;
      f.remaining--;
      if (f.remaining <= 0) this.#faults = this.#faults.filter((x) => x !== f);
      return f;
    }
    return undefined;
  }

  #faultResponse(o: FaultOptions): Response {
    const status = o.status ?? (o.code !== undefined ? this.#statusFor(o.code) : 200);
    const headers = { ...(o.headers ?? {}) };
    if (o.body !== undefined) {
      if (typeof o.body === 'string') {
        return new Response(o.body, {
          status,
          headers: { 'content-type': 'text/plain', ...headers },
        });
      }
      return jsonResponse(o.body, status, headers);
    }
    const message = o.message ?? 'Emulated failure';
    const body = o.code !== undefined ? { code: o.code, message, data: null } : { message };
    return jsonResponse(body, status, headers);
  }

  #statusFor(code: number): number {
    return this.#settings.errorStatus === 'semantic' ? (SEMANTIC_STATUS[code] ?? 400) : 200;
  }

  /** `{"code":N,"message"}` with the configured HTTP status. */
  #apiError(code: number, message: string): Response {
    return jsonResponse({ code, message, data: null }, this.#statusFor(code));
  }

  #badRequest(message: string): Response {
    return jsonResponse({ code: CODES.badRequest, message, data: null }, 400);
  }

  #ok(data: unknown): Response {
    return jsonResponse({ code: CODES.ok, message: 'success', data });
  }

  async #readJson(
    request: Request,
    record: RecordedRequest,
  ): Promise<{ value: unknown } | Response> {
    const text = await request.text();
    if (text.trim() === '') {
      record.body = { type: 'none' };
      return { value: undefined };
    }
    try {
      const value: unknown = JSON.parse(text);
      record.body = { type: 'json', value };
      return { value };
    } catch {
      record.body = { type: 'text', length: text.length, text: text.slice(0, 200) };
      return this.#badRequest('request body is not valid JSON');
    }
  }

  // ---------------------------------------------------------------- auth

  #issue(clientId: string | undefined): TokenRecord {
    const now = this.#clock.now();
    const previous = clientId === undefined ? undefined : this.#clients.get(clientId);
    let user = previous ? this.#users.get(previous.userId) : undefined;
    if (!user) {
      user = {
        userId: `${USER_PREFIX}${randomId(16)}`,
        clientId,
        available: this.#initialCredits,
        frozen: 0,
      };
      this.#users.set(user.userId, user);
    }
    const record: TokenRecord = {
      token: `${TOKEN_PREFIX}${randomId(32)}`,
      userId: user.userId,
      clientId,
      issuedAt: now,
      expiresAt: now + (this.#options.tokenTtlMs ?? TOKEN_TTL_MS),
    };
    this.#tokens.set(record.token, record);
    if (clientId !== undefined) this.#clients.set(clientId, record);
    return record;
  }

  #authenticate(request: Request): UserRecord | Response {
    const header = request.headers.get(HEADERS.authorization) ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = m?.[1] ? this.#tokens.get(m[1]) : undefined;
    if (!token) {
      return this.#apiError(
        CODES.tokenInvalid,
        header ? 'Token invalid: request a new anonymous token' : 'Missing bearer token',
      );
    }
    if (this.#clock.now() >= token.expiresAt) {
      return this.#apiError(CODES.tokenInvalid, 'Token expired: request a new anonymous token');
    }
    const user = this.#users.get(token.userId);
    if (!user) return this.#apiError(CODES.tokenInvalid, 'Token invalid');
    return user;
  }

  #sessionOf(user: UserRecord, sessionId: string | undefined): SessionRecord | Response {
    const session = sessionId === undefined ? undefined : this.#sessions.get(sessionId);
    if (!session || session.userId !== user.userId) {
      return this.#apiError(CODES.sessionNotFound, `Session not found: ${sessionId ?? '(none)'}`);
    }
    return session;
  }

  // ---------------------------------------------------------------- endpoints

  #anonymousToken(request: Request): Response {
    const clientId = request.headers.get(HEADERS.clientId)?.trim();
    if (!clientId) {
      return jsonResponse({ message: 'Missing X-Client-Id header' }, 400);
    }
    if (clientId.length > 64) {
      return jsonResponse({ message: 'X-Client-Id is too long (at most 64 characters)' }, 400);
    }
    const existing = this.#clients.get(clientId);
    if (existing && this.#clock.now() < existing.expiresAt) {
      return jsonResponse(
        { message: 'Too many requests: this client already has a valid anonymous token' },
        429,
        { 'retry-after': String(TOKEN_RETRY_AFTER_S) },
      );
    }
    const t = this.#issue(clientId);
    const user = this.#users.get(t.userId);
    return this.#ok({
      token: t.token,
      credits: user?.available ?? 0,
      user_id: t.userId,
      expires_at: new Date(t.expiresAt).toISOString(),
    });
  }

  async #createSession(request: Request, _p: unknown, record: RecordedRequest): Promise<Response> {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const body = await this.#readJson(request, record);
    if (body instanceof Response) return body;
    const value = body.value ?? {};
    if (!isRecord(value)) return this.#badRequest('body must be a JSON object');
    const taskName = value.task_name ?? 'project';
    const language = value.language ?? 'en';
    if (typeof taskName !== 'string' || typeof language !== 'string') {
      return this.#badRequest('task_name and language must be strings');
    }
    const session: SessionRecord = {
      sessionId: numericId(),
      taskId: numericId(),
      userId: user.userId,
      taskName,
      language,
      draft: null,
      videoInfos: [],
      generatedMedia: [],
      editCharged: false,
      turns: 0,
      uploads: 0,
    };
    this.#sessions.set(session.sessionId, session);
    return this.#ok({
      session_id: session.sessionId,
      task_id: session.taskId,
      user_id: user.userId,
    });
  }

  async #runSse(
    request: Request,
    _p: unknown,
    record: RecordedRequest,
    fault: Fault | undefined,
  ): Promise<Response> {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const body = await this.#readJson(request, record);
    if (body instanceof Response) return body;
    const value = body.value;
    if (!isRecord(value)) return this.#badRequest('body must be a JSON object');
    if (value.app_name !== APP_NAME) return this.#badRequest(`app_name must be "${APP_NAME}"`);
    if (value.user_id !== USER_ME) return this.#badRequest(`user_id must be "${USER_ME}"`);
    const sid = typeof value.session_id === 'string' ? value.session_id : undefined;
    if (sid === undefined && value.session_id !== undefined) {
      return this.#badRequest('session_id must be a string');
    }
    const session = this.#sessionOf(user, sid);
    if (session instanceof Response) return session;
    const parts = isRecord(value.new_message) ? value.new_message.parts : undefined;
    if (!Array.isArray(parts) || parts.length === 0) {
      return this.#badRequest('new_message.parts must be a non-empty array');
    }
    const message = parts
      .map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : ''))
      .join('');

    session.turns++;
    let reserved = 0;
    const charge = (credits: number) => {
      if (credits <= 0) return;
      if (user.available < credits) throw new CreditsError(credits, user.available);
      user.available -= credits;
      user.frozen += credits;
      reserved += credits;
    };
    const env: DefaultAgentEnv = { cdnUrl: this.#cdnUrl, taskName: session.taskName };
    const ctx: AgentContext = {
      sessionId: session.sessionId,
      userId: user.userId,
      turn: session.turns,
      draft: clone(session.draft),
      videoInfos: clone(session.videoInfos),
      setDraft: (draft) => {
        session.draft = clone(draft);
      },
      addGeneratedMedia: (item) => {
        session.generatedMedia.push(clone(item));
      },
      charge,
      chargeEdit: () => {
        if (session.editCharged) return;
        charge(COSTS.editSession);
        session.editCharged = true;
      },
      defaultAgent: () => defaultAgentItems(message, ctx, env),
    };
    Object.defineProperty(ctx, 'draft', { get: () => clone(session.draft), enumerable: true });
    const release = () => {
      user.frozen -= reserved;
      reserved = 0;
    };

    let result: AgentResult;
    try {
      result = await (this.#agentFn ? this.#agentFn(message, ctx) : ctx.defaultAgent());
    } catch (error) {
      // Nothing was streamed yet: answer with a JSON error envelope, refunding reservations.
      user.available += reserved;
      release();
      if (error instanceof CreditsError) return this.#apiError(CODES.outOfCredits, error.message);
      return jsonResponse(
        {
          code: 500,
          message: `agent error: ${error instanceof Error ? error.message : String(error)}`,
        },
        500,
      );
    }

    const settings = this.#settings;
    const encoder = new TurnEncoder({
      style: settings.eventStyle,
      partial: settings.partial,
      heartbeatStyle: settings.heartbeatStyle,
      now: () => this.#clock.now(),
    });
    const streamFault: StreamFault | undefined = fault
      ? {
          cutAfterEvents: fault.options.cutAfterEvents,
          cutMode: fault.options.cutMode,
          stallAfterEvents: fault.options.stallAfterEvents,
          stallWith: fault.options.stallWith,
        }
      : undefined;
    const stream = turnStream({
      items: toAsync(result),
      encoder,
      heartbeatMs: settings.heartbeatMs,
      eventDelayMs: settings.eventDelayMs,
      fault: streamFault,
      onDone: release,
      onAgentError: (error): AgentItem =>
        error instanceof CreditsError
          ? { error: error.message, code: CODES.outOfCredits, as: 'event' }
          : { error: error instanceof Error ? error.message : String(error) },
      open: this.#openStreams,
    });
    return new Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      },
    });
  }

  async #upload(
    request: Request,
    params: Record<string, string>,
    record: RecordedRequest,
  ): Promise<Response> {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const session = this.#sessionOf(user, params.sid);
    if (session instanceof Response) return session;
    const type = (request.headers.get('content-type') ?? '').toLowerCase();
    if (type.startsWith('multipart/form-data')) return this.#uploadFiles(request, session, record);
    if (type.startsWith('application/json') || type === '') {
      return this.#uploadUrls(request, session, record);
    }
    return this.#badRequest(
      `unsupported content type "${type}": send multipart/form-data (field "files") or JSON {"urls":[…],"source_type":"url"}`,
    );
  }

  #cdnFileUrl(session: SessionRecord, filename: string): string {
    session.uploads++;
    return `${this.#cdnUrl}/uploads/${session.sessionId}/${session.uploads}-${encodeURIComponent(filename)}`;
  }

  #mediaFile(
    session: SessionRecord,
    filename: string,
    fileType: 'video' | 'image' | 'audio',
    hash: string | undefined,
  ): MediaFile {
    const file: MediaFile = {
      filename,
      file_type: fileType,
      cdn_url: this.#cdnFileUrl(session, filename),
    };
    if (fileType === 'video' || fileType === 'audio') file.duration = DEFAULT_MEDIA.durationSec;
    if (fileType === 'video' || fileType === 'image') {
      file.width = DEFAULT_MEDIA.width;
      file.height = DEFAULT_MEDIA.height;
    }
    if (fileType === 'video') file.fps = DEFAULT_MEDIA.fps;
    if (hash !== undefined) file.hash = hash;
    return file;
  }

  async #uploadFiles(
    request: Request,
    session: SessionRecord,
    record: RecordedRequest,
  ): Promise<Response> {
    const parse: MultipartParse = parseMultipart(request, this.#settings.maxUploadBytes, 'files');
    const summarize = (parsed: {
      files: { field: string; filename: string; mimeType: string; size: number }[];
      fields: Record<string, string>;
    }) => {
      record.body = {
        type: 'multipart',
        files: parsed.files.map((f) => ({
          field: f.field,
          filename: f.filename,
          mimeType: f.mimeType,
          size: f.size,
        })),
        fields: { ...parsed.fields },
      } satisfies BodySummary;
    };
    // Answer as soon as the verdict is known; the rest of the body is drained in the background.
    parse.done.then(summarize, () => undefined);
    const outcome = await Promise.race([
      parse.done.then((r) => ({ kind: 'done' as const, r })),
      parse.firstError.then((e) => ({ kind: 'error' as const, e })),
    ]);
    if (outcome.kind === 'error' || outcome.r.error) {
      const e = outcome.kind === 'error' ? outcome.e : outcome.r.error!;
      if (e.httpStatus)
        return jsonResponse({ code: e.code, message: e.message, data: null }, e.httpStatus);
      return this.#apiError(e.code, e.message);
    }
    summarize(outcome.r);
    const files = outcome.r.files.map((f) =>
      this.#mediaFile(session, f.filename, f.fileType ?? 'video', f.hash),
    );
    session.videoInfos.push(...clone(files));
    return this.#ok({ files, session_state_applied: true });
  }

  async #uploadUrls(
    request: Request,
    session: SessionRecord,
    record: RecordedRequest,
  ): Promise<Response> {
    const body = await this.#readJson(request, record);
    if (body instanceof Response) return body;
    const value = body.value;
    if (!isRecord(value) || !Array.isArray(value.urls) || value.urls.length === 0) {
      return this.#badRequest('body must be {"urls":["<url>"],"source_type":"url"}');
    }
    if (value.source_type !== 'url') return this.#badRequest('source_type must be "url"');
    const files: MediaFile[] = [];
    for (const raw of value.urls) {
      let url: URL;
      try {
        if (typeof raw !== 'string') throw new Error('not a string');
        url = new URL(raw);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        return this.#badRequest(`not an http(s) URL: ${JSON.stringify(raw)}`);
      }
      const host = url.hostname.replace(/^www\.|^m\./, '');
      const youtube = host === 'youtube.com' || host === 'youtu.be';
      let filename: string;
      let fileType: 'video' | 'image' | 'audio' | undefined;
      if (youtube) {
        const vid =
          url.searchParams.get('v') ?? url.pathname.split('/').filter(Boolean).pop() ?? 'video';
        filename = `youtube_${vid}.mp4`;
        fileType = 'video';
      } else {
        const last = decodeURIComponent(url.pathname.split('/').filter(Boolean).pop() ?? '');
        const ext = extensionOf(last);
        filename = ext ? last : `${last || 'video'}.mp4`;
        fileType = ext ? fileTypeOf(last, '') : 'video';
      }
      if (!fileType) {
        return this.#apiError(
          CODES.unsupportedType,
          `Unsupported file type: ${filename}. Accepted formats: ${ACCEPTED_LIST}`,
        );
      }
      files.push(this.#mediaFile(session, filename, fileType, undefined));
    }
    session.videoInfos.push(...clone(files));
    return this.#ok({ files, session_state_applied: true });
  }

  #credits(request: Request): Response {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    return this.#ok({
      available: user.available,
      frozen: user.frozen,
      total: user.available + user.frozen,
    });
  }

  #state(request: Request, params: Record<string, string>): Response {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const session = this.#sessionOf(user, params.sid);
    if (session instanceof Response) return session;
    const state: Record<string, unknown> = {
      draft: clone(session.draft),
      video_infos: clone(session.videoInfos),
      generated_media: clone(session.generatedMedia),
    };
    const m = session.draft?.m;
    if (m && typeof m.width === 'number' && typeof m.height === 'number') {
      state.canvas_config = { width: m.width, height: m.height, ratio: ratioOf(m.width, m.height) };
    }
    return this.#ok({
      session_id: session.sessionId,
      task_id: session.taskId,
      task_name: session.taskName,
      state,
    });
  }

  // ---------------------------------------------------------------- render

  #renderError(status: number, message: string): Response {
    return jsonResponse(
      this.#settings.renderShape === 'wrapped'
        ? { success: false, error: message }
        : { error: message },
      status,
    );
  }

  #markFailure(job: RenderJob): void {
    const f = this.#renderFailure;
    if (!f || f.remaining <= 0) return;
    f.remaining--;
    job.failAt = f.atProgress;
    job.failReason = f.reason;
  }

  async #renderStart(request: Request, _p: unknown, record: RecordedRequest): Promise<Response> {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const missing = HEADERS.attribution.filter((h) => !request.headers.get(h)?.trim());
    if (missing.length > 0) {
      return jsonResponse(
        {
          success: false,
          error: `Payment Required: export is blocked on the free plan for requests without attribution (missing ${missing.join(', ')})`,
        },
        402,
      );
    }
    const body = await this.#readJson(request, record);
    if (body instanceof Response) return body;
    const value = body.value;
    if (!isRecord(value)) return this.#renderError(400, 'body must be a JSON object');
    if (typeof value.id !== 'string' || value.id === '')
      return this.#renderError(400, 'id is required (a unique string)');
    if (typeof value.sessionId !== 'string')
      return this.#renderError(400, 'sessionId is required (a string)');
    const session = this.#sessionOf(user, value.sessionId);
    if (session instanceof Response) return session;
    if (this.#renders.has(value.id))
      return this.#renderError(409, `render id already exists: ${value.id}`);
    if (!isRenderable(value.draft)) {
      return this.#renderError(
        400,
        'draft is not ready to export: it needs a track with at least one segment',
      );
    }
    const output = isRecord(value.output) ? value.output : { format: 'mp4', quality: 'high' };
    if (output.format !== undefined && output.format !== 'mp4') {
      return this.#renderError(
        400,
        `unsupported output format: ${String(output.format)} (mp4 only)`,
      );
    }
    const now = this.#clock.now();
    const job: RenderJob = {
      id: value.id,
      sessionId: session.sessionId,
      userId: user.userId,
      draft: clone(value.draft),
      output: clone(output),
      createdAt: now,
      durationMs: this.#settings.renderDurationMs,
      sizeBytes: resultSize(this.#settings.resultSizeBytes || undefined),
      failAt: undefined,
      failReason: undefined,
      cancelledAt: undefined,
    };
    this.#markFailure(job);
    this.#renders.set(job.id, job);
    const view = this.#view(job, now);
    if (this.#settings.renderShape === 'wrapped') {
      return jsonResponse({
        success: true,
        data: {
          id: job.id,
          status: view.status,
          progress: view.progress,
          createdAt: view.createdAt,
        },
      });
    }
    return jsonResponse({ id: job.id, status: view.status, progress: view.progress });
  }

  #progressAt(job: RenderJob, at: number): number {
    if (job.durationMs <= 0) return 100;
    const elapsed = at - job.createdAt;
    if (elapsed >= job.durationMs) return 100;
    if (elapsed < job.durationMs * RENDER.pendingFraction) return 0;
    return Math.min(99, Math.max(1, Math.floor((elapsed / job.durationMs) * 100)));
  }

  #view(job: RenderJob, now: number): RenderView {
    const base = {
      id: job.id,
      sessionId: job.sessionId,
      createdAt: new Date(job.createdAt).toISOString(),
      durationSec: draftDurationSec(job.draft),
      sizeBytes: job.sizeBytes,
    };
    const at = job.cancelledAt ?? now;
    let progress = this.#progressAt(job, at);
    if (job.failAt !== undefined && progress >= job.failAt) {
      progress = job.failAt;
      const failedAt = job.createdAt + (job.durationMs * job.failAt) / 100;
      return {
        ...base,
        status: 'failed',
        progress,
        url: undefined,
        error: job.failReason ?? 'Render failed',
        completedAt: new Date(failedAt).toISOString(),
      };
    }
    if (job.cancelledAt !== undefined) {
      return {
        ...base,
        status: 'cancelled',
        progress,
        url: undefined,
        error: undefined,
        completedAt: new Date(job.cancelledAt).toISOString(),
      };
    }
    if (progress >= 100) {
      return {
        ...base,
        status: 'completed',
        progress: 100,
        url: `${this.#cdnUrl}/renders/${encodeURIComponent(job.id)}.mp4`,
        error: undefined,
        completedAt: new Date(job.createdAt + job.durationMs).toISOString(),
      };
    }
    return {
      ...base,
      status: progress === 0 ? 'pending' : 'processing',
      progress,
      url: undefined,
      error: undefined,
      completedAt: undefined,
    };
  }

  #isTerminal(view: RenderView): boolean {
    return view.status === 'completed' || view.status === 'failed' || view.status === 'cancelled';
  }

  #jobOf(
    request: Request,
    id: string | undefined,
  ): { job: RenderJob; view: RenderView } | Response {
    const user = this.#authenticate(request);
    if (user instanceof Response) return user;
    const job = id === undefined ? undefined : this.#renders.get(id);
    if (!job || job.userId !== user.userId)
      return this.#renderError(404, `render not found: ${id ?? ''}`);
    return { job, view: this.#view(job, this.#clock.now()) };
  }

  #renderPoll(request: Request, params: Record<string, string>): Response {
    const found = this.#jobOf(request, params.id);
    if (found instanceof Response) return found;
    const v = found.view;
    if (this.#settings.renderShape === 'wrapped') {
      const data: Record<string, unknown> = {
        id: v.id,
        status: v.status,
        progress: v.progress,
        outputUrl: v.url ?? null,
        createdAt: v.createdAt,
        completedAt: v.completedAt ?? null,
      };
      if (v.error !== undefined) data.error = v.error;
      return jsonResponse({ success: true, data });
    }
    const body: Record<string, unknown> = { id: v.id, status: v.status, progress: v.progress };
    if (v.url !== undefined)
      body.output = { url: v.url, duration: v.durationSec, size: v.sizeBytes };
    if (v.error !== undefined) body.error = v.error;
    return jsonResponse(body);
  }

  #renderCancel(request: Request, params: Record<string, string>): Response {
    const found = this.#jobOf(request, params.id);
    if (found instanceof Response) return found;
    if (this.#isTerminal(found.view)) {
      return this.#renderError(409, `render ${found.job.id} is already ${found.view.status}`);
    }
    found.job.cancelledAt = this.#clock.now();
    const body = { id: found.job.id, status: 'cancelled' };
    return jsonResponse(
      this.#settings.renderShape === 'wrapped' ? { success: true, data: body } : body,
    );
  }

  #renderDownload(request: Request, params: Record<string, string>): Response {
    const found = this.#jobOf(request, params.id);
    if (found instanceof Response) return found;
    if (found.view.status !== 'completed') {
      return this.#renderError(
        409,
        `render ${found.job.id} is ${found.view.status}, not completed`,
      );
    }
    return resultResponse(request, found.job.sizeBytes, `${found.job.id}.mp4`);
  }

  // ---------------------------------------------------------------- CDN

  #cdnRender(request: Request, params: Record<string, string>): Response {
    const file = params.file ?? '';
    const id = file.endsWith('.mp4') ? file.slice(0, -4) : file;
    const job = this.#renders.get(id);
    if (!job || this.#view(job, this.#clock.now()).status !== 'completed') {
      return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
    return resultResponse(request, job.sizeBytes, `${job.id}.mp4`);
  }

  #cdnUpload(request: Request, params: Record<string, string>): Response {
    const file = params.file ?? '';
    if (fileTypeOf(file, '') !== 'video') {
      return new Response('Not Found', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
    return resultResponse(request, resultMp4().length, file);
  }
}

function ratioOf(w: number, h: number): string {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(w, h) || 1;
  return `${w / g}:${h / g}`;
}

function draftDurationSec(draft: unknown): number {
  const d = isRecord(draft) ? draft.d : undefined;
  return typeof d === 'number' && d > 0 ? d / 1000 : 2;
}

/** Wrap a response body so it stops after `cutAfterBytes` bytes (an error or a clean end). */
function cutBody(response: Response, o: FaultOptions): Response {
  const source = response.body;
  if (!source) return response;
  const limit = o.cutAfterBytes ?? 0;
  let sent = 0;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        await reader.cancel();
        if (o.cutMode === 'close') controller.close();
        else controller.error(new Error('emulator: connection cut (fault injection)'));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const room = limit - sent;
      const chunk = value.byteLength > room ? value.subarray(0, room) : value;
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

/**
 * Create an emulator of the NemoVideo API (msw-free core; `nemovideo/testing` adds the msw
 * `handlers`).
 *
 * @example
 * ```ts
 * const emulator = createCoreEmulator({ renderDurationMs: 0 });
 * const server = await emulator.listen();
 * console.log(server.url);
 * ```
 */
export function createCoreEmulator(options: EmulatorOptions = {}): Emulator {
  return new Emulator(options);
}
