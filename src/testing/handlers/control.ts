/**
 * The control API: the emulator's test controls over HTTP, under `/_emulator/` on the API
 * origin, for tests that run the emulator in another process (`nemovideo emulator`) or drive
 * it from several processes. Control requests are not logged, counted or faulted. Bearer
 * tokens in the request log it returns are redacted. `connectEmulator(url)` is its client.
 *
 * @module
 */

import { HttpError } from '../errors.js';
import type { FaultInfo } from '../faults.js';
import { type Context, type Route, route } from '../router.js';
import type {
  ChangeResultOptions,
  EmulatorStats,
  ExpireResultUrlsOptions,
  FailRendersOptions,
  FaultHandle,
  FaultOptions,
  IssuedToken,
  RecordedRequest,
  RenderView,
  RuntimeOptions,
  SessionSnapshot,
  StallRendersOptions,
} from '../types.js';
import { isRecord, jsonResponse } from '../util.js';

/** Prefix of the control API paths. */
export const CONTROL_PREFIX = '/_emulator';

/** The controls the API exposes (implemented by the emulator). */
export interface Controls {
  readonly requests: readonly RecordedRequest[];
  readonly settings: Readonly<Required<RuntimeOptions>>;
  fail(route: string, options?: FaultOptions): FaultHandle & { readonly id: string };
  faults(): FaultInfo[];
  removeFault(id: string): boolean;
  configure(options: RuntimeOptions): void;
  reset(): void;
  expireTokens(): void;
  setCredits(credits: number, userId?: string): void;
  credits(userId: string): { available: number; frozen: number } | undefined;
  issueToken(clientId?: string): IssuedToken;
  failRenders(reason?: string, options?: FailRendersOptions): void;
  stallRenders(options?: StallRendersOptions): void;
  releaseRenders(): void;
  expireResultUrls(options?: ExpireResultUrlsOptions): void;
  changeResult(options?: ChangeResultOptions): void;
  session(id: string): SessionSnapshot | undefined;
  render(id: string): RenderView | undefined;
  stats(): EmulatorStats;
}

function invalid(message: string): HttpError {
  return new HttpError(400, { message: `control API: ${message}` });
}

async function body(c: Context): Promise<Record<string, unknown>> {
  const text = await c.request.text();
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('the body must be JSON');
  }
  if (!isRecord(value)) throw invalid('the body must be a JSON object');
  return value;
}

/** `times` and other counts: a number, or "Infinity" (JSON has no Infinity). */
function count(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'Infinity') return Infinity;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw invalid(`${name} must be a number ≥ 0 or "Infinity"`);
  }
  return value;
}

function optional<T>(value: unknown, name: string, check: (v: unknown) => boolean): T | undefined {
  if (value === undefined) return undefined;
  if (!check(value)) throw invalid(`${name} has the wrong type`);
  return value as T;
}

const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** The type of each fault option, checked before a fault is registered over HTTP. */
const FAULT_OPTIONS: Record<string, (v: unknown) => boolean> = {
  status: isNumber,
  code: isNumber,
  message: isString,
  body: () => true,
  headers: (v) => isRecord(v) && Object.values(v).every(isString),
  times: () => true, // checked by count()
  delayMs: isNumber,
  cutAfterEvents: isNumber,
  cutAfterBytes: isNumber,
  cutMode: (v) => v === 'error' || v === 'close',
  stallAfterEvents: isNumber,
  stallWith: (v) => v === 'silence' || v === 'heartbeats',
  stallAfterBytes: isNumber,
  ignoreRange: (v) => typeof v === 'boolean',
};

function faultOptions(value: Record<string, unknown>): FaultOptions {
  for (const [key, v] of Object.entries(value)) {
    const check = FAULT_OPTIONS[key];
    if (!check) {
      throw invalid(
        `unknown fault option "${key}" (known: ${Object.keys(FAULT_OPTIONS).join(', ')})`,
      );
    }
    if (!check(v)) throw invalid(`fault option ${key} has the wrong type`);
  }
  const times = count(value.times, 'times');
  return { ...(value as FaultOptions), ...(times !== undefined ? { times } : {}) };
}

/** The request log entry with its bearer token redacted. */
function redacted(r: RecordedRequest): RecordedRequest {
  const auth = r.headers.authorization;
  if (auth === undefined) return r;
  const scheme = /^\S+/.exec(auth)?.[0] ?? '';
  return { ...r, headers: { ...r.headers, authorization: `${scheme} [redacted]`.trim() } };
}

const done = () => jsonResponse({ ok: true });
const found = (value: unknown, what: string) => {
  if (value === undefined) throw new HttpError(404, { message: `control API: no such ${what}` });
  return jsonResponse(value);
};

/** The control API's route table. */
export function controlRoutes(controls: Controls): Route[] {
  const p = (path: string) => `${CONTROL_PREFIX}${path}`;
  return [
    route('GET', p('/stats'), () => jsonResponse(controls.stats())),
    route('GET', p('/requests'), (c) => {
      const q = c.url.searchParams;
      const since = Number(q.get('since') ?? 0);
      const list = controls.requests.filter(
        (r) =>
          (q.get('origin') === null || r.origin === q.get('origin')) &&
          (q.get('method') === null || r.method === q.get('method')?.toUpperCase()) &&
          (q.get('path') === null || r.path === q.get('path')) &&
          (q.get('route') === null || r.route === q.get('route')) &&
          r.at >= since,
      );
      return jsonResponse(list.map(redacted));
    }),
    route('GET', p('/settings'), () => jsonResponse(controls.settings)),
    route('POST', p('/configure'), async (c) => {
      controls.configure((await body(c)) as RuntimeOptions);
      return jsonResponse(controls.settings);
    }),
    route('POST', p('/reset'), () => {
      controls.reset();
      return done();
    }),
    route('GET', p('/faults'), () => jsonResponse(controls.faults())),
    route('POST', p('/faults'), async (c) => {
      const { route: path, ...options } = await body(c);
      if (typeof path !== 'string') throw invalid('route is required, e.g. "POST /run_sse"');
      const fault = controls.fail(path, faultOptions(options));
      return jsonResponse({ id: fault.id, route: path, remaining: fault.remaining }, 201);
    }),
    route('DELETE', p('/faults/:id'), (c) => {
      if (!controls.removeFault(c.params.id ?? '')) {
        throw new HttpError(404, { message: `control API: no fault ${c.params.id}` });
      }
      return done();
    }),
    route('POST', p('/expire-tokens'), () => {
      controls.expireTokens();
      return done();
    }),
    route('POST', p('/tokens'), async (c) => {
      const b = await body(c);
      const clientId = optional<string>(b.clientId, 'clientId', isString);
      return jsonResponse(controls.issueToken(clientId), 201);
    }),
    route('POST', p('/credits'), async (c) => {
      const b = await body(c);
      const credits = optional<number>(b.credits, 'credits', isNumber);
      if (credits === undefined) throw invalid('credits is required (a number)');
      controls.setCredits(credits, optional<string>(b.userId, 'userId', isString));
      return done();
    }),
    route('GET', p('/credits/:userId'), (c) =>
      found(controls.credits(c.params.userId ?? ''), 'user'),
    ),
    route('POST', p('/fail-renders'), async (c) => {
      const b = await body(c);
      const options: FailRendersOptions = {};
      const times = count(b.times, 'times');
      const atProgress = optional<number>(b.atProgress, 'atProgress', isNumber);
      if (times !== undefined) options.times = times;
      if (atProgress !== undefined) options.atProgress = atProgress;
      controls.failRenders(optional<string>(b.reason, 'reason', isString), options);
      return done();
    }),
    route('POST', p('/stall-renders'), async (c) => {
      const b = await body(c);
      const options: StallRendersOptions = {};
      const times = count(b.times, 'times');
      const atProgress = optional<number>(b.atProgress, 'atProgress', isNumber);
      if (times !== undefined) options.times = times;
      if (atProgress !== undefined) options.atProgress = atProgress;
      controls.stallRenders(options);
      return done();
    }),
    route('POST', p('/release-renders'), () => {
      controls.releaseRenders();
      return done();
    }),
    route('POST', p('/expire-result-urls'), async (c) => {
      controls.expireResultUrls((await body(c)) as ExpireResultUrlsOptions);
      return done();
    }),
    route('POST', p('/change-result'), async (c) => {
      controls.changeResult((await body(c)) as ChangeResultOptions);
      return done();
    }),
    route('GET', p('/sessions/:id'), (c) => found(controls.session(c.params.id ?? ''), 'session')),
    route('GET', p('/renders/:id'), (c) => found(controls.render(c.params.id ?? ''), 'render')),
  ];
}
