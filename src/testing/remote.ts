/**
 * `connectEmulator(url)`: the client of the control API, for an emulator running in another
 * process (`nemovideo emulator --port 0`) or shared by several processes. The same controls as
 * the in-process emulator, over `fetch`, so they return promises.
 *
 * @module
 */

import type {
  ChangeResultOptions,
  EmulatorStats,
  ExpireResultUrlsOptions,
  FailRendersOptions,
  FaultOptions,
  IssuedToken,
  RecordedRequest,
  RenderView,
  RuntimeOptions,
  SessionSnapshot,
  StallRendersOptions,
} from './types.js';

/** A fault registered over the control API. */
export interface RemoteFault {
  readonly id: string;
  /** Remove the fault (resolves false when it was already used up or removed). */
  remove(): Promise<boolean>;
}

/** Which requests `requests()` returns (all given conditions must hold). */
export interface RequestFilter {
  origin?: 'api' | 'cdn';
  method?: string;
  /** Exact path, e.g. `/run_sse`. */
  path?: string;
  /** Route key as in `stats()`, e.g. `GET /renders/:file`. */
  route?: string;
  /** Received at or after this clock time. */
  since?: number;
}

/** An emulator in another process, driven over its control API. */
export interface RemoteEmulator {
  /** The API origin given to `connectEmulator`. */
  readonly url: string;
  fail(route: string, options?: FaultOptions): Promise<RemoteFault>;
  configure(options: RuntimeOptions): Promise<Required<RuntimeOptions>>;
  settings(): Promise<Required<RuntimeOptions>>;
  reset(): Promise<void>;
  expireTokens(): Promise<void>;
  issueToken(clientId?: string): Promise<IssuedToken>;
  setCredits(credits: number, userId?: string): Promise<void>;
  credits(userId: string): Promise<{ available: number; frozen: number } | undefined>;
  failRenders(reason?: string, options?: FailRendersOptions): Promise<void>;
  stallRenders(options?: StallRendersOptions): Promise<void>;
  releaseRenders(): Promise<void>;
  expireResultUrls(options?: ExpireResultUrlsOptions): Promise<void>;
  changeResult(options?: ChangeResultOptions): Promise<void>;
  session(sessionId: string): Promise<SessionSnapshot | undefined>;
  render(renderId: string): Promise<RenderView | undefined>;
  /** Counters per route (see `Emulator.stats()`). */
  stats(): Promise<EmulatorStats>;
  /** The request log, filtered; `authorization` values are redacted. */
  requests(filter?: RequestFilter): Promise<RecordedRequest[]>;
}

/** JSON has no Infinity: counts travel as the string "Infinity". */
function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v === Infinity ? 'Infinity' : v));
}

/**
 * Drive an emulator running elsewhere through its control API (`<url>/_emulator/…`).
 *
 * @example
 * ```ts
 * import { connectEmulator } from 'nemovideo/testing';
 *
 * const emulator = connectEmulator('http://127.0.0.1:4010');
 * await emulator.fail('POST /run_sse', { status: 503 });
 * const stats = await emulator.stats();
 * console.log(stats['POST /api/auth/anonymous-token']?.count ?? 0);
 * ```
 */
export function connectEmulator(url: string): RemoteEmulator {
  const base = `${new URL(url).origin}/_emulator`;
  async function call<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = encode(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await fetch(`${base}${path}`, init);
    const text = await res.text();
    if (res.status === 404 && (method === 'GET' || method === 'DELETE')) return undefined;
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON
      }
      throw new Error(`emulator control API: ${method} ${path} → HTTP ${res.status}: ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
  const post = async (path: string, body: unknown = {}) => {
    await call('POST', path, body);
  };
  return {
    url: new URL(url).origin,
    async fail(route, options = {}) {
      const created = await call<{ id: string }>('POST', '/faults', { route, ...options });
      const id = created?.id ?? '';
      return {
        id,
        remove: async () =>
          (await call('DELETE', `/faults/${encodeURIComponent(id)}`)) !== undefined,
      };
    },
    configure: async (options) =>
      (await call<Required<RuntimeOptions>>(
        'POST',
        '/configure',
        options,
      )) as Required<RuntimeOptions>,
    settings: async () =>
      (await call<Required<RuntimeOptions>>('GET', '/settings')) as Required<RuntimeOptions>,
    reset: () => post('/reset'),
    expireTokens: () => post('/expire-tokens'),
    issueToken: async (clientId) =>
      (await call<IssuedToken>(
        'POST',
        '/tokens',
        clientId === undefined ? {} : { clientId },
      )) as IssuedToken,
    setCredits: (credits, userId) =>
      post('/credits', userId === undefined ? { credits } : { credits, userId }),
    credits: (userId) => call('GET', `/credits/${encodeURIComponent(userId)}`),
    failRenders: (reason, options = {}) =>
      post('/fail-renders', reason === undefined ? options : { reason, ...options }),
    stallRenders: (options = {}) => post('/stall-renders', options),
    releaseRenders: () => post('/release-renders'),
    expireResultUrls: (options = {}) => post('/expire-result-urls', options),
    changeResult: (options = {}) => post('/change-result', options),
    session: (id) => call('GET', `/sessions/${encodeURIComponent(id)}`),
    render: (id) => call('GET', `/renders/${encodeURIComponent(id)}`),
    stats: async () => (await call<EmulatorStats>('GET', '/stats')) ?? {},
    requests: async (filter = {}) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
      const query = q.toString() === '' ? '' : `?${q}`;
      return (await call<RecordedRequest[]>('GET', `/requests${query}`)) ?? [];
    },
  };
}
