/**
 * `nemovideo/redis`: what several processes and machines running the SDK share,
 * kept in Redis. Give every worker the same Redis (and prefix) and they make one
 * anonymous-token request in all, renew it once, and back off together on a 429.
 *
 * Bring your own client: `ioredis` is an optional peer dependency, never
 * imported by this module; anything with ioredis's `eval()` works.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { NemoClient } from 'nemovideo';
 * import { sharedClientOptions } from 'nemovideo/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const client = new NemoClient({ ...(await sharedClientOptions(redis)) });
 * ```
 *
 * @module
 */

import type { NemoClientOptions } from '../index.js';
import { sharedClientId } from './client-id.js';
import { RedisRateBudget } from './rate-budget.js';
import type { RedisClient } from './redis.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from './token-store.js';

export { sharedClientId } from './client-id.js';
export { RedisRateBudget } from './rate-budget.js';
export type { RedisClient, RedisStoreOptions } from './redis.js';
export { RedisTokenStore, type RedisTokenStoreOptions } from './token-store.js';

/**
 * The client options that make a fleet share one identity: the shared client id
 * ({@link sharedClientId}), a {@link RedisTokenStore} and a
 * {@link RedisRateBudget}. Spread them into `new NemoClient({ … })`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { NemoClient } from 'nemovideo';
 * import { sharedClientOptions } from 'nemovideo/redis';
 *
 * const shared = await sharedClientOptions(new Redis(), { prefix: 'video-workers:' });
 * const client = new NemoClient({ ...shared, logLevel: 'info' });
 * ```
 */
export async function sharedClientOptions(
  redis: RedisClient,
  options: RedisTokenStoreOptions = {},
): Promise<Required<Pick<NemoClientOptions, 'clientId' | 'tokenStore' | 'rateBudget'>>> {
  const store = { prefix: options.prefix };
  return {
    clientId: await sharedClientId(redis, store),
    tokenStore: new RedisTokenStore(redis, options),
    rateBudget: new RedisRateBudget(redis, store),
  };
}
