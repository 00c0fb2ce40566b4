import { describe, expect, test } from 'vitest';
import { createEmulator } from '../../src/testing/index.js';
import {
  ATTRIBUTION,
  bootstrap,
  call,
  FakeClock,
  request,
  sseBody,
  turn,
  uploadUrl,
} from './helpers.js';

const WEEK = 7 * 24 * 60 * 60 * 1000;

describe('POST /api/auth/anonymous-token', () => {
  test('issues nmv_usr_ tokens with 100 credits, a user id and a 7-day expiry', async () => {
    const clock = new FakeClock();
    const emulator = createEmulator({ clock });
    const res = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      headers: { 'X-Client-Id': 'client-1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.json.code).toBe(0);
    expect(res.json.data.token).toMatch(/^nmv_usr_[0-9a-z]{32}$/);
    expect(res.json.data.credits).toBe(100);
    expect(res.json.data.user_id).toMatch(/^anon_/);
    expect(Date.parse(res.json.data.expires_at)).toBe(clock.t + WEEK);
  });

  test('missing or too long X-Client-Id → HTTP 400 without a JSON code', async () => {
    const emulator = createEmulator();
    const missing = await call(emulator, 'POST', '/api/auth/anonymous-token');
    expect(missing.status).toBe(400);
    expect(missing.json.code).toBeUndefined();
    expect(missing.json.message).toMatch(/X-Client-Id/);
    const long = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      headers: { 'X-Client-Id': 'x'.repeat(65) },
    });
    expect(long.status).toBe(400);
  });

  test('a second token while the first is valid → 429 with Retry-After; after expiry a new token, same user', async () => {
    const clock = new FakeClock();
    const emulator = createEmulator({ clock });
    const h = { headers: { 'X-Client-Id': 'c' } };
    const first = await call(emulator, 'POST', '/api/auth/anonymous-token', h);
    const second = await call(emulator, 'POST', '/api/auth/anonymous-token', h);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('60');
    expect(second.json.code).toBeUndefined();
    // Another client id is independent.
    const other = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      headers: { 'X-Client-Id': 'd' },
    });
    expect(other.status).toBe(200);
    clock.advance(WEEK);
    const renewed = await call(emulator, 'POST', '/api/auth/anonymous-token', h);
    expect(renewed.status).toBe(200);
    expect(renewed.json.data.token).not.toBe(first.json.data.token);
    expect(renewed.json.data.user_id).toBe(first.json.data.user_id);
  });

  test('expireTokens(): bearer calls answer 1001 and the same client gets a new token', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator, 'cid');
    emulator.expireTokens();
    const denied = await call(emulator, 'GET', '/api/credits/balance/simple', { token });
    expect(denied.status).toBe(200);
    expect(denied.json).toEqual({
      code: 1001,
      message: expect.stringMatching(/expired/),
      data: null,
    });
    const renewed = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      headers: { 'X-Client-Id': 'cid' },
    });
    // The session survives the renewal (same user).
    const state = await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest`, {
      token: renewed.json.data.token,
    });
    expect(state.json.code).toBe(0);
  });
});

describe('bearer and session checks', () => {
  test.each([
    ['GET', '/api/credits/balance/simple'],
    ['POST', '/api/tasks/me/with-session/nemo_agent'],
    ['POST', '/run_sse'],
    ['POST', '/api/upload-video/nemo_agent/me/1'],
    ['GET', '/api/state/nemo_agent/me/1/latest'],
    ['POST', '/api/render/proxy/lambda'],
    ['GET', '/api/render/proxy/lambda/r1'],
    ['POST', '/api/render/proxy/lambda/r1/cancel'],
    ['GET', '/api/render/proxy/r1/download'],
  ])('%s %s without or with a bad token → code 1001 (HTTP 200)', async (method, path) => {
    const emulator = createEmulator();
    const none = await call(emulator, method, path, method === 'POST' ? { body: {} } : {});
    expect(none.status).toBe(200);
    expect(none.json.code).toBe(1001);
    const bad = await call(emulator, method, path, { token: 'nmv_usr_nope' });
    expect(bad.json.code).toBe(1001);
  });

  test("errorStatus 'semantic' sends the JSON codes with 401/404/403/415/413", async () => {
    const emulator = createEmulator({ errorStatus: 'semantic', maxUploadBytes: 10 });
    const denied = await call(emulator, 'GET', '/api/credits/balance/simple');
    expect([denied.status, denied.json.code]).toEqual([401, 1001]);
    const { token, sid } = await bootstrap(emulator);
    const missing = await call(emulator, 'GET', '/api/state/nemo_agent/me/123/latest', { token });
    expect([missing.status, missing.json.code]).toEqual([404, 1002]);
    const form = new FormData();
    form.append('files', new Blob(['x']), 'a.exe');
    const bad = await call(emulator, 'POST', `/api/upload-video/nemo_agent/me/${sid}`, {
      token,
      body: form,
    });
    expect([bad.status, bad.json.code]).toEqual([415, 4001]);
    const big = new FormData();
    big.append('files', new Blob(['x'.repeat(100)]), 'a.mp4');
    const large = await call(emulator, 'POST', `/api/upload-video/nemo_agent/me/${sid}`, {
      token,
      body: big,
    });
    expect([large.status, large.json.code]).toEqual([413, 4002]);
    emulator.setCredits(0);
    const poor = await call(emulator, 'POST', '/run_sse', {
      token,
      body: sseBody(sid, "add a title 'x'"),
    });
    expect([poor.status, poor.json.code]).toEqual([403, 2001]);
  });

  test("another user's session is not found (1002)", async () => {
    const emulator = createEmulator();
    const a = await bootstrap(emulator);
    const b = await bootstrap(emulator);
    const res = await call(emulator, 'GET', `/api/state/nemo_agent/me/${a.sid}/latest`, {
      token: b.token,
    });
    expect(res.json).toEqual({ code: 1002, message: expect.any(String), data: null });
  });
});

describe('POST /api/tasks/me/with-session/nemo_agent', () => {
  test('creates a session with numeric string ids', async () => {
    const emulator = createEmulator();
    const { token, userId } = await bootstrap(emulator);
    const res = await call(emulator, 'POST', '/api/tasks/me/with-session/nemo_agent', {
      token,
      body: { task_name: 'my film', language: 'zh-CN' },
    });
    expect(res.json.code).toBe(0);
    expect(res.json.data).toEqual({
      session_id: expect.stringMatching(/^\d{19}$/),
      task_id: expect.stringMatching(/^\d{19}$/),
      user_id: userId,
    });
    expect(emulator.session(res.json.data.session_id)).toMatchObject({
      taskName: 'my film',
      language: 'zh-CN',
    });
  });

  test('rejects malformed bodies with HTTP 400 code 4000', async () => {
    const emulator = createEmulator();
    const { token } = await bootstrap(emulator);
    const res = await call(emulator, 'POST', '/api/tasks/me/with-session/nemo_agent', {
      token,
      body: '{not json',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe(4000);
    const wrong = await call(emulator, 'POST', '/api/tasks/me/with-session/nemo_agent', {
      token,
      body: { task_name: 3 },
    });
    expect(wrong.status).toBe(400);
  });
});

describe('GET /api/credits/balance/simple', () => {
  test('available, frozen and total; editing costs 50 once per session; generation 100', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const balance = async () =>
      (await call(emulator, 'GET', '/api/credits/balance/simple', { token })).json;
    expect(await balance()).toEqual({
      code: 0,
      message: 'success',
      data: { available: 100, frozen: 0, total: 100 },
    });
    await turn(emulator, token, sid, 'hello there'); // a plain reply is free
    expect((await balance()).data.available).toBe(100);
    await turn(emulator, token, sid, "add a title 'One'");
    await turn(emulator, token, sid, 'add background music');
    expect((await balance()).data).toEqual({ available: 50, frozen: 0, total: 50 });
    const sid2 = (
      await call(emulator, 'POST', '/api/tasks/me/with-session/nemo_agent', { token, body: {} })
    ).json.data.session_id;
    await turn(emulator, token, sid2, "add a title 'Two'");
    expect((await balance()).data.available).toBe(0);
    const refused = await turn(emulator, token, sid, 'generate a sunset clip');
    expect(refused.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(refused.raw)).toEqual({
      code: 2001,
      message: expect.stringMatching(/credits/i),
      data: null,
    });
    emulator.setCredits(100);
    const generated = await turn(emulator, token, sid, 'generate a sunset clip');
    expect(generated.contentType).toMatch(/^text\/event-stream/);
    expect((await balance()).data.available).toBe(0);
    const state = await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest`, { token });
    expect(state.json.data.state.generated_media).toEqual([
      expect.objectContaining({ type: 'video', url: expect.stringMatching(/\.mp4$/) }),
    ]);
  });
});

describe('GET /api/state/nemo_agent/me/<sid>/latest', () => {
  test('a new session has a null draft and empty lists', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const res = await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest`, { token });
    expect(res.json).toEqual({
      code: 0,
      message: 'success',
      data: {
        session_id: sid,
        task_id: expect.stringMatching(/^\d+$/),
        task_name: 'project',
        state: { draft: null, video_infos: [], generated_media: [] },
      },
    });
  });

  test('the reference workflow builds the documented draft', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const up = await uploadUrl(emulator, token, sid, 'https://www.youtube.com/watch?v=abc');
    await turn(emulator, token, sid, 'download this video in MP4 at 1080p');
    await turn(emulator, token, sid, "add a title 'Urban Dreams'");
    await turn(emulator, token, sid, 'add background music');
    const res = await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest`, { token });
    const state = res.json.data.state;
    expect(state.video_infos).toEqual(up.json.data.files);
    expect(state.canvas_config).toEqual({ width: 1920, height: 1080, ratio: '16:9' });
    expect(state.draft).toEqual({
      t: [
        {
          tt: 0,
          sg: [
            {
              id: 'seg_v1',
              st: 0,
              du: 30000,
              nm: 'youtube_abc.mp4',
              src: up.json.data.files[0].cdn_url,
              ss: 0,
              w: 1920,
              h: 1080,
              vol: 1,
            },
          ],
        },
        { tt: 7, sg: [{ id: 'seg_t1', st: 0, du: 3000, nm: 'Title', txt: 'Urban Dreams' }] },
        {
          tt: 1,
          sg: [
            {
              id: 'seg_a1',
              st: 0,
              du: 30000,
              nm: 'Lo-fi',
              src: 'https://cdn.emulator.nemovideo.test/library/lofi.mp3',
              ss: 0,
              vol: 0.35,
            },
          ],
        },
      ],
      d: 30000,
      m: { title: 'project', width: 1920, height: 1080, fps: 30 },
    });
  });

  test('"720p" and "vertical" set the canvas', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    await uploadUrl(emulator, token, sid, 'https://example.com/a.mp4');
    await turn(emulator, token, sid, 'export a vertical 720p mp4');
    expect(emulator.session(sid)?.draft?.m).toMatchObject({ width: 720, height: 1280 });
  });

  test('without an uploaded video, the download request asks for one and changes nothing', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const t = await turn(emulator, token, sid, 'download this video in MP4 at 1080p');
    expect(t.events.map((e) => e.data?.content?.parts?.[0]?.text).join('')).toMatch(/upload/i);
    expect(emulator.session(sid)?.draft).toBeNull();
    expect(emulator.credits(emulator.session(sid)!.userId)?.available).toBe(100);
  });
});

describe('routing', () => {
  test('unknown path → 404, wrong method → 405', async () => {
    const emulator = createEmulator();
    expect((await call(emulator, 'GET', '/nope')).status).toBe(404);
    expect((await call(emulator, 'GET', '/run_sse')).status).toBe(405);
  });

  test('any API origin is served by handle(); the CDN origin by the CDN', async () => {
    const emulator = createEmulator();
    const res = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      base: 'http://localhost:1234',
      headers: { 'X-Client-Id': 'x' },
    });
    expect(res.json.code).toBe(0);
    const cdn = await emulator.handle(
      request('GET', '/api/credits/balance/simple', { base: emulator.cdnUrl }),
    );
    expect(cdn.status).toBe(404);
    expect(emulator.requests.at(-1)?.origin).toBe('cdn');
  });
});

describe('request log', () => {
  test('records method, path, query, lower-cased headers (authorization kept), JSON body and status', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest?x=1`, {
      token,
      headers: ATTRIBUTION,
    });
    const created = emulator.requests[1];
    expect(created?.body).toEqual({
      type: 'json',
      value: { task_name: 'project', language: 'en' },
    });
    const last = emulator.requests.at(-1)!;
    expect(last).toMatchObject({
      origin: 'api',
      method: 'GET',
      path: `/api/state/nemo_agent/me/${sid}/latest`,
      query: { x: '1' },
      body: { type: 'none' },
      status: 200,
    });
    expect(last.headers.authorization).toBe(`Bearer ${token}`);
    expect(last.headers['x-skill-source']).toBe('nemovideo-test');
  });

  test('reset() forgets state and the log', async () => {
    const emulator = createEmulator();
    const { token } = await bootstrap(emulator, 'same');
    const log = emulator.requests;
    emulator.reset();
    expect(log).toHaveLength(0);
    expect((await call(emulator, 'GET', '/api/credits/balance/simple', { token })).json.code).toBe(
      1001,
    );
    const again = await call(emulator, 'POST', '/api/auth/anonymous-token', {
      headers: { 'X-Client-Id': 'same' },
    });
    expect(again.status).toBe(200);
  });

  test('issueToken() gives a working token', async () => {
    const emulator = createEmulator();
    const { token, userId } = emulator.issueToken();
    const res = await call(emulator, 'GET', '/api/credits/balance/simple', { token });
    expect(res.json.data.available).toBe(100);
    expect(emulator.credits(userId)).toEqual({ available: 100, frozen: 0 });
  });
});
