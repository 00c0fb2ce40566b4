import { NemoError } from '../index.js';
import { DEFAULT_PREFIX, type RedisClient, type RedisStoreOptions, run } from './redis.js';

/** Keep the first id ever offered; return the id in force. */
const CLIENT_ID = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])`;

/**
 * One client id for every process sharing this Redis (kept at
 * `<prefix>client-id`, created on first use): the service grants one anonymous
 * token per client id, so workers that share the token should send the same id
 * when they ask for it. Pass it as the `clientId` option; a `NEMO_CLIENT_ID` or
 * a fixed id of your own works as well.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { NemoClient } from 'nemovideo';
 * import { RedisTokenStore, sharedClientId } from 'nemovideo/redis';
 *
 * const redis = new Redis();
 * const client = new NemoClient({
 *   clientId: await sharedClientId(redis),
 *   tokenStore: new RedisTokenStore(redis),
 * });
 * ```
 */
export async function sharedClientId(
  redis: RedisClient,
  options: RedisStoreOptions = {},
): Promise<string> {
  const key = `${options.prefix ?? DEFAULT_PREFIX}client-id`;
  const id = await run(redis, CLIENT_ID, [key], [globalThis.crypto.randomUUID()]);
  if (typeof id !== 'string' || id === '') {
    throw new NemoError(
      `Redis returned no client id for ${key}: check that the client given is a Redis client (ioredis) connected to a Redis server.`,
    );
  }
  return id;
}
