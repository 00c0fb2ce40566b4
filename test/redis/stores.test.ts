/**
 * `nemovideo/redis` against a real redis-server: clients that share nothing but
 * Redis (as processes on several machines would) make one anonymous-token
 * request in all, renew it once, and share one 429 pause.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NemoClient, RateLimitError } from '../../src/index.js';
import {
  RedisRateBudget,
  RedisTokenStore,
  sharedClientId,
  sharedClientOptions,
} from '../../src/redis/index.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/testing/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { type RedisServer, skipWithoutRedis, startRedis } from './redis-server.js';

const TOKEN_ROUTE = 'POST /api/auth/anonymous-token';
const BALANCE_ROUTE = 'GET /api/credits/balance/simple';

describe.skipIf(skipWithoutRedis)('nemovideo/redis', () => {
  let redisServer: RedisServer;
  let emulator: Emulator;
  let api: EmulatorServer;
  const connections: Redis[] = [];
  let prefix: string;
  let n = 0;

  /** A new connection, as each worker process has its own. */
  const connect = (): Redis => {
    const redis = new Redis(redisServer.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    connections.push(redis);
    return redis;
  };
  const requests = (route: string) => emulator.stats()[route]?.count ?? 0;

  beforeAll(async () => {
    redisServer = await startRedis();
    emulator = createEmulator();
    api = await emulator.listen({ port: 0 });
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.quit().catch(() => {})));
    await api?.close();
    await redisServer?.stop();
  });
  beforeEach(() => {
    n += 1;
    prefix = `test-${n}:`;
    emulator.reset();
  });
  afterEach(() => {
    emulator.reset();
  });

  /** A client sharing only Redis with the others (its own connection, stores and clock). */
  const worker = async (extra: ConstructorParameters<typeof NemoClient>[0] = {}) => {
    const shared = await sharedClientOptions(connect(), { prefix });
    return new NemoClient({ baseUrl: api.url, logLevel: 'off', ...shared, ...extra });
  };

  it('workers that start together make one anonymous-token request in all', async () => {
    const workers = await Promise.all(Array.from({ length: 6 }, () => worker()));
    await Promise.all(workers.flatMap((w) => [w.credits.balance(), w.credits.balance()]));
    expect(requests(TOKEN_ROUTE)).toBe(1);
    // A worker that starts later reads the token too.
    await (await worker()).credits.balance();
    expect(requests(TOKEN_ROUTE)).toBe(1);
  });

  it('a token rejected everywhere at once (1001) is renewed once across workers', async () => {
    const workers = await Promise.all(Array.from({ length: 4 }, () => worker()));
    await Promise.all(workers.map((w) => w.credits.balance()));
    expect(requests(TOKEN_ROUTE)).toBe(1);
    emulator.expireTokens();
    const results = await Promise.allSettled(
      workers.flatMap((w) => [w.credits.balance(), w.credits.balance()]),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(requests(TOKEN_ROUTE)).toBe(2);
  });

  it('keeps the token in Redis until it lapses, never the lock', async () => {
    const redis = connect();
    await (await worker()).credits.balance();
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.sort()).toEqual([
      `${prefix}client-id`,
      `${prefix}token:${api.url} ${await redis.get(`${prefix}client-id`)}`,
    ]);
    const tokenKey = keys.find((k) => k.includes('token:')) as string;
    const ttl = await redis.pttl(tokenKey);
    // The emulator's tokens live 7 days.
    expect(ttl).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000);
  });

  it('shares one client id, whoever asks first', async () => {
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => sharedClientId(connect(), { prefix })),
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a 429 answered to one worker pauses the requests of the others', async () => {
    const clock = new ManualClock();
    const redis = connect();
    const a = await worker({ clock });
    const b = await worker({ clock });
    await Promise.all([a.credits.balance(), b.credits.balance()]);
    const before = requests(BALANCE_ROUTE);
    emulator.fail(BALANCE_ROUTE, { status: 429, headers: { 'retry-after': '20' } });
    const first = a.credits.balance();
    // Redis round trips are real I/O: give them many turns of the event loop.
    await clock.waitForSleep(20_000, 100_000);
    const budget = new RedisRateBudget(redis, { prefix });
    expect(await budget.remaining()).toBeGreaterThan(19_000);

    const second = b.credits.balance();
    const waited = await clock.nextSleep((ms) => ms < 20_000 && ms > 19_000, 100_000);
    expect(waited).toBeGreaterThan(19_000);
    expect(requests(BALANCE_ROUTE)).toBe(before + 1);
    // The pause lapses (in Redis's time): both go.
    await redis.del(`${prefix}rate-pause`);
    await clock.advance(20_000);
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(requests(BALANCE_ROUTE)).toBe(before + 3);
  });

  it('a pause longer than a worker waits fails its requests unsent', async () => {
    const budget = new RedisRateBudget(connect(), { prefix });
    await budget.pause(10 * 60_000);
    await budget.pause(1_000); // never shortens it
    expect(await budget.remaining()).toBeGreaterThan(590_000);
    const error = await (await worker()).credits.balance().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(requests(BALANCE_ROUTE)).toBe(0);
  });

  it('the token lock: one holder at a time, released only by its holder', async () => {
    const clock = new ManualClock();
    const a = new RedisTokenStore(connect(), { prefix, clock, lockLeaseMs: 5_000 });
    const b = new RedisTokenStore(connect(), { prefix, clock });
    const redis = connect();
    const held = await a.lock('k');
    const lockKey = `${prefix}token-lock:k`;
    expect(await redis.pttl(lockKey)).toBeLessThanOrEqual(5_000);
    let bHolds = false;
    const waiting = b.lock('k').then((lock) => {
      bHolds = true;
      return lock;
    });
    await clock.waitForSleep(50);
    await clock.advance(50);
    await clock.waitForSleep(50);
    expect(bHolds).toBe(false);
    await held.release();
    await held.release(); // idempotent: does not free b's lock later
    await clock.advance(50);
    const second = await waiting;
    expect(bHolds).toBe(true);
    await held.release();
    expect(await redis.exists(lockKey)).toBe(1);
    await second.release();
    expect(await redis.exists(lockKey)).toBe(0);
  });

  it('ignores a damaged entry (a new token is asked for) and drops a lapsed one', async () => {
    const redis = connect();
    const store = new RedisTokenStore(redis, { prefix });
    await redis.set(`${prefix}token:k`, '{not json');
    expect(await store.get('k')).toBeUndefined();
    await store.set('k', { token: 'nmv_usr_old_0123456789', obtainedAt: 0, expiresAt: 1 });
    expect(await redis.exists(`${prefix}token:k`)).toBe(0);
    await store.set('k', { token: 'nmv_usr_forever_0123456789', obtainedAt: 0 });
    expect(await redis.pttl(`${prefix}token:k`)).toBe(-1);
    expect((await store.get('k'))?.token).toBe('nmv_usr_forever_0123456789');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
  });
});
