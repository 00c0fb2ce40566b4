import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigError,
  NemoClient,
  TimeoutError,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const SECRET = 'nmv_usr_super_secret_value_42';

function capture() {
  const lines: string[] = [];
  const sink = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  return { lines, logger: { error: sink, warn: sink, info: sink, debug: sink } };
}

describe('redaction', () => {
  it('never puts the token in messages, toString, toJSON or debug logs', async () => {
    server.use(
      http.get(BALANCE, () =>
        HttpResponse.json({
          code: 1001,
          message: `token ${SECRET} expired`,
          echo: { token: SECRET },
        }),
      ),
    );
    const { lines, logger } = capture();
    const client = new NemoClient({
      token: SECRET,
      clientIdFile: false,
      logger,
      logLevel: 'debug',
    });
    const error = (await client.credits.balance().catch((e: unknown) => e)) as AuthenticationError;
    expect(error).toBeInstanceOf(AuthenticationError);
    for (const text of [
      error.message,
      String(error),
      JSON.stringify(error),
      JSON.stringify(error.body),
      error.stack ?? '',
      ...lines,
      JSON.stringify(client),
    ]) {
      expect(text).not.toContain(SECRET);
    }
    expect(error.message).toContain('[REDACTED]');
  });

  it('logs one debug line per request with method, path, status, duration and retries', async () => {
    server.use(http.get(BALANCE, () => ok({ available: 1, frozen: 0, total: 1 })));
    const { lines, logger } = capture();
    const client = new NemoClient({
      token: SECRET,
      clientIdFile: false,
      logger,
      logLevel: 'debug',
    });
    await client.credits.balance();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^nemovideo debug: GET \/api\/credits\/balance\/simple 200 \d+ms retries=0$/,
    );
  });

  it('is silent at the default level and honours NEMO_LOG', async ({ onTestFinished }) => {
    server.use(http.get(BALANCE, () => ok({ available: 1 })));
    const quiet = capture();
    await new NemoClient({
      token: SECRET,
      clientIdFile: false,
      logger: quiet.logger,
    }).credits.balance();
    expect(quiet.lines).toEqual([]);
    process.env.NEMO_LOG = 'debug';
    onTestFinished(() => {
      delete process.env.NEMO_LOG;
    });
    const loud = capture();
    await new NemoClient({
      token: SECRET,
      clientIdFile: false,
      logger: loud.logger,
    }).credits.balance();
    expect(loud.lines).toHaveLength(1);
  });
});

describe('plain http', () => {
  it('refuses to send a token over http to a remote host', () => {
    expect(() => new NemoClient({ token: SECRET, baseUrl: 'http://api.example.com' })).toThrow(
      ConfigError,
    );
    const error = (() => {
      try {
        new NemoClient({ baseUrl: 'http://api.example.com' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/allowInsecureHttp/);
  });

  it('allows loopback hosts and an explicit opt-in', async () => {
    for (const baseUrl of ['http://localhost:4010', 'http://127.0.0.1:9', 'http://[::1]:9']) {
      expect(() => new NemoClient({ token: SECRET, baseUrl })).not.toThrow();
    }
    server.use(
      http.get('http://api.example.com/api/credits/balance/simple', () => ok({ available: 3 })),
    );
    const client = new NemoClient({
      token: SECRET,
      baseUrl: 'http://api.example.com',
      allowInsecureHttp: true,
      clientIdFile: false,
    });
    await expect(client.credits.balance()).resolves.toMatchObject({ available: 3 });
  });
});

describe('timeouts and abort', () => {
  it('names the request timeout that fired', async () => {
    const clock = new ManualClock();
    server.use(http.get(BALANCE, () => new Promise<Response>(() => {})));
    const client = new NemoClient({
      token: SECRET,
      clientIdFile: false,
      clock,
      maxRetries: 0,
      timeout: 5_000,
    });
    const result = client.credits.balance().catch((e: unknown) => e);
    await clock.waitForSleep(5_000);
    await clock.advance(5_000);
    const error = (await result) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.kind).toBe('request');
    expect(error.timeoutMs).toBe(5_000);
    expect(error.message).toMatch(/5000 ms \(the request timeout\)/);
  });

  it('a per-call timeout overrides the client one', async () => {
    const clock = new ManualClock();
    server.use(http.get(BALANCE, () => new Promise<Response>(() => {})));
    const client = new NemoClient({ token: SECRET, clientIdFile: false, clock, maxRetries: 0 });
    const result = client.credits.balance({ timeout: 100 }).catch((e: unknown) => e);
    await clock.waitForSleep(100);
    await clock.advance(100);
    expect(await result).toBeInstanceOf(TimeoutError);
  });

  it('aborts with AbortError and clears its timer', async () => {
    const clock = new ManualClock();
    server.use(http.get(BALANCE, () => new Promise<Response>(() => {})));
    const client = new NemoClient({ token: SECRET, clientIdFile: false, clock });
    const controller = new AbortController();
    const result = client.credits.balance({ signal: controller.signal }).catch((e: unknown) => e);
    await clock.waitForSleep(60_000);
    controller.abort();
    expect(await result).toBeInstanceOf(AbortError);
    expect(clock.pending()).toEqual([]);
  });

  it('aborts during a retry wait without waiting it out', async () => {
    const clock = new ManualClock();
    server.use(http.get(BALANCE, () => HttpResponse.json({}, { status: 429 })));
    const client = new NemoClient({ token: SECRET, clientIdFile: false, clock });
    const controller = new AbortController();
    const result = client.credits.balance({ signal: controller.signal }).catch((e: unknown) => e);
    await clock.waitForSleep(30_000);
    controller.abort();
    expect(await result).toBeInstanceOf(AbortError);
    expect(clock.pending()).toEqual([]);
  });

  it('rejects at once for an already aborted signal, with no request', async () => {
    let calls = 0;
    server.use(
      http.get(BALANCE, () => {
        calls += 1;
        return ok({ available: 1 });
      }),
    );
    const client = new NemoClient({ token: SECRET, clientIdFile: false });
    await expect(client.credits.balance({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortError,
    );
    expect(calls).toBe(0);
    // Every SDK error is a NemoError, including API ones.
    expect(new ApiError('x', { httpStatus: 500 })).toBeInstanceOf(Error);
  });
});
