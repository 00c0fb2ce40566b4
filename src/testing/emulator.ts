/**
 * The emulator: one object wiring the state (store.ts), the faults (faults.ts), the request
 * log (log.ts) and the route tables (handlers/*) into the app (app.ts), with the test
 * controls as methods. One web-standard entry point, `handle(request)`, serves every way in:
 * msw (`nemovideo/testing/msw`), `listen()` (node:http, loaded lazily), any fetch-style host.
 * No msw and no static Node import here.
 *
 * @module
 */

import { App } from './app.js';
import { type FaultInfo, Faults } from './faults.js';
import { cdnRoutes } from './handlers/cdn.js';
import { chatRoutes } from './handlers/chat.js';
import { controlRoutes } from './handlers/control.js';
import { creditRoutes } from './handlers/credits.js';
import { renderRoutes } from './handlers/renders.js';
import { sessionRoutes } from './handlers/sessions.js';
import { stateRoutes } from './handlers/state.js';
import { tokenRoutes } from './handlers/tokens.js';
import { uploadRoutes } from './handlers/uploads.js';
import { isTerminal, markFailure, markStall, releaseStall } from './jobs.js';
import { RequestLog } from './log.js';
import { resultSize } from './media.js';
import { RENDER } from './protocol.js';
import { type Env, Router } from './router.js';
import { Store } from './store.js';
import type {
  AgentFn,
  ChangeResultOptions,
  EmulatorOptions,
  EmulatorServer,
  EmulatorStats,
  ExpiredUrlStatus,
  ExpireResultUrlsOptions,
  FailRendersOptions,
  FaultHandle,
  FaultOptions,
  IssuedToken,
  ListenOptions,
  RecordedRequest,
  RenderView,
  RuntimeOptions,
  SessionSnapshot,
  StallRendersOptions,
} from './types.js';
import { clone } from './util.js';

const EXPIRED_STATUSES: readonly number[] = [403, 404, 410];

function checkExpiredStatus(status: unknown, where: string): ExpiredUrlStatus | undefined {
  if (status === undefined) return undefined;
  if (!EXPIRED_STATUSES.includes(status as number)) {
    throw new TypeError(`${where}: status must be 403, 404 or 410, got ${String(status)}`);
  }
  return status as ExpiredUrlStatus;
}

function checkProgress(value: number | undefined, where: string, fallback: number): number {
  const p = value ?? fallback;
  if (!Number.isFinite(p) || p < 0 || p > 99) {
    throw new RangeError(`${where}: atProgress must be from 0 to 99, got ${String(value)}`);
  }
  return p;
}

/**
 * A stateful emulator of the NemoVideo API. Create one with `createEmulator()`.
 *
 * @example
 * ```ts
 * import { createEmulator } from 'nemovideo/testing';
 *
 * const emulator = createEmulator();
 * const res = await emulator.handle(
 *   new Request(`${emulator.baseUrl}/api/auth/anonymous-token`, {
 *     method: 'POST',
 *     headers: { 'X-Client-Id': 'test' },
 *   }),
 * );
 * console.log(await res.json()); // { code: 0, data: { token: 'nmv_usr_…', credits: 100, … } }
 * ```
 */
export class Emulator {
  readonly #store: Store;
  readonly #log: RequestLog;
  readonly #faults = new Faults();
  readonly #streams = new Set<() => void>();
  readonly #servers = new Set<EmulatorServer>();
  readonly #app: App;

  constructor(options: EmulatorOptions = {}) {
    this.#store = new Store(options);
    this.#log = new RequestLog(options.requestLogLimit ?? Infinity);
    const env: Env = { store: this.#store, log: this.#log, streams: this.#streams };
    this.#app = new App(env, this.#faults, {
      api: new Router([
        ...tokenRoutes,
        ...sessionRoutes,
        ...chatRoutes,
        ...uploadRoutes,
        ...creditRoutes,
        ...stateRoutes,
        ...renderRoutes,
      ]),
      cdn: new Router(cdnRoutes),
      control: new Router(controlRoutes(this)),
    });
  }

  /** Every request received (API and CDN), oldest first. Headers include `authorization`: a test log, never print it. */
  get requests(): RecordedRequest[] {
    return this.#log.requests;
  }

  /** The API base URL the msw handlers serve (`baseUrl` option, else `NEMO_API_URL`, else production). */
  get baseUrl(): string {
    return this.#store.baseUrl;
  }

  /** The CDN origin result URLs point to (the CDN server's origin while `listen()`ing). */
  get cdnUrl(): string {
    return this.#store.cdnUrl;
  }

  /** Current run-time settings (see `configure`). */
  get settings(): Readonly<Required<RuntimeOptions>> {
    return this.#store.settings;
  }

  // ---------------------------------------------------------------- entry points

  /**
   * Answer one request. Requests to the CDN origin are served as CDN requests, all others as
   * API requests (whatever their origin).
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const res = await emulator.handle(new Request(`${emulator.baseUrl}/api/credits/balance/simple`));
   * console.log(res.status); // 200, with JSON code 1001: no bearer token
   * ```
   */
  handle(request: Request): Promise<Response> {
    const origin = new URL(request.url).origin;
    const cdn = origin === this.#store.cdnUrl || origin === this.#store.defaultCdnUrl;
    return this.#app.fetch(request, cdn ? 'cdn' : 'api');
  }

  /**
   * Answer one request as the API, whatever its origin.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const res = await emulator.handleApi(new Request('http://x/api/credits/balance/simple'));
   * ```
   */
  handleApi(request: Request): Promise<Response> {
    return this.#app.fetch(request, 'api');
  }

  /**
   * Answer one request as the CDN, whatever its origin.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const res = await emulator.handleCdn(new Request('http://x/renders/render_1.mp4'));
   * console.log(res.status); // 404: no such render
   * ```
   */
  handleCdn(request: Request): Promise<Response> {
    return this.#app.fetch(request, 'cdn');
  }

  /**
   * Serve the emulator over HTTP: the API on `port` and the CDN on `cdnPort` (both default
   * 0: any free port) of `host` (default 127.0.0.1), CORS enabled. Node only.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const server = await emulator.listen({ port: 0 });
   * console.log(server.url, server.cdnUrl);
   * await server.close();
   * ```
   */
  async listen(options: ListenOptions = {}): Promise<EmulatorServer> {
    const { startServer } = await import('./server.js');
    const store = this.#store;
    const server = await startServer(this, options, {
      attach: (cdnUrl) => {
        store.cdnUrl = cdnUrl;
      },
      detach: (cdnUrl) => {
        if (store.cdnUrl === cdnUrl) store.cdnUrl = store.defaultCdnUrl;
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

  // ---------------------------------------------------------------- faults

  /**
   * Make matching requests fail. `route` is `'METHOD /path'` or `'/path'` (any method), with
   * `:param` and `*` wildcards, or a RegExp tested on the path. Applies to API and CDN paths.
   * Returns a handle to inspect or remove the fault.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.fail('POST /run_sse', { status: 503, times: 2 });
   * emulator.fail('POST /run_sse', { cutAfterEvents: 2 });
   * emulator.fail('GET /api/credits/balance/simple', { code: 1001 });
   * emulator.fail('GET /renders/*', { cutAfterBytes: 1000 });
   * const always = emulator.fail('GET /renders/*', { ignoreRange: true, times: Infinity });
   * always.remove();
   * ```
   */
  fail(route: string | RegExp, options: FaultOptions = {}): FaultHandle & { readonly id: string } {
    return this.#faults.add(route, options);
  }

  /** The faults in force, with their ids (as the control API lists them). */
  faults(): FaultInfo[] {
    return this.#faults.list();
  }

  /** Remove a fault by id; false when there is none. */
  removeFault(id: string): boolean {
    return this.#faults.remove(id);
  }

  // ---------------------------------------------------------------- agent, tokens, credits

  /**
   * Script the agent's turns. The function receives the user message and a context, and
   * returns the items of the turn (array, iterable or async iterable; see `AgentItem`).
   * `emulator.agent(undefined)` restores the default agent.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.agent((message) => [
   *   { text: `You said: ${message}` },
   *   { toolCall: { name: 'add_text', args: { text: 'Hi' } } },
   *   { toolResult: { name: 'add_text', response: { status: 'success' } } },
   * ]);
   * ```
   */
  agent(fn: AgentFn | undefined): void {
    this.#store.agent = fn;
  }

  /**
   * Set the available credits of every existing user (or of `userId`); without `userId` it
   * also sets the credits future anonymous users start with.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.setCredits(0); // the next editing turn answers code 2001
   * ```
   */
  setCredits(credits: number, userId?: string): void {
    const store = this.#store;
    for (const user of store.users.values()) {
      if (userId === undefined || user.userId === userId) user.available = credits;
    }
    if (userId === undefined) store.initialCredits = credits;
  }

  /**
   * Expire every token issued so far: bearer requests answer 1001, and the anonymous-token
   * endpoint issues a new token for the same client id (same user, sessions kept).
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.expireTokens();
   * ```
   */
  expireTokens(): void {
    const now = this.#store.now();
    for (const t of this.#store.tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  /**
   * Issue an anonymous token directly (as if `POST /api/auth/anonymous-token` was called),
   * for tests that configure a client with an explicit token.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const { token } = emulator.issueToken();
   * ```
   */
  issueToken(clientId: string = crypto.randomUUID()): IssuedToken {
    const t = this.#store.issueToken(clientId);
    return {
      token: t.token,
      userId: t.userId,
      clientId,
      expiresAt: new Date(t.expiresAt).toISOString(),
    };
  }

  // ---------------------------------------------------------------- renders and results

  /**
   * Make renders fail with `reason`: running ones and the next ones, `times` in all (default
   * all), when they reach `atProgress` % (default 40).
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.failRenders('Lambda timeout', { times: 1 });
   * ```
   */
  failRenders(reason = 'Render failed', options: FailRendersOptions = {}): void {
    const store = this.#store;
    store.renderFailure = {
      reason,
      remaining: options.times ?? Infinity,
      atProgress: options.atProgress ?? RENDER.failAtProgress,
    };
    for (const job of store.renders.values()) {
      if (job.failAt === undefined && !isTerminal(store.renderView(job))) {
        markFailure(job, store.renderFailure);
      }
    }
  }

  /**
   * Make renders stand still at `atProgress` % (default 50), `processing`, until
   * `releaseRenders()`: running ones and the next ones, `times` in all (default all). The time
   * a render stands still is added to its duration. For tests that kill a process mid-render.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.stallRenders({ atProgress: 50 });
   * // … the client polls "processing, 50 %" for as long as the test wants …
   * emulator.releaseRenders();
   * ```
   */
  stallRenders(options: StallRendersOptions = {}): void {
    const store = this.#store;
    store.renderStall = {
      reason: '',
      remaining: options.times ?? Infinity,
      atProgress: checkProgress(options.atProgress, 'stallRenders', 50),
    };
    for (const job of store.renders.values()) {
      if (job.stallAt === undefined && !isTerminal(store.renderView(job))) {
        markStall(job, store.renderStall);
      }
    }
  }

  /**
   * Let stalled renders move on (from where they stood) and stop stalling new ones.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.releaseRenders();
   * ```
   */
  releaseRenders(): void {
    const now = this.#store.now();
    this.#store.renderStall = undefined;
    for (const job of this.#store.renders.values()) releaseStall(job, now);
  }

  /**
   * Expire the result URLs handed out so far (of every render, or of `renderId`): the CDN
   * answers them with `status` (403, 404 or 410; default the `expiredUrlStatus` option, 403),
   * and the next poll of the render hands out a fresh, valid URL. The fallback download
   * endpoint keeps working.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.expireResultUrls({ status: 410 });
   * ```
   */
  expireResultUrls(options: ExpireResultUrlsOptions = {}): void {
    const store = this.#store;
    const status =
      checkExpiredStatus(options.status, 'expireResultUrls') ?? store.settings.expiredUrlStatus;
    for (const job of store.renders.values()) {
      if (options.renderId !== undefined && job.id !== options.renderId) continue;
      job.urlGeneration++;
      job.expiredStatus = status;
    }
  }

  /**
   * Replace the result of completed renders (every one, or `renderId`) as a re-render would:
   * other bytes (still a valid MP4), optionally another size, a new `ETag` and
   * `Last-Modified`, at the same URL. A download resumed with `If-Range` then gets the whole
   * new file (200), not the rest of the old one.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.changeResult({ renderId: 'render_1' });
   * ```
   */
  changeResult(options: ChangeResultOptions = {}): void {
    const store = this.#store;
    const now = store.now();
    for (const job of store.renders.values()) {
      if (options.renderId !== undefined && job.id !== options.renderId) continue;
      if (store.renderView(job).status !== 'completed') continue;
      job.version++;
      job.changedAt = now;
      if (options.sizeBytes !== undefined) job.sizeBytes = resultSize(options.sizeBytes);
    }
  }

  // ---------------------------------------------------------------- settings and state

  /**
   * Change run-time settings (event style, heartbeats, render shape and duration, result size,
   * upload limit, error status mode, result URL lifetime).
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.configure({ eventStyle: 'typed', renderShape: 'wrapped' });
   * ```
   */
  configure(options: RuntimeOptions): void {
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ) as RuntimeOptions;
    checkExpiredStatus(defined.expiredUrlStatus, 'configure');
    this.#store.settings = { ...this.#store.settings, ...defined };
  }

  /**
   * A snapshot of a session (draft, uploaded files…), or undefined.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * console.log(emulator.session('5529798706024415232')); // undefined: no such session
   * ```
   */
  session(sessionId: string): SessionSnapshot | undefined {
    const s = this.#store.sessions.get(sessionId);
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
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * console.log(emulator.render('render_1')?.status); // undefined: no such render
   * ```
   */
  render(id: string): RenderView | undefined {
    const job = this.#store.renders.get(id);
    return job ? this.#store.renderView(job) : undefined;
  }

  /**
   * Credits of a user (`available`, `frozen`), or undefined.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const { userId } = emulator.issueToken();
   * console.log(emulator.credits(userId)); // { available: 100, frozen: 0 }
   * ```
   */
  credits(userId: string): { available: number; frozen: number } | undefined {
    const u = this.#store.users.get(userId);
    return u ? { available: u.available, frozen: u.frozen } : undefined;
  }

  /**
   * Counters per route since the start or the last `reset()`: requests, statuses, file bytes
   * sent. Exact whatever `requestLogLimit` is; the same as `GET /_emulator/stats`.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * const stats = emulator.stats();
   * console.log(stats['POST /run_sse']?.count ?? 0, stats['POST /api/render/proxy/lambda']?.count ?? 0);
   * ```
   */
  stats(): EmulatorStats {
    return this.#log.stats();
  }

  /**
   * Forget everything: tokens, users, sessions, renders, faults, the request log and counters,
   * the custom agent and run-time settings; open streams are closed. Servers keep listening.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * emulator.reset();
   * ```
   */
  reset(): void {
    this.#closeStreams();
    this.#log.reset();
    this.#faults.clear();
    this.#store.reset();
  }

  /**
   * Close every server started by `listen()` and every open stream.
   *
   * @example
   * ```ts
   * import { createEmulator } from 'nemovideo/testing';
   *
   * const emulator = createEmulator();
   * await emulator.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closeStreams();
    await Promise.all([...this.#servers].map((s) => s.close()));
  }

  #closeStreams(): void {
    for (const close of [...this.#streams]) close();
    this.#streams.clear();
  }
}

/**
 * Create an emulator of the NemoVideo API: stateful, in memory, answering the exact wire
 * shapes of the contract. Serve it with msw (`mswHandlers(emulator)` from
 * `nemovideo/testing/msw`), over HTTP (`emulator.listen()`), or call `emulator.handle(request)`.
 *
 * @example
 * ```ts
 * import { createEmulator } from 'nemovideo/testing';
 *
 * const emulator = createEmulator({ renderDurationMs: 0 });
 * const server = await emulator.listen({ port: 0 });
 * console.log(`API ${server.url}, CDN ${server.cdnUrl}`);
 * await emulator.close();
 * ```
 */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  return new Emulator(options);
}
