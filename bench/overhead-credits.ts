/**
 * Request overhead: 2,000 sequential `client.credits.balance()` calls against a
 * loopback server, versus the same number of raw `fetch` + `res.json()` calls
 * with the same headers, in the same process. Rounds alternate so drift (JIT,
 * GC, CPU frequency) hits both sides equally. Goal: ≤ 1.25× the baseline time.
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
  const rounds = options.rounds ?? 16;
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
    // Reference only: ky alone (the SDK's HTTP layer), to show where overhead comes from.
    const kyInstance = ky.create({
      prefixUrl: server.url,
      retry: 0,
      timeout: false,
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
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        rawRounds.push(await loop(rawCall, perRound));
        sdkRounds.push(await loop(sdkCall, perRound));
      } else {
        sdkRounds.push(await loop(sdkCall, perRound));
        rawRounds.push(await loop(rawCall, perRound));
      }
      kyRounds.push(await loop(kyCall, Math.ceil(perRound / 2)));
    }
    const sdkTotal = sdkRounds.reduce((a, b) => a + b, 0);
    const rawTotal = rawRounds.reduce((a, b) => a + b, 0);
    const total = perRound * rounds;
    const perCallUs = (ms: number, n: number) => round((ms / n) * 1000, 1);
    // Paired rounds: the median of their ratios resists bursts of CPU contention.
    const ratio = median(sdkRounds.map((s, i) => s / (rawRounds[i] as number)));
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
          kyAlonePerCallUs: perCallUs(median(kyRounds), Math.ceil(perRound / 2)),
          requestsServed: served,
        },
      }),
    ];
  } finally {
    await server.close();
  }
}

if (isMain(import.meta.url)) emit(await run());
