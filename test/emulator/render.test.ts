import { describe, expect, test } from 'vitest';
import { type Emulator, resultMp4 } from '../../src/testing/index.js';
import { ATTRIBUTION, bootstrap, call, readyToRender } from './helpers.js';

const ready = readyToRender;

async function bytesOf(emulator: Emulator, url: string, headers: Record<string, string> = {}) {
  const res = await emulator.handle(new Request(url, { headers }));
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('render start', () => {
  test('answers pending (top-level shape) and records the request with sessionId', async () => {
    const { emulator, start, sid } = await ready();
    const res = await start('render_1');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ id: 'render_1', status: 'pending', progress: 0 });
    const rec = emulator.requests.at(-1)!;
    expect(rec.body).toMatchObject({ type: 'json', value: { sessionId: sid, id: 'render_1' } });
  });

  test('without the attribution headers → HTTP 402, distinct from 2001', async () => {
    const { start } = await ready();
    for (const drop of Object.keys(ATTRIBUTION)) {
      const headers = { ...ATTRIBUTION } as Record<string, string>;
      delete headers[drop];
      const res = await start(`r_${drop}`, { headers });
      expect(res.status).toBe(402);
      expect(res.json.code).toBeUndefined();
      expect(res.json.error).toMatch(new RegExp(drop, 'i'));
    }
  });

  test('duplicate id → 409; a new id works', async () => {
    const { start } = await ready();
    await start('dup');
    const again = await start('dup');
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already exists/);
    expect((await start('dup2')).status).toBe(200);
  });

  test('bad bodies: no id, snake_case session_id, unknown session, empty draft, non-mp4', async () => {
    const { start, sid, draft } = await ready();
    expect((await start('x', { body: { sessionId: sid, draft } })).status).toBe(400);
    expect((await start('x', { body: { id: 'x', session_id: sid, draft } })).json.error).toMatch(
      /sessionId/,
    );
    expect((await start('x', { body: { id: 'x', sessionId: '1', draft } })).json.code).toBe(1002);
    const empty = await start('x', {
      body: { id: 'x', sessionId: sid, draft: { t: [{ tt: 0, sg: [] }] } },
    });
    expect([empty.status, empty.json.error]).toEqual([400, expect.stringMatching(/not ready/)]);
    const mov = await start('x', {
      body: { id: 'x', sessionId: sid, draft, output: { format: 'mov' } },
    });
    expect(mov.status).toBe(400);
  });

  test('export costs no credits', async () => {
    const { emulator, start, token } = await ready();
    const before = (await call(emulator, 'GET', '/api/credits/balance/simple', { token })).json
      .data;
    await start('free');
    expect(
      (await call(emulator, 'GET', '/api/credits/balance/simple', { token })).json.data,
    ).toEqual(before);
  });
});

describe('render progress on the injected clock', () => {
  test('pending → processing with % → completed with a CDN URL (top-level)', async () => {
    const { emulator, clock, start, poll } = await ready({ renderDurationMs: 10_000 });
    await start('r');
    expect((await poll('r')).json).toEqual({ id: 'r', status: 'pending', progress: 0 });
    clock.advance(5000);
    expect((await poll('r')).json).toEqual({ id: 'r', status: 'processing', progress: 50 });
    clock.advance(5000);
    const done = (await poll('r')).json;
    expect(done).toEqual({
      id: 'r',
      status: 'completed',
      progress: 100,
      output: {
        url: 'https://cdn.emulator.nemovideo.test/renders/r.mp4',
        duration: 30,
        size: resultMp4().length,
      },
    });
    const { res, bytes } = await bytesOf(emulator, done.output.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(bytes).toEqual(resultMp4());
  });

  test("renderShape 'wrapped'", async () => {
    const { clock, start, poll } = await ready({ renderShape: 'wrapped' });
    const started = await start('w');
    expect(started.json).toEqual({
      success: true,
      data: { id: 'w', status: 'pending', progress: 0, createdAt: new Date(clock.t).toISOString() },
    });
    expect((await poll('w')).json.data).toMatchObject({
      status: 'pending',
      outputUrl: null,
      completedAt: null,
    });
    clock.advance(3000);
    expect((await poll('w')).json).toEqual({
      success: true,
      data: {
        id: 'w',
        status: 'completed',
        progress: 100,
        outputUrl: 'https://cdn.emulator.nemovideo.test/renders/w.mp4',
        createdAt: new Date(clock.t - 3000).toISOString(),
        completedAt: new Date(clock.t).toISOString(),
      },
    });
    const missing = await poll('nope');
    expect([missing.status, missing.json]).toEqual([
      404,
      { success: false, error: expect.any(String) },
    ]);
  });

  test('cancel: running → cancelled; finished → 409', async () => {
    const { emulator, clock, token, start, poll } = await ready();
    await start('c');
    clock.advance(1000);
    const cancel = await call(emulator, 'POST', '/api/render/proxy/lambda/c/cancel', { token });
    expect(cancel.json).toEqual({ id: 'c', status: 'cancelled' });
    clock.advance(10_000);
    expect((await poll('c')).json).toMatchObject({ status: 'cancelled', progress: 33 });
    expect(
      (await call(emulator, 'POST', '/api/render/proxy/lambda/c/cancel', { token })).status,
    ).toBe(409);
    expect(
      (await bytesOf(emulator, 'https://cdn.emulator.nemovideo.test/renders/c.mp4')).res.status,
    ).toBe(404);
  });

  test('failRenders(): running and later jobs fail at the given progress, `times` in all', async () => {
    const { emulator, clock, start, poll } = await ready();
    await start('a');
    emulator.failRenders('Lambda timeout', { times: 2, atProgress: 50 });
    await start('b');
    await start('c');
    clock.advance(1000);
    expect((await poll('a')).json.status).toBe('processing');
    clock.advance(500);
    expect((await poll('a')).json).toEqual({
      id: 'a',
      status: 'failed',
      progress: 50,
      error: 'Lambda timeout',
    });
    clock.advance(5000);
    expect((await poll('b')).json.status).toBe('failed');
    expect((await poll('c')).json.status).toBe('completed');
  });

  test('option renderFailure fails every render', async () => {
    const { clock, start, poll } = await ready({ renderFailure: 'out of memory' });
    await start('x');
    clock.advance(3000);
    expect((await poll('x')).json).toMatchObject({ status: 'failed', error: 'out of memory' });
  });

  test("another user's render is not visible", async () => {
    const { emulator, start } = await ready();
    await start('mine');
    const other = await bootstrap(emulator);
    expect(
      (await call(emulator, 'GET', '/api/render/proxy/lambda/mine', { token: other.token })).status,
    ).toBe(404);
  });
});

describe('download', () => {
  test('fallback /api/render/proxy/<id>/download needs the bearer and a completed job', async () => {
    const { emulator, clock, token, start } = await ready();
    await start('d');
    const early = await call(emulator, 'GET', '/api/render/proxy/d/download', { token });
    expect(early.status).toBe(409);
    clock.advance(3000);
    expect((await call(emulator, 'GET', '/api/render/proxy/d/download')).json.code).toBe(1001);
    const res = await emulator.handle(
      new Request('https://mega-api-prod.nemovideo.ai/api/render/proxy/d/download', {
        headers: { Authorization: `Bearer ${token}` },
      }),
    );
    expect(res.headers.get('content-length')).toBe(String(resultMp4().length));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(resultMp4());
  });

  test('the CDN records requests (no authorization needed), supports HEAD and ranges', async () => {
    const { emulator, clock, start } = await ready();
    await start('cdn');
    clock.advance(3000);
    const url = 'https://cdn.emulator.nemovideo.test/renders/cdn.mp4';
    const head = await emulator.handle(new Request(url, { method: 'HEAD' }));
    expect([
      head.status,
      head.headers.get('content-length'),
      head.headers.get('accept-ranges'),
    ]).toEqual([200, String(resultMp4().length), 'bytes']);
    const part = await bytesOf(emulator, url, { Range: 'bytes=100-199' });
    expect(part.res.status).toBe(206);
    expect(part.res.headers.get('content-range')).toBe(`bytes 100-199/${resultMp4().length}`);
    expect(part.bytes).toEqual(resultMp4().subarray(100, 200));
    const tail = await bytesOf(emulator, url, { Range: 'bytes=-10' });
    expect(tail.bytes).toEqual(resultMp4().subarray(-10));
    const from = await bytesOf(emulator, url, { Range: 'bytes=20000-' });
    expect(from.bytes).toEqual(resultMp4().subarray(20000));
    expect(
      (await bytesOf(emulator, url, { Range: `bytes=${resultMp4().length}-` })).res.status,
    ).toBe(416);
    const cdn = emulator.requests.filter((r) => r.origin === 'cdn');
    expect(cdn).toHaveLength(5);
    expect(cdn.every((r) => !('authorization' in r.headers))).toBe(true);
    expect(cdn[1]?.headers.range).toBe('bytes=100-199');
  });

  test('resultSizeBytes pads the MP4 with a free box to exactly N bytes, streamed', async () => {
    const size = 3 * 1024 * 1024 + 7;
    const { emulator, clock, start, poll } = await ready({ resultSizeBytes: size });
    await start('big');
    clock.advance(3000);
    expect((await poll('big')).json.output.size).toBe(size);
    const { bytes } = await bytesOf(
      emulator,
      'https://cdn.emulator.nemovideo.test/renders/big.mp4',
    );
    expect(bytes.length).toBe(size);
    const mp4 = resultMp4();
    expect(bytes.subarray(0, mp4.length)).toEqual(mp4);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(mp4.length)).toBe(size - mp4.length);
    expect(new TextDecoder().decode(bytes.subarray(mp4.length + 4, mp4.length + 8))).toBe('free');
    expect(bytes.subarray(mp4.length + 8).every((b) => b === 0)).toBe(true);
    // A range across the box header.
    const r = await bytesOf(emulator, 'https://cdn.emulator.nemovideo.test/renders/big.mp4', {
      Range: `bytes=${mp4.length - 2}-${mp4.length + 9}`,
    });
    expect(r.bytes).toEqual(bytes.subarray(mp4.length - 2, mp4.length + 10));
  });

  test('uploaded video URLs are served by the CDN; others 404', async () => {
    const { emulator, sid } = await ready();
    const file = emulator.session(sid)!.videoInfos[0]!;
    expect((await bytesOf(emulator, file.cdn_url)).bytes).toEqual(resultMp4());
    expect(
      (await bytesOf(emulator, 'https://cdn.emulator.nemovideo.test/library/lofi.mp3')).res.status,
    ).toBe(404);
  });

  test('cutAfterBytes breaks a download', async () => {
    const { emulator, clock, start } = await ready();
    await start('cut');
    clock.advance(3000);
    emulator.fail('GET /renders/*', { cutAfterBytes: 1000 });
    const res = await emulator.handle(
      new Request('https://cdn.emulator.nemovideo.test/renders/cut.mp4'),
    );
    const reader = res.body!.getReader();
    let got = 0;
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          got += value.length;
        }
      })(),
    ).rejects.toThrow(/cut/);
    expect(got).toBe(1000);
  });
});
