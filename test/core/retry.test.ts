import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { ApiError, ConnectionError, NemoClient, RateLimitError } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const TOKEN = 'nmv_usr_test_token_0123456789';
const balance = { available: 1, frozen: 0, total: 1 };

function setup(extra: ConstructorParameters<typeof NemoClient>[0] = {}) {
  const clock = new ManualClock();
  const client = new NemoClient({
    token: TOKEN,
    clientIdFile: false,
    logLevel: 'off',
    clock,
    ...extra,
  });
  return { clock, client };
}

/** Answer with each response in turn; count the calls. */
function sequence(...responses: (() => Response)[]) {
  let calls = 0;
  server.use(
    http.get(BALANCE, () => {
      const make = responses[Math.min(calls, responses.length - 1)];
      calls += 1;
      return make ? make() : HttpResponse.error();
    }),
  );
  return () => calls;
}

describe('retries', () => {
  it('waits 30 s on a 429 without a hint, then retries once', async () => {
    const calls = sequence(
      () => HttpResponse.json({}, { status: 429 }),
      () => ok(balance),
    );
    const { clock, client } = setup();
    const result = client.credits.balance();
    await clock.waitForSleep(30_000);
    expect(calls()).toBe(1);
    await clock.advance(29_999);
    expect(calls()).toBe(1);
    await clock.advance(1);
    await expect(result).resolves.toEqual(balance);
    expect(calls()).toBe(2);
  });

  it('honours Retry-After in seconds, as an HTTP date, and retry-after-ms', async () => {
    const { clock } = setup();
    const date = new Date(clock.now() + 12_000).toUTCString();
    const cases: [Record<string, string>, number][] = [
      [{ 'retry-after': '3' }, 3_000],
      [{ 'retry-after': date }, 12_000],
      [{ 'retry-after-ms': '250' }, 250],
    ];
    for (const [headers, expected] of cases) {
      sequence(
        () => HttpResponse.json({}, { status: 429, headers }),
        () => ok(balance),
      );
      const { clock: c, client } = setup();
      // The manual clock starts at the same instant, so the date converts to 12 s.
      const result = client.credits.balance();
      await c.waitForSleep(expected);
      await c.advance(expected);
      await expect(result).resolves.toEqual(balance);
    }
  });

  it('retries a 429 only once, then raises RateLimitError', async () => {
    const calls = sequence(() =>
      HttpResponse.json({}, { status: 429, headers: { 'retry-after': '1' } }),
    );
    const { clock, client } = setup();
    const result = client.credits.balance().catch((e: unknown) => e);
    await clock.waitForSleep(1_000);
    await clock.advance(1_000);
    const error = await result;
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(1_000);
    expect(calls()).toBe(2);
  });

  it('does not wait for a Retry-After above the cap', async () => {
    const calls = sequence(() =>
      HttpResponse.json({}, { status: 429, headers: { 'retry-after': '3600' } }),
    );
    const { client, clock } = setup();
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect(calls()).toBe(1);
    expect(clock.sleeps.filter((ms) => ms !== 60_000)).toEqual([]);
  });

  it('retries 5xx with exponential backoff up to maxRetries', async () => {
    const calls = sequence(() => HttpResponse.json({ message: 'down' }, { status: 503 }));
    const { clock, client } = setup({ maxRetries: 3 });
    const result = client.credits.balance().catch((e: unknown) => e);
    for (let i = 0; i < 3; i++) {
      const backoff = await clock.nextSleep((ms) => ms !== 60_000);
      await clock.advance(backoff);
    }
    const error = await result;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).httpStatus).toBe(503);
    expect(calls()).toBe(4);
    const backoffs = clock.sleeps.filter((ms) => ms !== 60_000);
    expect(backoffs).toHaveLength(3);
    expect(backoffs[0]).toBeGreaterThanOrEqual(375);
    expect(backoffs[0]).toBeLessThanOrEqual(500);
    expect(backoffs[2]).toBeGreaterThanOrEqual(1500);
    expect(backoffs[2]).toBeLessThanOrEqual(2000);
  });

  it('recovers from a connection failure on a read', async () => {
    const calls = sequence(
      () => HttpResponse.error(),
      () => ok(balance),
    );
    const { clock, client } = setup();
    const result = client.credits.balance();
    await clock.advance(await clock.nextSleep((ms) => ms !== 60_000));
    await expect(result).resolves.toEqual(balance);
    expect(calls()).toBe(2);
  });

  it('raises ConnectionError saying what to check when retries run out', async () => {
    sequence(() => HttpResponse.error());
    const { client } = setup({ maxRetries: 0 });
    const error = await client.credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(
      /Could not reach https:\/\/mega-api-prod\.nemovideo\.ai/,
    );
    expect((error as Error).message).toMatch(/NEMO_API_URL/);
  });

  it('does not retry 4xx other than 408 and 429', async () => {
    const calls = sequence(() => HttpResponse.json({ message: 'bad' }, { status: 422 }));
    const { client } = setup();
    await expect(client.credits.balance()).rejects.toBeInstanceOf(ApiError);
    expect(calls()).toBe(1);
  });

  it('a per-call maxRetries overrides the client default', async () => {
    const calls = sequence(() => HttpResponse.json({}, { status: 500 }));
    const { client } = setup({ maxRetries: 5 });
    await expect(client.credits.balance({ maxRetries: 0 })).rejects.toBeInstanceOf(ApiError);
    expect(calls()).toBe(1);
  });
});
