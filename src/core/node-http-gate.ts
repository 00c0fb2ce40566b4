/**
 * Whether `node:http` may carry a transfer (see node-http.ts). Apart from the
 * transfer itself so that deciding costs no bytes of it: the transport loads
 * node-http.ts only when this says yes, so a browser bundle ships the decision
 * and a lazy chunk it never loads.
 */

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface NodeProcessLike {
  versions?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
  execArgv?: string[];
}

/**
 * Whether a GET to a host other than the API may go through `node:http`:
 * only on Node itself (not Bun or Deno), when the user gave no `fetch`, set no
 * undici global dispatcher other than a plain `Agent` (a proxy or mock agent,
 * say) and asked for no environment proxy, so that nothing they configured for
 * `fetch` is bypassed. A user whose plain `Agent` carries settings that matter
 * (a private CA) passes `fetch` to keep downloads on it.
 */
export function canUseNodeHttp(customFetch: boolean): boolean {
  if (customFetch) return false;
  const proc = (globalThis as { process?: NodeProcessLike }).process;
  const versions = proc?.versions;
  if (!versions?.node || versions.bun || 'Deno' in globalThis) return false;
  // undici installs a plain `Agent` there on the first fetch; anything else (a
  // ProxyAgent, EnvHttpProxyAgent, MockAgent…) was set by the user for fetch.
  const dispatcher = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  if (dispatcher !== undefined && dispatcher?.constructor?.name !== 'Agent') return false;
  const env = proc?.env ?? {};
  const envProxy = (env.NODE_USE_ENV_PROXY ?? '').trim();
  if ((envProxy !== '' && envProxy !== '0') || /--use-env-proxy\b/.test(env.NODE_OPTIONS ?? '')) {
    return false;
  }
  if (proc?.execArgv?.some((arg) => arg.startsWith('--use-env-proxy'))) return false;
  return true;
}
