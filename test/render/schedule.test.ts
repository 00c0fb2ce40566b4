/**
 * #12.3 and #13 items 5–6: render polls start fast and back off to the
 * documented cadence, Retry-After is honoured up to a cap, and maxWait bounds
 * the whole wait even while a poll hangs. Time is a ManualClock: no sleeps.
 */
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import type { BackendOverrides } from '../../src/helpers.js';
import { NemoClient, RenderTimeoutError } from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, useMswServer } from '../helpers/msw.js';
import { drive, READY_DRAFT } from './helpers.js';

const server = useMswServer();
const SID = '5529798706024415232';
const POLL_URL = `${BASE}/api/render/proxy/lambda/:id`;

async function started(options: { backend?: BackendOverrides; timeout?: number } = {}) {
  const clock = new ManualClock();
  const client = new NemoClient({
    token: 'nmv_usr_schedule_test',
    clientIdFile: false,
    logLevel: 'off',
    timeout: options.timeout ?? 0,
    maxRetries: 0,
    clock,
    backend: options.backend,
  });
  server.use(
    http.post(`${BASE}/api/render/proxy/lambda`, () =>
      HttpResponse.json({ success: true, data: {} }),
    ),
  );
  const job = await client.sessions.open(SID).render({ draft: READY_DRAFT });
  return { clock, client, job, start: clock.now() };
}

/** A render that completes `durationMs` of clock time after `start`; records poll times. */
function renderTaking(clock: ManualClock, start: number, durationMs: number) {
  const at: number[] = [];
  server.use(
    http.get(POLL_URL, () => {
      const elapsed = clock.now() - start;
      at.push(elapsed);
      return elapsed >= durationMs
        ? HttpResponse.json({ status: 'completed', output: { url: 'https://cdn.x/r.mp4' } })
        : HttpResponse.json({
            status: 'processing',
            progress: Math.floor((elapsed / durationMs) * 100),
          });
    }),
  );
  return at;
}

describe('the poll schedule', () => {
  it('a 90 s render costs 7 polls, within the documented budget of 10, and is seen 1 s after it ends', async () => {
    const { clock, job, start } = await started();
    const at = renderTaking(clock, start, 90_000);
    const result = await drive(clock, job.wait());
    expect(result.url).toBe('https://cdn.x/r.mp4');
    expect(at).toEqual([1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000]);
    expect(at.length).toBeLessThanOrEqual(10);
  });

  it('a render of the emulator (3 s) is seen after 2 polls, 3 s after the start', async () => {
    const { clock, job, start } = await started();
    const at = renderTaking(clock, start, 3000);
    await drive(clock, job.wait());
    expect(at).toEqual([1000, 3000]);
  });

  it('the steady cadence is pollInterval (the documented alternative: 10 s × 30)', async () => {
    const { clock, job, start } = await started();
    const at = renderTaking(clock, start, 90_000);
    await drive(clock, job.wait({ pollInterval: 10_000, maxPolls: 30 }));
    expect(at).toEqual([
      1000, 3000, 7000, 15_000, 25_000, 35_000, 45_000, 55_000, 65_000, 75_000, 85_000, 95_000,
    ]);
  });

  it('lives in the backend profile: one overridable place', async () => {
    const { clock, job, start } = await started({
      backend: { render: { firstPollDelayMs: 5000, pollBackoff: 1, pollIntervalMs: 5000 } },
    });
    const at = renderTaking(clock, start, 12_000);
    await drive(clock, job.wait());
    expect(at).toEqual([5000, 10_000, 15_000]);
  });

  it('pollIntervalMs 0 (tests) polls without waiting', async () => {
    const { clock, job, start } = await started({ backend: { render: { pollIntervalMs: 0 } } });
    let polls = 0;
    server.use(
      http.get(POLL_URL, () =>
        ++polls < 4
          ? HttpResponse.json({ status: 'processing' })
          : HttpResponse.json({ status: 'completed', url: 'https://cdn.x/0.mp4' }),
      ),
    );
    await drive(clock, job.wait());
    expect(polls).toBe(4);
    expect(clock.now()).toBe(start);
  });

  it('follows the job’s age: a second wait() after a timeout keeps the steady cadence', async () => {
    const { clock, job, start } = await started();
    const at = renderTaking(clock, start, 240_000);
    const first = await drive(clock, job.wait()).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RenderTimeoutError);
    expect(at.at(-1)).toBe(181_000);
    await drive(clock, job.wait());
    expect(at.slice(10)).toEqual([211_000, 241_000]);
  });

  it('maxWait alone bounds the wait by time, not by the poll budget', async () => {
    const { clock, job, start } = await started();
    const at = renderTaking(clock, start, 240_000);
    await drive(clock, job.wait({ maxWait: 300_000 }));
    expect(at).toHaveLength(12); // 1, 3, 7, 15, 31, then every 30 s up to 241 s
    expect(at.at(-1)).toBe(241_000);
  });
});

describe('Retry-After on a poll', () => {
  it('makes the next wait at least that long', async () => {
    const { clock, job, start } = await started();
    const at: number[] = [];
    server.use(
      http.get(POLL_URL, () => {
        at.push(clock.now() - start);
        return at.length === 1
          ? HttpResponse.json({ status: 'pending' }, { headers: { 'Retry-After': '20' } })
          : at.length < 3
            ? HttpResponse.json({ status: 'processing' })
            : HttpResponse.json({ status: 'completed', url: 'https://cdn.x/a.mp4' });
      }),
    );
    await drive(clock, job.wait());
    // 1 s, then 20 s later (21 s), then the schedule's next point (31 s)
    expect(at).toEqual([1000, 21_000, 31_000]);
  });

  it('is capped (retryTiming.maxRetryAfterMs): a one-year hint neither overflows a timer nor bursts', async () => {
    const { clock, job, start } = await started();
    const at: number[] = [];
    server.use(
      http.get(POLL_URL, () => {
        at.push(clock.now() - start);
        return HttpResponse.json(
          { status: 'pending' },
          { headers: { 'Retry-After': String(365 * 24 * 3600) } },
        );
      }),
    );
    const error = await drive(clock, job.wait({ maxPolls: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderTimeoutError);
    expect(at).toEqual([1000, 121_000, 241_000]);
    expect(Math.max(...clock.sleeps)).toBe(120_000);
  });

  it('never waits past maxWait', async () => {
    const { clock, job, start } = await started();
    server.use(
      http.get(POLL_URL, () =>
        HttpResponse.json({ status: 'pending' }, { headers: { 'Retry-After': '100' } }),
      ),
    );
    const error = await drive(clock, job.wait({ maxWait: 30_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderTimeoutError);
    expect(clock.now() - start).toBe(30_000);
  });
});

describe('maxWait while a poll hangs (#13 item 5)', () => {
  it('ends in RenderTimeoutError at maxWait, however long the request timeout and retries', async () => {
    // A client timeout of 60 s with 3 attempts would take about 185 s without the deadline.
    const { clock, job, start } = await started({ timeout: 60_000 });
    let polls = 0;
    server.use(
      http.get(POLL_URL, () => {
        polls++;
        return new Promise<Response>(() => {}); // never answers
      }),
    );
    const error = await drive(clock, job.wait({ maxWait: 5000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderTimeoutError);
    expect(clock.now() - start).toBe(5000);
    expect(polls).toBe(1);
    expect((error as RenderTimeoutError).renderId).toBe(job.renderId);
    expect((error as Error).message).toMatch(/within maxWait \(5000 ms\)/);
    expect(clock.pending()).toEqual([]);
  });
});
