/** Controls for durable and batch tests: counters, the request log, render time and stalls. */
import { describe, expect, test } from 'vitest';
import { createEmulator } from '../../src/testing/index.js';
import { call, completedRender, FakeClock, fetchBytes, readyToRender } from './helpers.js';

describe('stats(): counters per route', () => {
  test('counts requests, statuses and file bytes per route; faulted and unmatched ones too', async () => {
    const r = await completedRender();
    r.emulator.fail('POST /run_sse', { status: 503 });
    await call(r.emulator, 'POST', '/run_sse', { token: r.token, body: {} });
    await call(r.emulator, 'GET', '/nope');
    await fetchBytes(r.emulator, r.url, { Range: 'bytes=0-99' });
    await fetchBytes(r.emulator, r.url, {}, 'HEAD');
    const stats = r.emulator.stats();
    expect(stats['POST /api/auth/anonymous-token']).toEqual({
      count: 1,
      statuses: { '200': 1 },
      bytesSent: 0,
    });
    expect(stats['POST /run_sse']).toMatchObject({ count: 2, statuses: { '200': 1, '503': 1 } });
    expect(stats['POST /api/render/proxy/lambda']?.count).toBe(1);
    expect(stats['GET /nope (unmatched)']).toBeUndefined();
    expect(stats['GET (unmatched)']).toMatchObject({ count: 1, statuses: { '404': 1 } });
    expect(stats['GET /renders/:file']).toEqual({
      count: 1,
      statuses: { '206': 1 },
      bytesSent: 100,
    });
    expect(stats['HEAD /renders/:file']?.bytesSent).toBe(0);
    // Each log entry names its route and the bytes it was sent.
    const cdn = r.emulator.requests.filter((q) => q.origin === 'cdn');
    expect(cdn.map((q) => [q.route, q.bytesSent])).toEqual([
      ['GET /renders/:file', 100],
      ['HEAD /renders/:file', undefined],
    ]);
  });

  test('bytesSent counts what a cut download handed out', async () => {
    const r = await completedRender({ resultSizeBytes: 4 * 1024 * 1024 });
    r.emulator.fail('GET /renders/*', { cutAfterBytes: 300_000 });
    const res = await r.emulator.handle(new Request(r.url));
    await expect(res.arrayBuffer()).rejects.toThrow(/cut/);
    // The source is read a chunk (256 KiB) at a time: at most one chunk beyond the cut.
    const sent = r.emulator.stats()['GET /renders/:file']?.bytesSent ?? 0;
    expect(sent).toBeGreaterThanOrEqual(300_000);
    expect(sent).toBeLessThanOrEqual(300_000 + 256 * 1024);
  });

  test('requestLogLimit caps the log, not the counters; reset() clears both', async () => {
    const emulator = createEmulator({ requestLogLimit: 10 });
    for (let i = 0; i < 25; i++) await call(emulator, 'GET', '/api/credits/balance/simple');
    expect(emulator.requests.length).toBeLessThanOrEqual(10);
    expect(emulator.requests.at(-1)?.route).toBe('GET /api/credits/balance/simple');
    expect(emulator.stats()['GET /api/credits/balance/simple']?.count).toBe(25);
    emulator.reset();
    expect([emulator.requests.length, emulator.stats()]).toEqual([0, {}]);
  });
});

describe('render time on the clock', () => {
  test('200 renders started 20 at a time each complete exactly renderDurationMs after their start', async () => {
    const clock = new FakeClock();
    const { emulator, start, poll } = await readyToRender({ clock, renderDurationMs: 4000 });
    const started = new Map<string, number>();
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const id = `r${batch}-${i}`;
          started.set(id, clock.t);
          expect((await start(id)).status).toBe(200);
        }),
      );
      clock.advance(400);
    }
    // Each batch: still processing 1 ms before its end, completed exactly at it.
    const ids = [...started.keys()];
    for (let batch = 0; batch < 10; batch++) {
      const mine = ids.slice(batch * 20, batch * 20 + 20);
      const end = started.get(mine[0]!)! + 4000;
      clock.t = end - 1;
      const before = await Promise.all(mine.map(async (id) => (await poll(id)).json.status));
      clock.t = end;
      const after = await Promise.all(mine.map(async (id) => (await poll(id)).json.status));
      expect(new Set(before)).toEqual(new Set(['processing']));
      expect(new Set(after)).toEqual(new Set(['completed']));
    }
    expect(emulator.stats()['POST /api/render/proxy/lambda']?.count).toBe(200);
  });
});

describe('stallRenders() / releaseRenders()', () => {
  test('running and new renders stand still at atProgress until released; the pause shifts the end', async () => {
    const { emulator, clock, start, poll } = await readyToRender({ renderDurationMs: 10_000 });
    await start('a');
    emulator.stallRenders({ atProgress: 50, times: 2 });
    await start('b');
    await start('c'); // beyond `times`: not stalled
    clock.advance(8000);
    expect((await poll('a')).json).toEqual({ id: 'a', status: 'processing', progress: 50 });
    expect((await poll('b')).json.progress).toBe(50);
    expect((await poll('c')).json.progress).toBe(80);
    clock.advance(60_000); // stalled for as long as the test wants
    expect((await poll('a')).json.progress).toBe(50);
    expect((await poll('c')).json.status).toBe('completed');
    emulator.releaseRenders();
    clock.advance(4999);
    expect((await poll('a')).json.progress).toBe(99);
    clock.advance(1);
    expect((await poll('a')).json.status).toBe('completed');
    // Released renders stay released; later renders are not stalled.
    await start('d');
    clock.advance(10_000);
    expect((await poll('d')).json.status).toBe('completed');
  });

  test('a stall at 0 keeps a render pending; atProgress outside 0–99 is refused', async () => {
    const { emulator, clock, start, poll } = await readyToRender({ renderDurationMs: 1000 });
    emulator.stallRenders({ atProgress: 0 });
    await start('p');
    clock.advance(5000);
    expect((await poll('p')).json.status).toBe('pending');
    expect(() => emulator.stallRenders({ atProgress: 100 })).toThrow(/0 to 99/);
  });

  test('a failure mark below the stall still fails the render', async () => {
    const { emulator, clock, start, poll } = await readyToRender({ renderDurationMs: 1000 });
    emulator.stallRenders({ atProgress: 60 });
    emulator.failRenders('boom', { atProgress: 30 });
    await start('f');
    clock.advance(1000);
    expect((await poll('f')).json).toMatchObject({ status: 'failed', error: 'boom' });
  });
});

describe('the token endpoint under concurrency', () => {
  test('one client id, ten parallel requests: one token, nine 429, all counted', async () => {
    const emulator = createEmulator();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(emulator, 'POST', '/api/auth/anonymous-token', { headers: { 'X-Client-Id': 'x' } }),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(emulator.stats()['POST /api/auth/anonymous-token']).toMatchObject({
      count: 10,
      statuses: { '200': 1, '429': 9 },
    });
  });
});
