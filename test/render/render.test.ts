import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { decodeDraft, type RenderStatus } from '../../src/helpers.js';
import {
  AbortError,
  DraftNotReadyError,
  ExportNotAllowedError,
  NemoClient,
  RenderFailedError,
  RenderTimeoutError,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';
import { drive, READY_DRAFT } from './helpers.js';

const server = useMswServer();
const SID = '5529798706024415232';
const STATE_URL = `${BASE}/api/state/nemo_agent/me/${SID}/latest`;
const START_URL = `${BASE}/api/render/proxy/lambda`;
const POLL_URL = `${BASE}/api/render/proxy/lambda/:id`;
const CANCEL_URL = `${BASE}/api/render/proxy/lambda/:id/cancel`;

function setup(options: { maxRetries?: number } = {}) {
  const clock = new ManualClock();
  const client = new NemoClient({
    token: 'nmv_usr_render_test_token',
    clientIdFile: false,
    logLevel: 'off',
    timeout: 0, // no per-request timers: the clock only sees poll waits
    maxRetries: options.maxRetries ?? 0,
    clock,
  });
  return { clock, client, session: client.sessions.open(SID) };
}

function stateWith(draft: unknown) {
  return http.get(STATE_URL, () => ok({ session_id: SID, state: { draft } }));
}

interface StartBody {
  id: string;
  sessionId: string;
  draft: unknown;
  output: unknown;
}

function recordStarts(
  respond: (body: StartBody, n: number) => Response = () =>
    HttpResponse.json({ success: true, data: {} }),
) {
  const starts: StartBody[] = [];
  server.use(
    http.post(START_URL, async ({ request }) => {
      const body = (await request.json()) as StartBody;
      starts.push(body);
      return respond(body, starts.length);
    }),
  );
  return starts;
}

/** Serve each poll from `script` in turn (the last entry repeats). */
function pollScript(script: (() => Response)[]) {
  const polls: string[] = [];
  server.use(
    http.get(POLL_URL, ({ params }) => {
      polls.push(String(params.id));
      const next = script[Math.min(polls.length - 1, script.length - 1)];
      return next ? next() : HttpResponse.json({ status: 'pending' });
    }),
  );
  return polls;
}

describe('session.render()', () => {
  it('renders the current draft, round-tripped exactly, with the documented body', async () => {
    const { session } = setup();
    server.use(stateWith(READY_DRAFT));
    const starts = recordStarts();
    const job = await session.render();
    expect(starts).toHaveLength(1);
    const [body] = starts;
    expect(Object.keys(body ?? {})).toEqual(['id', 'sessionId', 'draft', 'output']);
    expect(body?.id).toBe(job.id);
    expect(job.id).toMatch(/^render_\d+_[0-9a-z]+$/);
    expect(body?.sessionId).toBe(SID);
    expect(JSON.stringify(body?.draft)).toBe(JSON.stringify(READY_DRAFT));
    expect(body?.output).toEqual({ format: 'mp4', quality: 'high' });
    expect(job.sessionId).toBe(SID);
  });

  it('renders an edited Timeline or a raw draft without reading the state, and merges output', async () => {
    const { session } = setup();
    const starts = recordStarts();
    const t = decodeDraft(READY_DRAFT);
    const edited = { ...t, tracks: t.tracks.slice(0, 1) };
    await session.render({ draft: edited, output: { quality: 'medium' } });
    await session.render({ draft: { t: [{ tt: 0, sg: [{}] }] } });
    const first = starts[0]?.draft as { t: unknown[]; zz: unknown };
    expect(first.t).toHaveLength(1);
    expect(first.zz).toEqual({ unknown: true });
    expect(starts[0]?.output).toEqual({ format: 'mp4', quality: 'medium' });
    expect(starts[1]?.draft).toEqual({ t: [{ tt: 0, sg: [{}] }] });
  });

  it('gives ids unique within one millisecond', async () => {
    const { session, clock } = setup();
    const starts = recordStarts();
    const jobs = await Promise.all(
      Array.from({ length: 40 }, () => session.render({ draft: READY_DRAFT })),
    );
    const ids = new Set(jobs.map((j) => j.id));
    expect(ids.size).toBe(40);
    for (const id of ids) expect(id.startsWith(`render_${clock.now()}_`)).toBe(true);
    expect(new Set(starts.map((s) => s.id))).toEqual(ids);
  });

  it('refuses to render a session with nothing to export, saying what to do', async () => {
    const { session } = setup();
    const starts = recordStarts();
    server.use(stateWith(null));
    const error = await session.render().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DraftNotReadyError);
    expect((error as Error).message).toMatch(/upload/i);
    server.use(stateWith({ t: [{ tt: 0, sg: [] }] }));
    await expect(session.render()).rejects.toBeInstanceOf(DraftNotReadyError);
    expect(starts).toHaveLength(0);
  });

  it('retries a failed start once, with a new id (contract §2.7)', async () => {
    const { session } = setup({ maxRetries: 3 });
    const starts = recordStarts((_, n) =>
      n === 1
        ? new HttpResponse('upstream error', { status: 502 })
        : HttpResponse.json({ success: true, data: {} }),
    );
    const job = await session.render({ draft: READY_DRAFT });
    expect(starts).toHaveLength(2);
    expect(starts[0]?.id).not.toBe(starts[1]?.id);
    expect(job.id).toBe(starts[1]?.id);
  });

  it('retries a start failed by an error envelope once, then gives up', async () => {
    const { session } = setup();
    const starts = recordStarts(() => HttpResponse.json({ success: false, error: 'lambda busy' }));
    await expect(session.render({ draft: READY_DRAFT })).rejects.toThrow(/lambda busy/);
    expect(starts).toHaveLength(2);
    expect(starts[0]?.id).not.toBe(starts[1]?.id);
  });

  it('does not retry a start refused by the plan (402)', async () => {
    const { session } = setup();
    const starts = recordStarts(() => new HttpResponse(null, { status: 402 }));
    await expect(session.render({ draft: READY_DRAFT })).rejects.toBeInstanceOf(
      ExportNotAllowedError,
    );
    expect(starts).toHaveLength(1);
  });
});

describe('job.wait()', () => {
  async function startedJob() {
    const ctx = setup();
    recordStarts();
    const job = await ctx.session.render({ draft: READY_DRAFT });
    return { ...ctx, job };
  }

  it('reads the documented top-level poll shape', async () => {
    const { job, clock } = await startedJob();
    const polls = pollScript([
      () => HttpResponse.json({ status: 'pending' }),
      () => HttpResponse.json({ status: 'processing', progress: 40 }),
      () =>
        HttpResponse.json({
          status: 'completed',
          progress: 100,
          output: { url: 'https://cdn.example.com/r.mp4', duration: 10, size: 12345 },
        }),
    ]);
    const seen: RenderStatus[] = [];
    const result = await drive(clock, job.wait({ onProgress: (s) => seen.push(s) }));
    expect(result).toMatchObject({
      renderId: job.id,
      url: 'https://cdn.example.com/r.mp4',
      durationSec: 10,
      sizeBytes: 12345,
    });
    expect(polls).toEqual([job.id, job.id, job.id]);
    expect(seen.map((s) => [s.status, s.progress])).toEqual([
      ['pending', undefined],
      ['processing', 40],
      ['completed', 100],
    ]);
    // the fast start of backend.render: polls 1, 3 and 7 s after the start
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('reads the wrapped {success, data} poll shape', async () => {
    const { job, clock } = await startedJob();
    pollScript([
      () =>
        HttpResponse.json({
          success: true,
          data: { id: job.id, status: 'processing', progress: '55' },
        }),
      () =>
        HttpResponse.json({
          success: true,
          data: {
            id: job.id,
            status: 'completed',
            progress: 100,
            outputUrl: 'https://cdn.example.com/w.mp4',
            createdAt: 1,
            completedAt: 2,
          },
        }),
    ]);
    const seen: RenderStatus[] = [];
    const result = await drive(
      clock,
      job.wait({ pollInterval: 1000, onProgress: (s) => seen.push(s) }),
    );
    expect(result.url).toBe('https://cdn.example.com/w.mp4');
    expect(seen[0]?.progress).toBe(55);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('treats unknown statuses as still running and accepts a bare url', async () => {
    const { job, clock } = await startedJob();
    pollScript([
      () => HttpResponse.json({ status: 'QUEUED' }),
      () => HttpResponse.json({ status: 'rendering_frames', progress: 12 }),
      () => HttpResponse.json({}),
      () => HttpResponse.json({ status: 'completed', url: 'https://cdn.example.com/u.mp4' }),
    ]);
    const seen: string[] = [];
    const result = await drive(
      clock,
      job.wait({ pollInterval: 10, onProgress: (s) => seen.push(s.status) }),
    );
    expect(seen).toEqual(['queued', 'rendering_frames', 'unknown', 'completed']);
    expect(result.url).toBe('https://cdn.example.com/u.mp4');
  });

  it('falls back to the API download endpoint when completed without a URL', async () => {
    const { job, clock } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'completed' })]);
    const result = await drive(clock, job.wait({ pollInterval: 1 }));
    expect(result.url).toBe(`${BASE}/api/render/proxy/${job.id}/download`);
  });

  it('raises RenderFailedError with the server reason (both shapes)', async () => {
    const { job, clock } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'failed', error: 'codec exploded' })]);
    const error = await drive(clock, job.wait({ pollInterval: 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderFailedError);
    expect((error as RenderFailedError).reason).toBe('codec exploded');
    expect((error as RenderFailedError).renderId).toBe(job.id);
    expect((error as Error).message).toContain('codec exploded');

    pollScript([
      () =>
        HttpResponse.json({
          success: true,
          data: { status: 'failed', error: { message: 'out of memory' } },
        }),
    ]);
    const wrapped = await drive(clock, job.wait({ pollInterval: 1 })).catch((e: unknown) => e);
    expect((wrapped as RenderFailedError).reason).toBe('out of memory');
  });

  it('raises RenderFailedError for a cancelled render', async () => {
    const { job, clock } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'canceled' })]);
    const error = await drive(clock, job.wait({ pollInterval: 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderFailedError);
    expect((error as Error).message).toMatch(/cancelled/);
  });

  it('honours Retry-After on a poll response for the next wait', async () => {
    const { job, clock } = await startedJob();
    pollScript([
      () => HttpResponse.json({ status: 'processing' }, { headers: { 'Retry-After': '7' } }),
      () => HttpResponse.json({ status: 'processing' }),
      () => HttpResponse.json({ status: 'completed', outputUrl: 'https://cdn.example.com/x.mp4' }),
    ]);
    await drive(clock, job.wait({ pollInterval: 2000 }));
    // polls at 1 s (Retry-After: 7), 8 s, then the schedule's next point (1, 3, 5, 7, 9 s…)
    expect(clock.sleeps).toEqual([1000, 7000, 1000]);
  });

  it('gives up after maxPolls, and within maxWait, with RenderTimeoutError', async () => {
    const { job, clock } = await startedJob();
    const polls = pollScript([() => HttpResponse.json({ status: 'processing', progress: 10 })]);
    const error = await drive(clock, job.wait()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RenderTimeoutError);
    expect(polls).toHaveLength(10); // documented default
    expect(clock.sleeps).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
    expect((error as Error).message).toMatch(/10 polls \(181 s\).*processing at 10%/);
    expect((error as RenderTimeoutError).renderId).toBe(job.renderId);
    expect((error as Error).message).toContain(
      `(await client.renders.retrieve('${job.renderId}')).wait()`,
    );

    const start = clock.now();
    const timed = await drive(clock, job.wait({ pollInterval: 1000, maxWait: 2500 })).catch(
      (e: unknown) => e,
    );
    expect(timed).toBeInstanceOf(RenderTimeoutError);
    expect(clock.now() - start).toBe(2500);
    expect((timed as RenderTimeoutError).kind).toBe('render');
  });

  it('stops at once on abort and leaves no timer behind', async () => {
    const { job, clock } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'processing' })]);
    const controller = new AbortController();
    const waiting = job.wait({ signal: controller.signal });
    await clock.waitForSleep(1000);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(clock.pending()).toEqual([]);
  });

  it('with the system clock, abort mid-wait clears every timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new NemoClient({ token: 'nmv_usr_t', clientIdFile: false, logLevel: 'off' });
      recordStarts();
      const job = await client.sessions.open(SID).render({ draft: READY_DRAFT });
      const polls = pollScript([() => HttpResponse.json({ status: 'processing' })]);
      const controller = new AbortController();
      const waiting = job.wait({ signal: controller.signal, pollInterval: 1000 });
      waiting.catch(() => {});
      expect(vi.getTimerCount()).toBe(1); // the first 1 s wait
      await vi.advanceTimersByTimeAsync(1000);
      for (let i = 0; i < 200 && !(polls.length === 1 && vi.getTimerCount() === 1); i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(polls).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(1); // the next wait; the request timeout timer is gone
      controller.abort();
      await expect(waiting).rejects.toBeInstanceOf(AbortError);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('cancels the job on abort only when cancelOnAbort is set', async () => {
    const { job, clock } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'processing' })]);
    const cancels: string[] = [];
    server.use(
      http.post(CANCEL_URL, ({ params }) => {
        cancels.push(String(params.id));
        return HttpResponse.json({ success: true, data: {} });
      }),
    );
    const a = new AbortController();
    const first = job.wait({ signal: a.signal, pollInterval: 100 });
    await clock.waitForSleep(100);
    a.abort();
    await expect(first).rejects.toBeInstanceOf(AbortError);
    expect(cancels).toEqual([]);

    const b = new AbortController();
    const second = job.wait({ signal: b.signal, pollInterval: 100, cancelOnAbort: true });
    await clock.waitForSleep(100);
    b.abort();
    await expect(second).rejects.toBeInstanceOf(AbortError);
    expect(cancels).toEqual([job.id]);
    expect(clock.pending()).toEqual([]);
  });

  it('job.cancel() posts to the cancel endpoint', async () => {
    const { job } = await startedJob();
    const cancels: string[] = [];
    server.use(
      http.post(CANCEL_URL, ({ params }) => {
        cancels.push(String(params.id));
        return HttpResponse.json({ success: true, data: { status: 'cancelled' } });
      }),
    );
    await job.cancel();
    expect(cancels).toEqual([job.id]);
  });

  it('job.status() polls once', async () => {
    const { job } = await startedJob();
    pollScript([() => HttpResponse.json({ status: 'processing', progress: 150 })]);
    const status = await job.status();
    expect(status.status).toBe('processing');
    expect(status.progress).toBe(100); // clamped to 0–100
  });
});
