/**
 * Request overhead: 2,000 sequential `client.credits.balance()` calls against a
 * loopback server, versus the same number of raw `fetch` + `res.json()` calls
 * with the same headers, and of bare `ky` calls with the same options (prefix
 * URL, headers, a 60 s timeout like the SDK's default, JSON decoding), in the
 * same process. Rounds interleave the three, in all six orders in turn, so drift
 * (JIT, GC, CPU frequency) hits all sides equally. Goals (#14.6): ≤ 1.1× bare ky (what our layer adds on
 * top of ky stays under 10 %), and ≤ 1.25× raw fetch unless ky alone is above it.
 */
import ky from 'ky';
import { NemoClient } from '../src/index.js';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { sendJson, startLoopback } from './lib/server.js';
import { median, round } from './lib/stats.js';

const PATH = '/api/credits/balance/simple';
const TOKEN = 'nmv_usr_bench_overhead_token_0123456789';
const BODY = { code: 0, data: { available: 100, frozen: 0, total: 100 } };

export interface OverheadOptions {
  calls?: number;
  rounds?: number;
  warmup?: number;
}

export async function run(options: OverheadOptions = {}): Promise<BenchResult[]> {
  const calls = options.calls ?? 2000;
  const rounds = options.rounds ?? 24;
  const warmup = options.warmup ?? 400;
  const perRound = Math.ceil(calls / rounds);

  let served = 0;
  const server = await startLoopback((req, res) => {
    if (req.method === 'GET' && req.url === PATH) {
      served += 1;
      sendJson(res, BODY);
    } else sendJson(res, { code: 404, message: 'not found' }, 404);
  });
  try {
    const client = new NemoClient({
      baseUrl: server.url,
      token: TOKEN,
      clientIdFile: false,
      logLevel: 'off',
    });
    const headers = {
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/json',
      'x-skill-source': 'nemovideo',
      'x-skill-version': '0.0.0',
      'x-skill-platform': 'unknown',
    };
    const url = `${server.url}${PATH}`;

    const sdkCall = async () => {
      const b = await client.credits.balance();
      if (b.available !== 100) throw new Error('bad balance');
    };
    const rawCall = async () => {
      const res = await fetch(url, { headers });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as { code: number; data: { available: number } };
      if (body.code !== 0 || body.data.available !== 100) throw new Error('bad balance');
    };
    // Bare ky with the options the SDK gives it, plus the SDK's default timeout (60 s):
    // what a user of ky alone would write for the same call.
    const kyInstance = ky.create({
      prefixUrl: server.url,
      retry: 0,
      timeout: 60_000,
      throwHttpErrors: false,
    });
    const kyCall = async () => {
      const body = await kyInstance(PATH.slice(1), { headers }).json<{
        code: number;
        data: { available: number };
      }>();
      if (body.code !== 0 || body.data.available !== 100) throw new Error('bad balance');
    };
    const loop = async (fn: () => Promise<void>, n: number) => {
      const start = performance.now();
      for (let i = 0; i < n; i++) await fn();
      return performance.now() - start;
    };

    await loop(rawCall, warmup);
    await loop(sdkCall, warmup);
    await loop(kyCall, warmup);

    const sdkRounds: number[] = [];
    const rawRounds: number[] = [];
    const kyRounds: number[] = [];
    // Each round runs the three sides back to back, in an order that rotates and reverses from
    // round to round (all six orders), so no side always runs first or right after another.
    const sides = [
      { fn: rawCall, out: rawRounds },
      { fn: sdkCall, out: sdkRounds },
      { fn: kyCall, out: kyRounds },
    ];
    for (let r = 0; r < rounds; r++) {
      const rotated = [0, 1, 2].map((i) => sides[(i + r) % 3] as (typeof sides)[number]);
      const order = Math.floor(r / 3) % 2 === 0 ? rotated : rotated.reverse();
      for (const side of order) side.out.push(await loop(side.fn, perRound));
    }
    const sdkTotal = sdkRounds.reduce((a, b) => a + b, 0);
    const rawTotal = rawRounds.reduce((a, b) => a + b, 0);
    const total = perRound * rounds;
    const perCallUs = (ms: number, n: number) => round((ms / n) * 1000, 1);
    // Paired rounds: the median of their ratios resists bursts of CPU contention.
    const ratio = median(sdkRounds.map((s, i) => s / (rawRounds[i] as number)));
    const kyRatio = median(sdkRounds.map((s, i) => s / (kyRounds[i] as number)));
    const kyOverRaw = median(kyRounds.map((k, i) => k / (rawRounds[i] as number)));
    return [
      result({
        id: 'request-overhead',
        title: `Request overhead, ${total} sequential credits.balance() (µs per call)`,
        unit: 'µs',
        sdk: perCallUs(median(sdkRounds), perRound),
        baseline: perCallUs(median(rawRounds), perRound),
        baselineLabel: 'fetch + res.json()',
        ratio: round(ratio, 3),
        goal: { op: '<=', value: 1.25, on: 'ratio', label: '≤ 1.25×' },
        details: {
          calls: total,
          rounds,
          ratioOfTotals: round(sdkTotal / rawTotal, 3),
          sdkTotalMs: round(sdkTotal, 1),
          rawTotalMs: round(rawTotal, 1),
          kyAlonePerCallUs: perCallUs(median(kyRounds), perRound),
          kyOverRaw: round(kyOverRaw, 3),
          note:
            kyOverRaw > 1.25
              ? `ky alone is ${round(kyOverRaw, 2)}× raw fetch, above 1.25×: the SDK is held to ≤ 1.1× ky`
              : undefined,
          requestsServed: served,
        },
      }),
      result({
        id: 'request-overhead-ky',
        title: `Request overhead over bare ky, ${total} sequential credits.balance() (µs per call)`,
        unit: 'µs',
        sdk: perCallUs(median(sdkRounds), perRound),
        baseline: perCallUs(median(kyRounds), perRound),
        baselineLabel: 'ky (same options) + .json()',
        ratio: round(kyRatio, 3),
        goal: { op: '<=', value: 1.1, on: 'ratio', label: '≤ 1.1×' },
        details: { calls: total, rounds, kyOverRaw: round(kyOverRaw, 3) },
      }),
    ];
  } finally {
    await server.close();
  }
}

if (isMain(import.meta.url)) emit(await run());
