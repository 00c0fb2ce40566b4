import {
  type Clock,
  type StoredToken,
  systemClock,
  type TokenStore,
  type TokenStoreLock,
} from '../helpers.js';
import { ConfigError } from '../index.js';
import { DEFAULT_PREFIX, type RedisClient, type RedisStoreOptions, run } from './redis.js';

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions extends RedisStoreOptions {
  /**
   * How long a process may hold the token lock before the others stop waiting
   * for it (a holder that died), in ms. Default 60 000: longer than a token
   * request with its retries.
   */
  lockLeaseMs?: number | undefined;
  /** How often a process waiting for the lock looks again, in ms. Default 50. */
  lockPollMs?: number | undefined;
  /** Time source for the lock's polling and the tokens' expiry (inject a fake one in tests). */
  clock?: Clock | undefined;
}

const GET = `return redis.call('GET', KEYS[1])`;
/** SET with the expiry when one is given (ms > 0), without one otherwise. */
const SET = `
if tonumber(ARGV[2]) > 0 then
  return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1])`;
const DEL = `return redis.call('DEL', KEYS[1])`;
/** Take the lock when free: 1 when taken. */
const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;
/** Release only our own lock (its value is our nonce). */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

function isStoredToken(value: unknown): value is StoredToken {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.token === 'string' &&
    typeof v.obtainedAt === 'number' &&
    (v.expiresAt === undefined || typeof v.expiresAt === 'number')
  );
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a number of milliseconds > 0 (got ${value}).`);
  }
  return value;
}

/**
 * Anonymous tokens kept in Redis, shared by every process and machine that uses
 * the same Redis and prefix: N workers make one anonymous-token request in all
 * (the first takes a Redis lock and asks; the others wait, then read the token
 * it stored), and one renewal when the service rejects it (1001). Each token
 * expires from Redis when it lapses.
 *
 * Redis then holds a bearer token: keep it on a private network, with a
 * password (the token is never written to logs or errors).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { NemoClient } from 'nemovideo';
 * import { RedisTokenStore } from 'nemovideo/redis';
 *
 * const redis = new Redis('redis://127.0.0.1:6379');
 * const client = new NemoClient({
 *   clientId: 'my-worker-fleet', // one client id for every worker: one token for all
 *   tokenStore: new RedisTokenStore(redis),
 * });
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly location: string;
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #clock: Clock;

  constructor(redis: RedisClient, options: RedisTokenStoreOptions = {}) {
    if (!redis || typeof redis.eval !== 'function') {
      throw new ConfigError(
        'RedisTokenStore needs a Redis client with an eval() method, e.g. new Redis(url) from ioredis.',
      );
    }
    this.#redis = redis;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#leaseMs = positive(options.lockLeaseMs, 'lockLeaseMs', 60_000);
    this.#pollMs = positive(options.lockPollMs, 'lockPollMs', 50);
    this.#clock = options.clock ?? systemClock;
    this.location = `Redis keys ${this.#prefix}token:*`;
  }

  #key(key: string): string {
    return `${this.#prefix}token:${key}`;
  }

  /** @example `await store.get(key)` */
  async get(key: string): Promise<StoredToken | undefined> {
    const text = await run(this.#redis, GET, [this.#key(key)]);
    if (typeof text !== 'string') return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return isStoredToken(value) ? value : undefined;
    } catch {
      // A damaged entry only costs a new token.
      return undefined;
    }
  }

  /** @example `await store.set(key, { token, obtainedAt: Date.now() })` */
  async set(key: string, token: StoredToken): Promise<void> {
    const ttl = token.expiresAt === undefined ? 0 : Math.ceil(token.expiresAt - this.#clock.now());
    if (token.expiresAt !== undefined && ttl <= 0) {
      await this.delete(key);
      return;
    }
    await run(this.#redis, SET, [this.#key(key)], [JSON.stringify(token), ttl]);
  }

  /** @example `await store.delete(key)` */
  async delete(key: string): Promise<void> {
    await run(this.#redis, DEL, [this.#key(key)]);
  }

  /**
   * Hold the token lock of `key` across every process sharing this Redis, while
   * a token is requested. Waits while another process holds it, at most its
   * lease (`lockLeaseMs`).
   *
   * @example `const held = await store.lock(key); try { … } finally { await held.release(); }`
   */
  async lock(key: string): Promise<TokenStoreLock> {
    const lockKey = `${this.#prefix}token-lock:${key}`;
    const nonce = globalThis.crypto.randomUUID();
    while ((await run(this.#redis, LOCK, [lockKey], [nonce, this.#leaseMs])) !== 1) {
      await this.#clock.sleep(this.#pollMs);
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await run(this.#redis, UNLOCK, [lockKey], [nonce]);
      },
    };
  }
}
