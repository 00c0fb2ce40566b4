import type { RateBudget } from '../helpers.js';
import { ConfigError } from '../index.js';
import {
  asNumber,
  DEFAULT_PREFIX,
  type RedisClient,
  type RedisStoreOptions,
  run,
} from './redis.js';

/** Milliseconds left on the pause key (0 when there is none). */
const REMAINING = `
local t = redis.call('PTTL', KEYS[1])
if t > 0 then return t end
return 0`;
/** Make the pause at least ARGV[1] ms from now; a longer one in force stays. */
const PAUSE = `
local t = redis.call('PTTL', KEYS[1])
if t < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 0`;

/**
 * One 429 backoff shared by every process and machine that uses the same Redis
 * and prefix: a 429 answered to any of them pauses the requests of all of them
 * until its `Retry-After` has passed. The pause is a Redis key with an expiry,
 * so Redis's clock measures it (machines whose clocks disagree still agree on
 * it). Each request costs one small Redis round trip before it is sent.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { NemoClient } from 'nemovideo';
 * import { RedisRateBudget } from 'nemovideo/redis';
 *
 * const client = new NemoClient({ rateBudget: new RedisRateBudget(new Redis()) });
 * ```
 */
export class RedisRateBudget implements RateBudget {
  readonly location: string;
  readonly #redis: RedisClient;
  readonly #key: string;

  constructor(redis: RedisClient, options: RedisStoreOptions = {}) {
    if (!redis || typeof redis.eval !== 'function') {
      throw new ConfigError(
        'RedisRateBudget needs a Redis client with an eval() method, e.g. new Redis(url) from ioredis.',
      );
    }
    this.#redis = redis;
    this.#key = `${options.prefix ?? DEFAULT_PREFIX}rate-pause`;
    this.location = `Redis key ${this.#key}`;
  }

  /** @example `const wait = await budget.remaining();` */
  async remaining(): Promise<number> {
    return Math.max(0, asNumber(await run(this.#redis, REMAINING, [this.#key])));
  }

  /** @example `await budget.pause(30_000);` */
  async pause(ms: number): Promise<void> {
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    await run(this.#redis, PAUSE, [this.#key], [Math.ceil(ms)]);
  }
}
