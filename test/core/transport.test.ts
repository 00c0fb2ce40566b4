import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  ConfigError,
  ExportNotAllowedError,
  FileTooLargeError,
  InsufficientCreditsError,
  isNemoError,
  NemoClient,
  RateLimitError,
  ResponseValidationError,
  SessionNotFoundError,
  UnsupportedFileTypeError,
} from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const TOKEN = 'nmv_usr_test_token_0123456789';

function client(extra: ConstructorParameters<typeof NemoClient>[0] = {}) {
  return new NemoClient({
    token: TOKEN,
    clientIdFile: false,
    maxRetries: 0,
    logLevel: 'off',
    ...extra,
  });
}

describe('requests on the wire', () => {
  it('sends bearer and the three attribution headers, and the documented session body', async () => {
    const seen: { headers: Headers; body: unknown }[] = [];
    server.use(
      http.post(`${BASE}/api/tasks/me/with-session/nemo_agent`, async ({ request }) => {
        seen.push({ headers: request.headers, body: await request.json() });
        return ok({ session_id: '5529798706024415232', task_id: 't1', user_id: 'anon_1' });
      }),
    );
    const session = await client().sessions.create();
    expect(session.id).toBe('5529798706024415232');
    expect(session.taskId).toBe('t1');
    expect(session.userId).toBe('anon_1');
    const [first] = seen;
    expect(first?.body).toEqual({ task_name: 'project', language: 'en' });
    expect(first?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(first?.headers.get('x-skill-source')).toBe('nemovideo');
    expect(first?.headers.get('x-skill-version')).toBe('0.1.0');
    expect(first?.headers.get('x-skill-platform')).toBe('unknown');
    expect(first?.headers.get('x-client-id')).toBeNull();
  });

  it('uses the caller attribution, language and task name', async () => {
    let headers: Headers | undefined;
    let body: unknown;
    server.use(
      http.post(`${BASE}/api/tasks/me/with-session/nemo_agent`, async ({ request }) => {
        headers = request.headers;
        body = await request.json();
        return ok({ session_id: 42 });
      }),
    );
    const session = await client({
      attribution: { source: 'my-app', version: '9.9.9', platform: 'cursor' },
    }).sessions.create({ language: 'zh-CN', taskName: 'promo' });
    expect(body).toEqual({ task_name: 'promo', language: 'zh-CN' });
    expect(headers?.get('x-skill-source')).toBe('my-app');
    expect(headers?.get('x-skill-version')).toBe('9.9.9');
    expect(headers?.get('x-skill-platform')).toBe('cursor');
    // A numeric id on the wire still becomes a string.
    expect(session.id).toBe('42');
  });

  it('opens a session handle without a request and rejects an empty id', () => {
    const c = client();
    const s = c.sessions.open('5529798706024415232');
    expect(s.id).toBe('5529798706024415232');
    expect(() => c.sessions.open('')).toThrow(ConfigError);
  });

  it('honours baseUrl, then NEMO_API_URL, then the production URL', async ({ onTestFinished }) => {
    expect(client().baseUrl).toBe(BASE);
    const prev = process.env.NEMO_API_URL;
    process.env.NEMO_API_URL = 'http://127.0.0.1:4010/';
    onTestFinished(() => {
      if (prev === undefined) delete process.env.NEMO_API_URL;
      else process.env.NEMO_API_URL = prev;
    });
    expect(client().baseUrl).toBe('http://127.0.0.1:4010');
    expect(client({ baseUrl: 'https://example.test/api' }).baseUrl).toBe(
      'https://example.test/api',
    );
    expect(() => client({ baseUrl: 'not a url' })).toThrow(ConfigError);
  });

  it('reads the credit balance from every tolerated envelope', async () => {
    const bodies = [
      { code: 0, data: { available: 90, frozen: 10, total: 100 } },
      { success: true, data: { available: 90, frozen: 10, total: 100 } },
      { available: 90, frozen: 10, total: 100 },
      { code: '0', data: { available: '90', frozen: 10 } },
    ];
    for (const body of bodies) {
      server.use(http.get(`${BASE}/api/credits/balance/simple`, () => HttpResponse.json(body)));
      await expect(client().credits.balance()).resolves.toEqual({
        available: 90,
        frozen: 10,
        total: 100,
      });
    }
  });
});

describe('errors by code and status', () => {
  async function failWith(body: unknown, init: ResponseInit = {}, c = client()) {
    server.use(http.get(`${BASE}/api/credits/balance/simple`, () => Response.json(body, init)));
    const error = await c.credits.balance().catch((e: unknown) => e);
    expect(isNemoError(error)).toBe(true);
    return error;
  }

  it('maps each documented JSON code to its class', async () => {
    expect(await failWith({ code: 1001, message: 'expired' })).toBeInstanceOf(AuthenticationError);
    expect(await failWith({ code: 1002, message: 'no such session' })).toBeInstanceOf(
      SessionNotFoundError,
    );
    const credits = await failWith({ code: 2001, message: 'no credits' });
    expect(credits).toBeInstanceOf(InsufficientCreditsError);
    expect((credits as InsufficientCreditsError).registerUrl).toBeUndefined();
    const type = (await failWith({ code: 4001 })) as UnsupportedFileTypeError;
    expect(type).toBeInstanceOf(UnsupportedFileTypeError);
    expect(type.acceptedFormats).toContain('mp4');
    expect(type.message).toMatch(/mp4, mov/);
    const big = (await failWith({ code: 4002 })) as FileTooLargeError;
    expect(big).toBeInstanceOf(FileTooLargeError);
    expect(big.maxBytes).toBe(500 * 1024 * 1024);
    expect(big.message).toContain('500 MB');
  });

  it('maps HTTP statuses and keeps status, code, request id and body', async () => {
    const plan = (await failWith({ message: 'upgrade' }, { status: 402 })) as ExportNotAllowedError;
    expect(plan).toBeInstanceOf(ExportNotAllowedError);
    expect(plan.httpStatus).toBe(402);
    expect(plan.message).toMatch(/not a lack of credits/);
    const limited = (await failWith(
      {},
      { status: 429, headers: { 'retry-after': '7' } },
    )) as RateLimitError;
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.retryAfterMs).toBe(7000);
    const server500 = (await failWith(
      { message: 'boom' },
      { status: 500, headers: { 'x-request-id': 'req-123' } },
    )) as ApiError;
    expect(server500).toBeInstanceOf(ApiError);
    expect(server500.httpStatus).toBe(500);
    expect(server500.requestId).toBe('req-123');
    expect(server500.body).toEqual({ message: 'boom' });
    expect(server500.message).toContain('req-123');
  });

  it('treats HTTP 429 as a rate limit whatever undocumented code its body carries', async () => {
    const error = (await failWith(
      { code: 42900, message: 'slow down' },
      { status: 429 },
    )) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.code).toBe(42900);
  });

  it('lets a JSON code in a non-2xx body win over the status', async () => {
    const error = (await failWith(
      { code: 1002, message: 'gone' },
      { status: 404 },
    )) as SessionNotFoundError;
    expect(error).toBeInstanceOf(SessionNotFoundError);
    expect(error.httpStatus).toBe(404);
    expect(error.code).toBe(1002);
  });

  it('reads success:false envelopes', async () => {
    const error = (await failWith({
      success: false,
      error: { message: 'render exploded' },
    })) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toContain('render exploded');
  });

  it('maps HTTP 400 on the anonymous-token request to an ApiError naming the client id', async () => {
    server.use(
      http.post(`${BASE}/api/auth/anonymous-token`, () =>
        HttpResponse.json({ message: 'X-Client-Id required' }, { status: 400 }),
      ),
    );
    const c = new NemoClient({ clientId: 'cid-1', logLevel: 'off' });
    await expect(c.getToken()).rejects.toThrow(/X-Client-Id header \(HTTP 400\)/);
  });

  it('carries the registration link on 2001 when the anonymous user id is known', async () => {
    server.use(
      http.post(`${BASE}/api/auth/anonymous-token`, () =>
        ok({ token: 'nmv_usr_anon_abcdefgh', credits: 100, user_id: 'anon_77' }),
      ),
    );
    const c = new NemoClient({ clientId: 'cid-1', logLevel: 'off', maxRetries: 0 });
    const error = (await failWith({ code: 2001 }, {}, c)) as InsufficientCreditsError;
    expect(error.registerUrl).toBe('https://nemovideo.com/register?bind=anon_77');
    expect(error.message).toContain(error.registerUrl);
  });
});

describe('response validation', () => {
  it('rejects a body that fits no schema with ResponseValidationError naming the path', async () => {
    server.use(
      http.get(`${BASE}/api/credits/balance/simple`, () =>
        HttpResponse.json({ code: 0, data: { avail: 1 } }),
      ),
    );
    const error = (await client()
      .credits.balance()
      .catch((e: unknown) => e)) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.path).toBe('data.available');
    expect(error.message).toMatch(/credits response/);
  });

  it('rejects HTML where JSON was expected', async () => {
    server.use(
      http.get(`${BASE}/api/credits/balance/simple`, () =>
        HttpResponse.html('<html>gateway</html>'),
      ),
    );
    await expect(client().credits.balance()).rejects.toBeInstanceOf(ResponseValidationError);
  });

  it('rejects a session response without a session id', async () => {
    server.use(
      http.post(`${BASE}/api/tasks/me/with-session/nemo_agent`, () => ok({ task_id: 'x' })),
    );
    const error = (await client()
      .sessions.create()
      .catch((e: unknown) => e)) as ResponseValidationError;
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect(error.path).toBe('data.session_id');
  });
});

describe('isNemoError', () => {
  it('recognises errors from a second copy of the package', async () => {
    const { vi } = await import('vitest');
    vi.resetModules();
    // A query string makes the module loader evaluate a second, independent copy.
    const secondCopy = '../../src/index.js?copy';
    const copy = (await import(
      /* @vite-ignore */ secondCopy
    )) as typeof import('../../src/index.js');
    const foreign = new copy.SessionNotFoundError('x', { httpStatus: 200 });
    expect(foreign instanceof SessionNotFoundError).toBe(false);
    expect(isNemoError(foreign)).toBe(true);
    expect(isNemoError(new Error('plain'))).toBe(false);
    expect(isNemoError({ name: 'NemoError' })).toBe(false);
  });
});
