/** The control API over loopback HTTP, through its client `connectEmulator()` and raw fetch. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  connectEmulator,
  createEmulator,
  type EmulatorServer,
  type RemoteEmulator,
} from '../../src/testing/index.js';
import { ATTRIBUTION, FakeClock, sseBody } from './helpers.js';

const clock = new FakeClock();
const emulator = createEmulator({ clock, renderDurationMs: 1000 });
let server: EmulatorServer;
let remote: RemoteEmulator;
beforeAll(async () => {
  server = await emulator.listen({ port: 0 });
  remote = connectEmulator(server.url);
});
beforeEach(() => emulator.reset());
afterAll(() => emulator.close());

/** Token, session, upload, edit turn and a started render, over HTTP. */
async function workflow(renderId: string) {
  const token = (await remote.issueToken('control-test')).token;
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const post = (path: string, body: unknown, extra: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...auth, ...extra },
      body: JSON.stringify(body),
    });
  const sid = (
    (await (await post('/api/tasks/me/with-session/nemo_agent', {})).json()) as {
      data: { session_id: string };
    }
  ).data.session_id;
  await post(`/api/upload-video/nemo_agent/me/${sid}`, {
    urls: ['https://youtu.be/x'],
    source_type: 'url',
  });
  await (await post('/run_sse', sseBody(sid, 'download this video in MP4'))).text();
  const draft = (await remote.session(sid))?.draft;
  const started = await post(
    '/api/render/proxy/lambda',
    { id: renderId, sessionId: sid, draft, output: { format: 'mp4' } },
    ATTRIBUTION,
  );
  const poll = async () =>
    (await (
      await fetch(`${server.url}/api/render/proxy/lambda/${renderId}`, { headers: auth })
    ).json()) as { status: string; progress: number; output?: { url: string } };
  return { token, sid, started, poll };
}

describe('connectEmulator(url)', () => {
  test('stats and the request log (tokens redacted); control requests are not counted', async () => {
    const { started } = await workflow('r1');
    expect(started.status).toBe(200);
    const stats = await remote.stats();
    expect(stats['POST /run_sse']).toMatchObject({ count: 1, statuses: { '200': 1 } });
    expect(stats['POST /api/render/proxy/lambda']?.count).toBe(1);
    expect(Object.keys(stats).some((k) => k.includes('_emulator'))).toBe(false);
    const sse = await remote.requests({ path: '/run_sse' });
    expect(sse).toHaveLength(1);
    expect(sse[0]?.headers.authorization).toBe('Bearer [redacted]');
    expect(sse[0]?.body).toMatchObject({ type: 'json', value: { app_name: 'nemo_agent' } });
    // In process the log keeps the header whole.
    expect(emulator.requests.find((r) => r.path === '/run_sse')?.headers.authorization).toMatch(
      /^Bearer nmv_usr_/,
    );
    expect(
      await remote.requests({ route: 'POST /api/render/proxy/lambda', method: 'post' }),
    ).toHaveLength(1);
    expect(await remote.requests({ origin: 'cdn' })).toEqual([]);
  });

  test('faults switched over HTTP, with times "Infinity", listed and removed', async () => {
    const f = await remote.fail('GET /api/credits/balance/simple', {
      status: 503,
      times: Infinity,
    });
    expect(emulator.faults()).toEqual([
      {
        id: f.id,
        route: 'GET /api/credits/balance/simple',
        options: { status: 503, times: Infinity },
        remaining: Infinity,
      },
    ]);
    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${server.url}/api/credits/balance/simple`)).status).toBe(503);
    }
    expect(await f.remove()).toBe(true);
    expect(await f.remove()).toBe(false);
    expect((await fetch(`${server.url}/api/credits/balance/simple`)).status).toBe(200);
  });

  test('render and CDN controls: stall, release, expire URLs, change the result', async () => {
    await remote.stallRenders({ atProgress: 30 });
    const { poll } = await workflow('r2');
    clock.advance(5000);
    expect(await poll()).toMatchObject({ status: 'processing', progress: 30 });
    await remote.releaseRenders();
    clock.advance(700);
    const done = await poll();
    expect(done.status).toBe('completed');
    const url = done.output!.url;
    const etag = (await fetch(url)).headers.get('etag');
    await remote.changeResult({ renderId: 'r2' });
    expect((await fetch(url)).headers.get('etag')).not.toBe(etag);
    expect((await remote.render('r2'))?.resultVersion).toBe(1);
    await remote.expireResultUrls({ status: 410 });
    expect((await fetch(url)).status).toBe(410);
    expect((await fetch((await poll()).output!.url)).status).toBe(200);
  });

  test('settings, credits, tokens, failing renders, reset', async () => {
    expect((await remote.configure({ renderShape: 'wrapped' })).renderShape).toBe('wrapped');
    expect((await remote.settings()).renderShape).toBe('wrapped');
    const { userId } = await remote.issueToken();
    await remote.setCredits(7, userId);
    expect(await remote.credits(userId)).toEqual({ available: 7, frozen: 0 });
    await remote.failRenders('remote failure', { times: 1, atProgress: 10 });
    const { poll } = await workflow('r3');
    clock.advance(1000);
    expect(await poll()).toMatchObject({
      success: true,
      data: { status: 'failed', error: 'remote failure' },
    });
    await remote.expireTokens();
    await remote.reset();
    expect(emulator.requests).toEqual([]);
    expect(await remote.credits(userId)).toBeUndefined();
    expect(await remote.session('1')).toBeUndefined();
    expect(await remote.render('r3')).toBeUndefined();
  });

  test('bad arguments are a 400 saying what is wrong; unknown controls a 404', async () => {
    await expect(remote.stallRenders({ atProgress: 150 })).rejects.toThrow(
      /HTTP 400: control API: stallRenders: atProgress must be from 0 to 99/,
    );
    await expect(remote.expireResultUrls({ status: 500 as 410 })).rejects.toThrow(
      /403, 404 or 410/,
    );
    await expect(remote.fail('', {})).rejects.toThrow(/HTTP 400/);
    await expect(
      remote.fail('POST /run_sse', { stauts: 503 } as unknown as { status: number }),
    ).rejects.toThrow(/unknown fault option "stauts"/);
    await expect(
      remote.fail('POST /run_sse', { status: '503' } as unknown as { status: number }),
    ).rejects.toThrow(/status has the wrong type/);
    const raw = await fetch(`${server.url}/_emulator/faults`, { method: 'POST', body: '{' });
    expect([raw.status, ((await raw.json()) as { message: string }).message]).toEqual([
      400,
      'control API: the body must be JSON',
    ]);
    const unknown = await fetch(`${server.url}/_emulator/nope`);
    expect(unknown.status).toBe(404);
    expect(emulator.stats()).toEqual({});
  });
});
