/**
 * #16: one 429 backoff per client (the rate budget the transport consults before
 * each request): a 429 anywhere pauses every request until its Retry-After has
 * passed, instead of each request backing off alone.
 */
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { MemoryRateBudget, type RateBudget } from '../../src/helpers.js';
import { NemoClient, RateLimitError } from '../../src/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const BALANCE = `${BASE}/api/credits/balance/simple`;
const SESSION = `${BASE}/api/tasks/me/with-session/nemo_agent`;
const TOKEN = 'nmv_usr_test_token_0123456789';
const balance = { available: 1, frozen: 0, total: 1 };

function client(clock: ManualClock, extra: ConstructorParameters<typeof NemoClient>[0] = {}) {
  return new NemoClient({ token: TOKEN, clientIdFile: false, logLevel: 'off', clock, ...extra });
}

/** Count the requests per path; the first balance request is answered 429 (Retry-After 5 s). */
function limitedOnce() {
  const seen: string[] = [];
  let limited = false;
  server.use(
    http.get(BALANCE, () => {
      seen.push('balance');
      if (!limited) {
        limited = true;
        return HttpResponse.json({}, { status: 429, headers: { 'retry-after': '5' } });
      }
      return ok(balance);
    }),
    http.post(SESSION, () => {
      seen.push('session');
      return ok({ session_id: '42', task_id: 't' });
    }),
  );
  return seen;
}

describe('the rate budget', () => {
  it('holds back every request of the client while a 429 pause runs, then lets them go', async () => {
    const seen = limitedOnce();
    const clock = new ManualClock();
    const c = client(clock);
    const first = c.credits.balance();
    await clock.waitForSleep(5_000);
    // Another request starts during the pause: it waits, unsent, for what is left of it.
    await clock.advance(2_000);
    const second = c.sessions.create();
    await clock.waitForSleep(3_000);
    expect(seen).toEqual(['balance']);
    await clock.advance(2_999);
    expect(seen).toEqual(['balance']);
    await clock.advance(1);
    await expect(first).resolves.toEqual(balance);
    await expect(second).resolves.toMatchObject({ id: '42' });
    expect(seen.sort()).toEqual(['balance', 'balance', 'session']);
  });

  it('pauses every client that shares one budget', async () => {
    const seen = limitedOnce();
    const clock = new ManualClock();
    const rateBudget = new MemoryRateBudget(clock);
    const a = client(clock, { rateBudget });
    const b = client(clock, { rateBudget });
    const first = a.credits.balance();
    await clock.waitForSleep(5_000);
    const other = b.sessions.create();
    await flush();
    expect(seen).toEqual(['balance']);
    expect(clock.pending()).toEqual([5_000, 5_000]);
    await clock.advance(5_000);
    await Promise.all([first, other]);
    expect(seen).toHaveLength(3);
  });

  it('keeps separate clients apart by default', async () => {
    const seen = limitedOnce();
    const clock = new ManualClock();
    const a = client(clock);
    const b = client(clock);
    const first = a.credits.balance();
    await clock.waitForSleep(5_000);
    await expect(b.sessions.create()).resolves.toMatchObject({ id: '42' });
    expect(seen).toEqual(['balance', 'session']);
    await clock.advance(5_000);
    await first;
  });

  it('fails a request at once, unsent, when the pause is longer than maxRetryAfterMs', async () => {
    const seen = limitedOnce();
    const clock = new ManualClock();
    const rateBudget = new MemoryRateBudget(clock);
    rateBudget.pause(10 * 60_000);
    const error = await client(clock, { rateBudget })
      .sessions.create()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(600_000);
    expect((error as RateLimitError).message).toMatch(/was not sent.*wait 600 s/);
    expect(seen).toEqual([]);
  });

  it('never lets a shorter pause cut a longer one short', () => {
    const clock = new ManualClock();
    const budget = new MemoryRateBudget(clock);
    budget.pause(10_000);
    budget.pause(1_000);
    expect(budget.remaining()).toBe(10_000);
    budget.pause(-5);
    budget.pause(Number.NaN);
    expect(budget.remaining()).toBe(10_000);
  });

  it('waits on an asynchronous budget (a shared one), and re-reads it after each wait', async () => {
    const seen = limitedOnce();
    const clock = new ManualClock();
    const answers = [4_000, 1_000, 0];
    const reads: number[] = [];
    const rateBudget: RateBudget = {
      remaining: async () => {
        const left = answers.shift() ?? 0;
        reads.push(left);
        return left;
      },
      pause: async () => {},
    };
    const created = client(clock, { rateBudget }).sessions.create();
    await clock.waitForSleep(4_000);
    await clock.advance(4_000);
    // A 429 elsewhere extended the pause meanwhile: the request waits again.
    await clock.waitForSleep(1_000);
    expect(seen).toEqual([]);
    await clock.advance(1_000);
    await expect(created).resolves.toMatchObject({ id: '42' });
    expect(reads).toEqual([4_000, 1_000, 0]);
  });

  it('waits a bounded number of times: a clock whose sleep does not move now() cannot spin it', async () => {
    const seen = limitedOnce();
    // Sleeps end at once, but now() stands still: the pause never seems to pass.
    const frozen = { now: () => 0, sleep: () => Promise.resolve() };
    const rateBudget = new MemoryRateBudget(frozen);
    rateBudget.pause(5_000);
    let reads = 0;
    const counting: RateBudget = {
      remaining: () => {
        reads += 1;
        return rateBudget.remaining();
      },
      pause: (ms) => rateBudget.pause(ms),
    };
    const created = new NemoClient({
      token: TOKEN,
      clientIdFile: false,
      logLevel: 'off',
      clock: frozen,
      // No per-request time limit: on this clock it would fire at once.
      timeout: 0,
      rateBudget: counting,
    }).sessions.create();
    await expect(created).resolves.toMatchObject({ id: '42' });
    expect(seen).toEqual(['session']);
    expect(reads).toBe(5);
  });

  it('reports a 429 to the budget with the wait the service asked for', async () => {
    limitedOnce();
    const clock = new ManualClock();
    const pauses: number[] = [];
    const rateBudget: RateBudget = { remaining: () => 0, pause: (ms) => void pauses.push(ms) };
    const result = client(clock, { rateBudget }).credits.balance();
    await clock.waitForSleep(5_000);
    expect(pauses).toEqual([5_000]);
    await clock.advance(5_000);
    await result;
  });

  it('sends anyway, with a warning, when the budget fails (a Redis outage)', async () => {
    const seen = limitedOnce();
    const warnings: string[] = [];
    const rateBudget: RateBudget = {
      location: 'redis key nemovideo:rate',
      remaining: () => Promise.reject(new Error('connection refused')),
      pause: () => {
        throw new Error('connection refused');
      },
    };
    const clock = new ManualClock();
    const c = client(clock, {
      rateBudget,
      logLevel: 'warn',
      logger: { ...console, warn: (m: string) => void warnings.push(m) },
    });
    await expect(c.sessions.create()).resolves.toMatchObject({ id: '42' });
    const first = c.credits.balance();
    // The pause could not be recorded: this request still waits its own Retry-After.
    await clock.waitForSleep(5_000);
    await clock.advance(5_000);
    await expect(first).resolves.toEqual(balance);
    expect(seen).toEqual(['session', 'balance', 'balance']);
    expect(warnings).toContain(
      'nemovideo warn: could not read the rate budget (redis key nemovideo:rate): connection refused',
    );
    expect(warnings).toContain(
      'nemovideo warn: could not pause the rate budget (redis key nemovideo:rate): connection refused',
    );
  });
});
