/**
 * Token storm: 200 concurrent calls when the token must be (re)obtained. The
 * SDK must make exactly one anonymous-token request for all of them (single
 * flight). Three cases: cold start (no token yet), the server rejecting the
 * token with code 1001, and a stored token past its expiry. The baseline is a
 * naive raw-fetch client (refresh on 1001 per call), measured in the same run.
 */

import { MemoryTokenStore } from '../src/helpers.js';
import { NemoClient } from '../src/index.js';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { drain, sendJson, startLoopback } from './lib/server.js';
import { round } from './lib/stats.js';

const TOKEN_PATH = '/api/auth/anonymous-token';
const BALANCE_PATH = '/api/credits/balance/simple';

/** A loopback API with anonymous tokens that can all be invalidated at once. */
async function tokenServer() {
  const valid = new Set<string>();
  let issued = 0;
  const server = await startLoopback(async (req, res) => {
    await drain(req);
    if (req.method === 'POST' && req.url === TOKEN_PATH) {
      if (!req.headers['x-client-id']) return sendJson(res, { code: 400, message: 'x' }, 400);
      issued += 1;
      const token = `nmv_usr_storm_${issued}_${Math.random().toString(36).slice(2)}`;
      valid.add(token);
      // A little latency, so concurrent callers really overlap the refresh.
      await new Promise((r) => setTimeout(r, 20));
      return sendJson(res, {
        code: 0,
        data: {
          token,
          credits: 100,
          user_id: 'anon_storm',
          expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        },
      });
    }
    if (req.method === 'GET' && req.url === BALANCE_PATH) {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!valid.has(token)) return sendJson(res, { code: 1001, message: 'token expired' });
      return sendJson(res, { code: 0, data: { available: 100, frozen: 0, total: 100 } });
    }
    sendJson(res, { code: 404, message: 'not found' }, 404);
  });
  return {
    ...server,
    issued: () => issued,
    expireAll: () => valid.clear(),
  };
}

export async function run(options: { concurrency?: number } = {}): Promise<BenchResult[]> {
  const n = options.concurrency ?? 200;
  const server = await tokenServer();
  const base = { baseUrl: server.url, logLevel: 'off' as const, clientIdFile: false as const };
  try {
    const storm = async (client: NemoClient) => {
      const before = server.issued();
      const started = performance.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: n }, () => client.credits.balance()),
      );
      const failed = outcomes.filter((o) => o.status === 'rejected').length;
      return { requests: server.issued() - before, failed, ms: performance.now() - started };
    };

    // 1. Cold start: no token yet.
    const cold = await storm(new NemoClient(base));

    // 2. The server rejects the current token (1001) for every caller at once.
    const warm = new NemoClient(base);
    await warm.credits.balance();
    server.expireAll();
    const rejected = await storm(warm);

    // 3. The stored token's known expiry has passed.
    const store = new MemoryTokenStore();
    const clientId = 'bench-storm-client';
    await store.set(clientId, {
      token: 'nmv_usr_storm_expired_token',
      expiresAt: Date.now() - 1000,
      obtainedAt: Date.now() - 8 * 86_400_000,
    });
    const expired = await storm(new NemoClient({ ...base, clientId, tokenStore: store }));

    // Baseline: a naive raw client that refreshes on 1001 in every call.
    server.expireAll();
    let naiveToken = 'nmv_usr_storm_stale';
    const naiveCall = async () => {
      const get = (t: string) =>
        fetch(`${server.url}${BALANCE_PATH}`, { headers: { authorization: `Bearer ${t}` } }).then(
          (r) => r.json() as Promise<{ code: number }>,
        );
      if ((await get(naiveToken)).code === 1001) {
        const r = await fetch(`${server.url}${TOKEN_PATH}`, {
          method: 'POST',
          headers: { 'x-client-id': 'naive' },
        });
        naiveToken = ((await r.json()) as { data: { token: string } }).data.token;
        await get(naiveToken);
      }
    };
    const naiveBefore = server.issued();
    const naiveStart = performance.now();
    await Promise.all(Array.from({ length: n }, naiveCall));
    const naive = { requests: server.issued() - naiveBefore, ms: performance.now() - naiveStart };

    const cases = [
      ['cold', 'cold start', cold],
      ['1001', 'token rejected (1001)', rejected],
      ['expired', 'stored token expired', expired],
    ] as const;
    return cases.map(([id, label, c]) =>
      result({
        id: `token-storm-${id}`,
        title: `Token storm, ${label}: anonymous-token requests for ${n} concurrent calls`,
        unit: 'requests',
        sdk: c.failed === 0 ? c.requests : Number.NaN,
        baseline: naive.requests,
        baselineLabel: 'naive fetch client, refresh per call',
        goal: { op: '==', value: 1, on: 'sdk', label: 'exactly 1' },
        details: {
          calls: n,
          failedCalls: c.failed,
          sdkWallMs: round(c.ms, 1),
          baselineWallMs: round(naive.ms, 1),
        },
      }),
    );
  } finally {
    await server.close();
  }
}

if (isMain(import.meta.url)) emit(await run());
