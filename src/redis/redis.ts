/**
 * What `nemovideo/redis` needs of a Redis client: `EVAL`, nothing else (every
 * operation is one small Lua script, atomic on the server). An `ioredis` client
 * (`new Redis(url)`, a `Cluster` when the keys share a hash tag) fits as it is;
 * so does a thin wrapper around another client.
 */
export interface RedisClient {
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

/** Options shared by the Redis stores. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key (default `nemovideo:`). Processes that must share tokens
   * and the 429 budget use the same prefix; give each service (production, a
   * staging API) its own when they share a Redis.
   */
  prefix?: string | undefined;
}

export const DEFAULT_PREFIX = 'nemovideo:';

/** Run a script; a Redis failure keeps its message, never a key's value. */
export async function run(
  redis: RedisClient,
  script: string,
  keys: string[],
  args: (string | number)[] = [],
): Promise<unknown> {
  return redis.eval(script, keys.length, ...keys, ...args);
}

/** `ioredis` hands back numbers as numbers and bulk strings as strings; accept both shapes. */
export function asNumber(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
}
