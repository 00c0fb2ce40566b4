/**
 * #13 items 5, 6 and 11: every wait has a deadline that holds when the server
 * hangs or trickles, and no timer overflows (a `setTimeout` above 2^31-1 ms
 * fires at once, with a TimeoutOverflowWarning).
 *
 * These use real time on purpose, with small figures: the point is what a
 * hanging socket does to the SDK's own timers. Bounds are generous (seconds)
 * against load on 2 cores.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describe as describeError, expectCleanNemoError, outcome, within } from './expect.js';
import { downloadDeadline, isNemoError, NemoClient, RenderTimeoutError } from './sdk.js';
import {
  backend,
  closeAll,
  hang,
  hostile,
  PATHS,
  READY_DRAFT,
  SESSION_ID,
  sendJson,
  trickle,
} from './servers.js';

const TOKEN = 'usr-deadline-S3CRET-token';
const ONE_YEAR_S = 365 * 24 * 3600;
const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000; // > 2^31-1

let dir: string;
let warnings: Error[];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(async () => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
  dir = await mkdtemp(join(tmpdir(), 'nemo-hostile-deadline-'));
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(async () => {
  process.off('warning', onWarning);
  await closeAll();
  await rm(dir, { recursive: true, force: true });
});

const overflowWarnings = () =>
  warnings.filter((w) => w.name === 'TimeoutOverflowWarning').map((w) => w.message);

describe('item 5: job.wait({ maxWait }) while a poll hangs', () => {
  it('rejects with RenderTimeoutError within about maxWait', async () => {
    const api = await hostile(backend({ renderPoll: hang }));
    // A per-request timeout well above maxWait: maxWait must cut the hanging poll itself.
    const client = new NemoClient({
      token: TOKEN,
      baseUrl: api.origin,
      timeout: 3_000,
      logLevel: 'off',
    });
    const job = await client.sessions.open(SESSION_ID).render({ draft: READY_DRAFT });
    const maxWait = 1_000;
    const result = await within(job.wait({ maxWait, pollInterval: 10 }), 15_000);
    expect(result.settled, 'wait() never returned').toBe(true);
    if (!result.settled) return;
    expect(result.ok, 'a hanging poll cannot complete a render').toBe(false);
    if (result.ok) return;
    expect(
      { name: (result.error as Error).name, ms: result.ms <= maxWait + 3_000 },
      `${describeError(result.error)} after ${result.ms} ms`,
    ).toEqual({ name: 'RenderTimeoutError', ms: true });
    expect(result.error).toBeInstanceOf(RenderTimeoutError);
    expectCleanNemoError(result.error, ['S3CRET']);
  });
});

describe('item 6: no timer overflows', () => {
  it('a one-year Retry-After on a pending poll: no burst of polls, no TimeoutOverflowWarning', async () => {
    const api = await hostile(
      backend({
        renderPoll: (_req, res) =>
          sendJson(
            res,
            200,
            { status: 'pending', progress: 1 },
            { 'retry-after': String(ONE_YEAR_S) },
          ),
      }),
    );
    const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
    const job = await client.sessions.open(SESSION_ID).render({ draft: READY_DRAFT });
    const controller = new AbortController();
    // The first poll comes after pollInterval; after it, the one-year hint may
    // be honoured (capped timers) or replaced by pollInterval: both are paced.
    const pollInterval = 250;
    const observeMs = 1_000;
    // Not wrapped in outcome(): within() settles it (a wrapped promise would always resolve).
    const waiting = job.wait({ pollInterval, signal: controller.signal });
    waiting.catch(() => {});
    await delay(observeMs);
    const polls = api.count('GET', PATHS.renderPoll);
    controller.abort();
    const result = await within(waiting, 5_000);
    await delay(10); // let a pending warning reach process.on('warning')
    expect(
      {
        paced: polls <= observeMs / pollInterval,
        overflowWarnings: overflowWarnings(),
      },
      `${polls} polls in ${observeMs} ms`,
    ).toEqual({ paced: true, overflowWarnings: [] });
    expect(result.settled && !result.ok, 'wait() ends with the abort').toBe(true);
    if (result.settled && !result.ok) expectCleanNemoError(result.error, ['S3CRET']);
  });

  it('timeouts above 2^31-1 ms (client timeout, download idleTimeout): honoured or refused, never immediate', async () => {
    const slowly =
      (then: (res: import('node:http').ServerResponse) => void) =>
      (_req: unknown, res: import('node:http').ServerResponse) =>
        void delay(150).then(() => then(res));
    const api = await hostile(
      backend({
        credits: slowly((res) =>
          sendJson(res, 200, { code: 0, data: { available: 5, frozen: 0, total: 5 } }),
        ),
        file: slowly((res) => {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '4' });
          res.end('abcd');
        }),
      }),
    );
    // Either honoured (a long wait) or refused up front as a configuration
    // error; never a timeout that fires at once.
    const verdict = (settled: Awaited<ReturnType<typeof outcome>>) => {
      if (settled.ok) return 'ok';
      const error = settled.error;
      return isNemoError(error) && !/timeout/i.test(error.name) ? 'refused' : describeError(error);
    };
    const built = await outcome(
      (async () =>
        new NemoClient({
          token: TOKEN,
          baseUrl: api.origin,
          timeout: THIRTY_DAYS_MS,
          maxRetries: 0,
          logLevel: 'off',
        }))(),
    );
    const credits = built.ok ? await outcome(built.value.credits.balance()) : built;
    const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
    const download = await outcome(
      client.download(`${api.origin}/files/slow.mp4`, join(dir, 'slow.mp4'), {
        idleTimeout: THIRTY_DAYS_MS,
      }),
    );
    await delay(10);
    expect(
      {
        credits: ['ok', 'refused'].includes(verdict(credits)),
        download: ['ok', 'refused'].includes(verdict(download)),
        overflowWarnings: overflowWarnings().length,
      },
      `client timeout: ${verdict(credits)}; download idleTimeout: ${verdict(download)}`,
    ).toEqual({
      credits: true,
      download: true,
      overflowWarnings: 0,
    });
  });
});

describe('item 11: downloads have an overall deadline', () => {
  it('a CDN trickling one byte every 200 ms fails at the deadline, and leaves no file', async () => {
    const api = await hostile(backend());
    const cdn = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '100000' });
      void trickle(res, 200);
    });
    const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
    const deadline = 1_500;
    const target = join(dir, 'slow.mp4');
    const result = await within(
      client.download(`${cdn.origin}/files/slow.mp4`, target, {
        idleTimeout: 1_000, // never reached: a byte comes every 200 ms
        ...downloadDeadline(deadline),
      }),
      10_000,
    );
    expect(result.settled, `the download was still running after ${result.ms} ms`).toBe(true);
    if (!result.settled) return;
    expect(result.ok, 'a trickle of 100 000 bytes cannot finish in time').toBe(false);
    if (result.ok) return;
    expectCleanNemoError(result.error, ['S3CRET']);
    expect(result.ms, `failed after ${result.ms} ms`).toBeLessThanOrEqual(deadline + 3_000);
    expect(await readdir(dir), 'no file, no temporary file left').toEqual([]);
  });
});
