/**
 * The CDN and the fallback download as a real CDN serves files: validators, ranges,
 * If-Range, expiring URLs, replaced results, and the faults that break them.
 */
import { describe, expect, test } from 'vitest';
import { resultMp4 } from '../../src/testing/index.js';
import { completedRender, fetchBytes, sameBytes } from './helpers.js';

const MB = 1024 * 1024;

describe('validators and ranges (CDN and fallback download alike)', () => {
  for (const via of ['cdn', 'fallback'] as const) {
    test(`${via}: ETag, Last-Modified, Accept-Ranges; Range → 206; out of range → 416`, async () => {
      const r = await completedRender({ resultSizeBytes: 2 * MB });
      const url = via === 'cdn' ? r.url : `${r.emulator.baseUrl}/api/render/proxy/${r.id}/download`;
      const auth = via === 'cdn' ? {} : { Authorization: `Bearer ${r.token}` };
      const whole = await fetchBytes(r.emulator, url, auth);
      expect(whole.status).toBe(200);
      expect(whole.bytes.length).toBe(2 * MB);
      const etag = whole.headers.get('etag')!;
      expect(etag).toMatch(/^"[^"]+"$/); // strong
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      expect(whole.headers.get('last-modified')).toBe(new Date(r.clock.t).toUTCString());

      const part = await fetchBytes(r.emulator, url, { ...auth, Range: 'bytes=1000-1999' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${2 * MB}`);
      expect(part.headers.get('content-length')).toBe('1000');
      expect(part.headers.get('etag')).toBe(etag);
      expect(sameBytes(part.bytes, whole.bytes.subarray(1000, 2000))).toBe(true);

      const rest = await fetchBytes(r.emulator, url, { ...auth, Range: `bytes=${MB}-` });
      expect(rest.status).toBe(206);
      expect(sameBytes(rest.bytes, whole.bytes.subarray(MB))).toBe(true);
      const tail = await fetchBytes(r.emulator, url, { ...auth, Range: 'bytes=-5' });
      expect(tail.bytes).toEqual(whole.bytes.subarray(-5));
      const past = await fetchBytes(r.emulator, url, { ...auth, Range: `bytes=${2 * MB}-` });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${2 * MB}`);
      expect(past.bytes.length).toBe(0);
    });
  }

  test('invalid and multi-range headers are ignored (200, whole file); bytes=-0 → 416', async () => {
    const r = await completedRender();
    for (const range of ['bytes=5-3', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-']) {
      const res = await fetchBytes(r.emulator, r.url, { Range: range });
      expect([range, res.status, res.bytes.length]).toEqual([range, 200, r.size]);
    }
    expect((await fetchBytes(r.emulator, r.url, { Range: 'bytes=-0' })).status).toBe(416);
    // The end beyond the size is clamped.
    const clamped = await fetchBytes(r.emulator, r.url, { Range: 'bytes=20000-99999999' });
    expect(clamped.headers.get('content-range')).toBe(`bytes 20000-${r.size - 1}/${r.size}`);
  });

  test('If-Range: the current ETag or date → 206; another or a weak one → 200, whole file', async () => {
    const r = await completedRender();
    const first = await fetchBytes(r.emulator, r.url, { Range: 'bytes=0-9' });
    const etag = first.headers.get('etag')!;
    const date = first.headers.get('last-modified')!;
    const ask = (ifRange: string) =>
      fetchBytes(r.emulator, r.url, { Range: 'bytes=100-', 'If-Range': ifRange });
    expect((await ask(etag)).status).toBe(206);
    expect((await ask(date)).status).toBe(206);
    for (const other of ['"something-else"', `W/${etag}`, new Date(0).toUTCString()]) {
      const res = await ask(other);
      expect([other, res.status, res.bytes.length]).toEqual([other, 200, r.size]);
    }
  });

  test('If-None-Match with the ETag → 304; HEAD ignores Range', async () => {
    const r = await completedRender();
    const etag = (await fetchBytes(r.emulator, r.url, {}, 'HEAD')).headers.get('etag')!;
    expect((await fetchBytes(r.emulator, r.url, { 'If-None-Match': etag })).status).toBe(304);
    const head = await fetchBytes(r.emulator, r.url, { Range: 'bytes=0-9' }, 'HEAD');
    expect([head.status, head.headers.get('content-length')]).toEqual([200, String(r.size)]);
  });

  test('uploaded videos on the CDN have validators and ranges too', async () => {
    const r = await completedRender();
    const file = r.emulator.session(r.sid)!.videoInfos[0]!;
    const res = await fetchBytes(r.emulator, file.cdn_url, { Range: 'bytes=4-7' });
    expect(res.status).toBe(206);
    expect(new TextDecoder().decode(res.bytes)).toBe('ftyp');
    expect(res.headers.get('etag')).toMatch(/^"/);
  });
});

describe('fault: ignoreRange', () => {
  test('the whole file with 200 and no Accept-Ranges, `times` requests', async () => {
    const r = await completedRender();
    r.emulator.fail('GET /renders/*', { ignoreRange: true, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await fetchBytes(r.emulator, r.url, { Range: 'bytes=100-' });
      expect([res.status, res.bytes.length, res.headers.get('accept-ranges')]).toEqual([
        200,
        r.size,
        null,
      ]);
    }
    expect((await fetchBytes(r.emulator, r.url, { Range: 'bytes=100-' })).status).toBe(206);
    // The fallback endpoint can be told the same.
    r.emulator.fail('GET /api/render/proxy/:id/download', { ignoreRange: true });
    const fallback = await fetchBytes(
      r.emulator,
      `${r.emulator.baseUrl}/api/render/proxy/${r.id}/download`,
      { Authorization: `Bearer ${r.token}`, Range: 'bytes=100-' },
    );
    expect([fallback.status, fallback.bytes.length]).toEqual([200, r.size]);
  });
});

describe('expiring result URLs', () => {
  test('expireResultUrls(): old URLs answer the chosen status; a new poll hands out a fresh, valid URL', async () => {
    for (const status of [403, 404, 410] as const) {
      const r = await completedRender();
      expect(r.url).toBe(`https://cdn.emulator.nemovideo.test/renders/${r.id}.mp4`);
      r.emulator.expireResultUrls({ status });
      expect((await fetchBytes(r.emulator, r.url)).status).toBe(status);
      const fresh = (await r.poll(r.id)).json.output.url as string;
      expect(fresh).not.toBe(r.url);
      const again = await fetchBytes(r.emulator, fresh);
      expect(again.status).toBe(200);
      expect(sameBytes(again.bytes, resultMp4())).toBe(true);
      // The fallback endpoint does not expire.
      const fallback = await fetchBytes(
        r.emulator,
        `${r.emulator.baseUrl}/api/render/proxy/${r.id}/download`,
        { Authorization: `Bearer ${r.token}` },
      );
      expect(fallback.status).toBe(200);
    }
  });

  test('default status 403 (expiredUrlStatus), renderId limits it; a bad status is refused', async () => {
    const r = await completedRender();
    await r.start('r2');
    const other = (await r.poll('r2')).json.output.url as string;
    r.emulator.expireResultUrls({ renderId: 'r2' });
    expect((await fetchBytes(r.emulator, other)).status).toBe(403);
    expect((await fetchBytes(r.emulator, r.url)).status).toBe(200);
    expect(() => r.emulator.expireResultUrls({ status: 500 as 403 })).toThrow(/403, 404 or 410/);
    const gone = await completedRender({ expiredUrlStatus: 410 });
    gone.emulator.expireResultUrls();
    expect((await fetchBytes(gone.emulator, gone.url)).status).toBe(410);
  });

  test('resultUrlTtlMs: a URL expires that long after the poll that handed it out', async () => {
    const r = await completedRender({ resultUrlTtlMs: 60_000 });
    expect(r.url).toMatch(/\?expires=\d+$/);
    r.clock.advance(59_999);
    expect((await fetchBytes(r.emulator, r.url)).status).toBe(200);
    r.clock.advance(1);
    expect((await fetchBytes(r.emulator, r.url)).status).toBe(403);
    const fresh = (await r.poll(r.id)).json.output.url as string;
    expect((await fetchBytes(r.emulator, fresh)).status).toBe(200);
    r.emulator.configure({ expiredUrlStatus: 404 });
    r.clock.advance(60_000);
    expect((await fetchBytes(r.emulator, fresh)).status).toBe(404);
  });
});

describe('changeResult(): a re-render with other bytes', () => {
  test('new ETag and Last-Modified, other bytes of the same size, still an MP4', async () => {
    const r = await completedRender({ resultSizeBytes: MB });
    const before = await fetchBytes(r.emulator, r.url);
    r.clock.advance(5000);
    r.emulator.changeResult({ renderId: r.id });
    const after = await fetchBytes(r.emulator, r.url);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    expect(after.headers.get('last-modified')).toBe(new Date(r.clock.t).toUTCString());
    expect(after.bytes.length).toBe(before.bytes.length);
    expect(sameBytes(after.bytes, before.bytes)).toBe(false);
    expect(new TextDecoder().decode(after.bytes.subarray(4, 8))).toBe('ftyp');
    expect(r.emulator.render(r.id)).toMatchObject({
      resultVersion: 1,
      etag: after.headers.get('etag'),
    });
    // A resume with the old validator gets the whole new file.
    const resumed = await fetchBytes(r.emulator, r.url, {
      Range: `bytes=${MB / 2}-`,
      'If-Range': before.headers.get('etag')!,
    });
    expect(resumed.status).toBe(200);
    expect(sameBytes(resumed.bytes, after.bytes)).toBe(true);
  });

  test('sizeBytes changes the size; renders not completed are left alone', async () => {
    const r = await completedRender();
    r.emulator.configure({ renderDurationMs: 10_000 });
    await r.start('running');
    r.emulator.changeResult({ sizeBytes: 3 * MB });
    expect((await r.poll(r.id)).json.output.size).toBe(3 * MB);
    expect(r.emulator.render('running')?.resultVersion).toBe(0);
    expect((await fetchBytes(r.emulator, r.url)).bytes.length).toBe(3 * MB);
  });
});

describe('fault: stallAfterBytes', () => {
  test('sends N bytes, then holds the connection until the client aborts or reset()', async () => {
    const r = await completedRender({ resultSizeBytes: MB });
    for (const end of ['abort', 'reset'] as const) {
      r.emulator.fail('GET /renders/*', { stallAfterBytes: 1000 });
      const ac = new AbortController();
      const res = await r.emulator.handle(new Request(r.url, { signal: ac.signal }));
      const reader = res.body!.getReader();
      let got = 0;
      while (got < 1000) got += (await reader.read()).value!.byteLength;
      expect(got).toBe(1000);
      const next = reader.read();
      let settled = false;
      void next.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(false); // stalled
      if (end === 'abort') {
        await reader.cancel();
        expect((await next).done).toBe(true);
      } else {
        r.emulator.reset();
        await expect(next).rejects.toThrow(/stalled/);
        return;
      }
    }
  });
});
