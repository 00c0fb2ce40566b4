/**
 * Hardening of the core against hostile input and servers (#13 items 1, 2, 4,
 * 6, 13, 14, 15): typed errors free of secrets, bounded bodies, no re-POSTed
 * message, capped timers, a client id file that does not follow links, and ids
 * that are never rounded. Servers are our own, on loopback (port 0).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, schedule, sleep } from '../../src/core/timers.js';
import {
  ApiError,
  ConfigError,
  ConnectionError,
  NemoClient,
  ResponseValidationError,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

const SECRET = 'usr-SECRET-abcdefgh';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end();
const requests: { method: string; path: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  requests.length = 0;
  handler = (_req, res) => res.end();
});

function json(res: ServerResponse, status: number, body: unknown, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Every text a user can see of an error: message, String(), JSON, stack, inspect, cause chain. */
function everyText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    parts.push(current.message, String(current), current.stack ?? '', JSON.stringify(current));
    current = current.cause;
  }
  parts.push(inspect(error, { depth: 8 }));
  return parts.join('\n');
}

function expectSecretFree(error: unknown, ...secrets: string[]) {
  const text = everyText(error);
  for (const secret of [SECRET, ...secrets]) expect(text).not.toContain(secret);
}

describe('#13.1 header values and URL credentials', () => {
  for (const bad of ['\n', '\r', '\0']) {
    const token = `${SECRET}${bad}X`;
    const label = JSON.stringify(bad);

    it(`refuses a token option containing ${label} with a ConfigError that does not quote it`, () => {
      const error = (() => {
        try {
          new NemoClient({ baseUrl: base, token, clientIdFile: false });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(
        /token option contains a (line feed|carriage return|NUL)/,
      );
      expectSecretFree(error);
      expect(requests).toEqual([]);
    });

    it(`refuses NEMO_TOKEN and a token function containing ${label}`, async () => {
      // An environment variable cannot hold NUL: the option and function cases cover it.
      if (bad !== '\0') {
        vi.stubEnv('NEMO_TOKEN', token);
        expect(() => new NemoClient({ baseUrl: base, clientIdFile: false })).toThrow(ConfigError);
        vi.unstubAllEnvs();
      }
      const client = new NemoClient({ baseUrl: base, token: () => token, clientIdFile: false });
      const error = await client.credits.balance().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expectSecretFree(error);
      expect(requests).toEqual([]);
    });

    it(`turns a server-granted token containing ${label} into an ApiError, on every path`, async () => {
      handler = (req, res) => {
        if (req.url === '/api/auth/anonymous-token') json(res, 200, { code: 0, data: { token } });
        else json(res, 200, { code: 0, data: {} });
      };
      const client = new NemoClient({ baseUrl: base, clientIdFile: false });
      const session = client.sessions.open('123');
      for (const call of [
        () => client.credits.balance(),
        () => session.upload(new File([new Uint8Array(8)], 'a.mp4')),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect((error as Error).message).toMatch(/cannot be sent in an Authorization header/);
        expectSecretFree(error);
      }
      expect(requests.every((r) => r.path === '/api/auth/anonymous-token')).toBe(true);
    });
  }

  it('refuses a base URL with user info, in the option and in NEMO_API_URL, never keeping it', () => {
    for (const make of [
      () =>
        new NemoClient({ baseUrl: 'https://user:hunter2pw@api.example.com', clientIdFile: false }),
      () => {
        vi.stubEnv('NEMO_API_URL', 'https://user:hunter2pw@api.example.com');
        return new NemoClient({ clientIdFile: false });
      },
    ]) {
      const error = (() => {
        try {
          make();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/must not contain a user name or password/);
      expectSecretFree(error, 'hunter2pw');
    }
  });

  it('refuses an attribution value that cannot go in a header', () => {
    expect(
      () =>
        new NemoClient({ baseUrl: base, clientIdFile: false, attribution: { platform: 'a\nb' } }),
    ).toThrow(/attribution value .* contains a line feed/);
  });

  it('keeps the token out of the cause a platform error carries (#13.1) and out of requestId (#13.14)', async () => {
    const failing = new NemoClient({
      baseUrl: base,
      token: SECRET,
      clientIdFile: false,
      maxRetries: 0,
      fetch: async (input, init) => {
        const headers = input instanceof Request ? input.headers : new Headers(init?.headers);
        const auth = headers.get('authorization');
        if (!auth?.includes(SECRET)) throw new Error('the test expects the bearer header');
        throw new TypeError(`socket hang up while sending "${auth}"`);
      },
    });
    const error = await failing.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(String((error as Error).cause)).toMatch(
      /socket hang up while sending "Bearer \[REDACTED\]"/,
    );
    expectSecretFree(error);

    handler = (_req, res) =>
      json(res, 500, { message: 'boom' }, { 'x-request-id': `rid-${SECRET}` });
    const client = new NemoClient({
      baseUrl: base,
      token: SECRET,
      clientIdFile: false,
      maxRetries: 0,
    });
    const apiError = (await client.credits.balance().catch((e: unknown) => e)) as ApiError;
    expect(apiError).toBeInstanceOf(ApiError);
    expect(apiError.requestId).toBe('rid-[REDACTED]');
    expectSecretFree(apiError);
  });
});

describe('#13.2 bounded bodies', () => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // 64 MiB of zeros, about 64 KB on the wire

  it('fails fast on a gzip bomb answering a JSON request, without inflating it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    const client = new NemoClient({
      baseUrl: base,
      token: SECRET,
      clientIdFile: false,
      maxResponseBytes: 1024 * 1024,
    });
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as Error).message).toMatch(/larger than 1048576 bytes .*maxResponseBytes/);
  });

  it('reads only the start of a huge error body and still raises the typed error', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    const client = new NemoClient({
      baseUrl: base,
      token: SECRET,
      clientIdFile: false,
      maxRetries: 0,
    });
    const error = (await client.credits.balance().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.httpStatus).toBe(503);
  });

  it('refuses a bad maxResponseBytes', () => {
    expect(() => new NemoClient({ clientIdFile: false, maxResponseBytes: 0 })).toThrow(ConfigError);
  });
});

describe('#13.4 /run_sse is never POSTed twice', () => {
  for (const status of [301, 302, 307, 308]) {
    it(`refuses a ${status} to itself or elsewhere with a typed error, after one POST`, async () => {
      handler = (_req, res) => {
        res.writeHead(status, { location: '/run_sse?again=1' });
        res.end();
      };
      const client = new NemoClient({ baseUrl: base, token: SECRET, clientIdFile: false });
      const error = await client.sessions
        .open('123')
        .chat('hello')
        .result()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as Error).message).toMatch(/does not follow redirects/);
      expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    });
  }

  it('refuses a redirect of an upload without re-sending the file', async () => {
    handler = (_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' });
      res.end();
    };
    const client = new NemoClient({ baseUrl: base, token: SECRET, clientIdFile: false });
    const error = await client.sessions
      .open('123')
      .upload(new File([new Uint8Array(8)], 'a.mp4'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    // fetch cannot say which 3xx it was; node:http (the upload path on Node) can.
    expect((error as Error).message).toMatch(
      /does not follow (for an upload|redirects of this request)/,
    );
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });
});

describe('#13.6 no timer overflows', () => {
  it('sleeps and schedules beyond 2^31-1 ms in capped steps', async () => {
    const clock = new ManualClock();
    const done = vi.fn();
    const slept = sleep(clock, 3 * MAX_TIMER_MS + 5).then(done);
    for (const step of [MAX_TIMER_MS, MAX_TIMER_MS, MAX_TIMER_MS, 5]) {
      await clock.waitForSleep(step);
      expect(done).not.toHaveBeenCalled();
      await clock.advance(step);
    }
    await slept;
    expect(clock.sleeps.every((ms) => ms <= MAX_TIMER_MS)).toBe(true);

    const fired = vi.fn();
    schedule(clock, MAX_TIMER_MS + 10, fired);
    await clock.advance(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    await clock.advance(10);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('caps a year-long Retry-After on a render poll instead of polling at once', async () => {
    let polls = 0;
    handler = (req, res) => {
      if (req.url?.startsWith('/api/render/proxy/lambda/')) {
        polls += 1;
        json(res, 200, { status: 'processing' }, { 'retry-after': String(365 * 24 * 3600) });
      } else json(res, 200, { code: 0, data: {} });
    };
    const clock = new ManualClock();
    const client = new NemoClient({ baseUrl: base, token: SECRET, clientIdFile: false, clock });
    const job = await client.sessions.open('123').render({ draft: { t: [{ tt: 0, sg: [{}] }] } });
    const waiting = job.wait({ pollInterval: 1_000, maxPolls: 3 }).catch((e: unknown) => e);
    await clock.waitForSleep(1_000);
    await clock.advance(1_000);
    await clock.waitForSleep(120_000); // the hint, capped at retryTiming.maxRetryAfterMs
    expect(polls).toBe(1);
    await clock.advance(120_000);
    await clock.waitForSleep(120_000);
    expect(polls).toBe(2);
    await clock.advance(120_000);
    expect(((await waiting) as Error).name).toBe('RenderTimeoutError');
    expect(polls).toBe(3);
  });
});

describe('#13.13 the client id file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nemo-cid-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never follows a symbolic link, so another file is never sent as the client id', async () => {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 'ANOTHER-SECRET-VALUE\n');
    const link = join(dir, 'client_id');
    symlinkSync(secretFile, link);
    handler = (_req, res) => json(res, 200, { code: 0, data: { token: 'nmv_usr_x123456789' } });
    const client = new NemoClient({ baseUrl: base, clientIdFile: link });
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(link);
    expect((error as Error).message).toMatch(/symbolic link/);
    expect(requests).toEqual([]);
  });

  it('names the file and the fix for a dangling link', async () => {
    const link = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), link);
    const client = new NemoClient({ baseUrl: base, clientIdFile: link });
    const error = await client.getClientId().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(link);
    expect((error as Error).message).toMatch(/clientIdFile: false/);
  });
});

describe('#13.15 ids beyond 2^53', () => {
  it('refuses a session id sent as an unsafe JSON number instead of rounding it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"code":0,"data":{"session_id":5529798706024415232}}');
    };
    const client = new NemoClient({ baseUrl: base, token: SECRET, clientIdFile: false });
    const error = await client.sessions.create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as Error).message).toMatch(/beyond 2\^53 has lost digits/);
  });

  it('keeps a session id sent as a string exactly', async () => {
    handler = (_req, res) =>
      json(res, 200, { code: 0, data: { session_id: '5529798706024415232' } });
    const client = new NemoClient({ baseUrl: base, token: SECRET, clientIdFile: false });
    expect((await client.sessions.create()).id).toBe('5529798706024415232');
  });
});
