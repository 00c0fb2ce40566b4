import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { createEmulator } from '../../src/testing/index.js';
import { mswHandlers } from '../../src/testing/msw.js';
import { ATTRIBUTION, parseSse, sseBody } from './helpers.js';

const emulator = createEmulator({ renderDurationMs: 0 });
const custom = createEmulator({
  baseUrl: 'https://api.staging.test/',
  cdnUrl: 'https://files.staging.test',
});
const server = setupServer(...mswHandlers(emulator), ...mswHandlers(custom));
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  emulator.reset();
  custom.reset();
  server.resetHandlers();
});
afterAll(() => server.close());

async function json(res: Response) {
  return res.json() as Promise<{ code: number; data: Record<string, string> }>;
}

describe('msw handlers', () => {
  test('serve the reference workflow through fetch on the production base URL and the CDN', async () => {
    const base = 'https://mega-api-prod.nemovideo.ai';
    const token = (
      await json(
        await fetch(`${base}/api/auth/anonymous-token`, {
          method: 'POST',
          headers: { 'X-Client-Id': 'c' },
        }),
      )
    ).data.token!;
    const auth = {
      Authorization: `Bearer ${token}`,
      ...ATTRIBUTION,
      'Content-Type': 'application/json',
    };
    const sid = (
      await json(
        await fetch(`${base}/api/tasks/me/with-session/nemo_agent`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ task_name: 'project', language: 'en' }),
        }),
      )
    ).data.session_id!;
    const up = await fetch(`${base}/api/upload-video/nemo_agent/me/${sid}`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ urls: ['https://youtu.be/abc'], source_type: 'url' }),
    });
    expect((await json(up)).code).toBe(0);
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(1234)], { type: 'video/mp4' }), 'local.mp4');
    const multi = await fetch(`${base}/api/upload-video/nemo_agent/me/${sid}`, {
      method: 'POST',
      headers: { Authorization: auth.Authorization },
      body: form,
    });
    expect((await json(multi)).code).toBe(0);
    const sse = await fetch(`${base}/run_sse`, {
      method: 'POST',
      headers: { ...auth, Accept: 'text/event-stream' },
      body: JSON.stringify(sseBody(sid, 'download this video in MP4 at 1080p')),
    });
    expect(sse.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(parseSse(await sse.text()).length).toBeGreaterThan(3);
    const state = (await (
      await fetch(`${base}/api/state/nemo_agent/me/${sid}/latest`, { headers: auth })
    ).json()) as { data: { state: { draft: unknown } } };
    const start = await fetch(`${base}/api/render/proxy/lambda`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: 'render_1',
        sessionId: sid,
        draft: state.data.state.draft,
        output: { format: 'mp4' },
      }),
    });
    expect(start.status).toBe(200);
    const poll = (await (
      await fetch(`${base}/api/render/proxy/lambda/render_1`, { headers: auth })
    ).json()) as {
      status: string;
      output: { url: string; size: number };
    };
    expect(poll.status).toBe('completed');
    expect(new URL(poll.output.url).origin).toBe('https://cdn.emulator.nemovideo.test');
    const mp4 = await fetch(poll.output.url);
    expect((await mp4.arrayBuffer()).byteLength).toBe(poll.output.size);
    expect(emulator.requests.map((r) => `${r.origin} ${r.method} ${r.path}`)).toEqual([
      'api POST /api/auth/anonymous-token',
      'api POST /api/tasks/me/with-session/nemo_agent',
      `api POST /api/upload-video/nemo_agent/me/${sid}`,
      `api POST /api/upload-video/nemo_agent/me/${sid}`,
      'api POST /run_sse',
      `api GET /api/state/nemo_agent/me/${sid}/latest`,
      'api POST /api/render/proxy/lambda',
      'api GET /api/render/proxy/lambda/render_1',
      'cdn GET /renders/render_1.mp4',
    ]);
    expect(emulator.requests[3]?.body).toMatchObject({
      type: 'multipart',
      files: [{ filename: 'local.mp4', size: 1234 }],
    });
  });

  test('a custom baseUrl and cdnUrl are served by their own emulator', async () => {
    const res = await fetch('https://api.staging.test/api/auth/anonymous-token', {
      method: 'POST',
      headers: { 'X-Client-Id': 'c' },
    });
    expect((await json(res)).code).toBe(0);
    expect(custom.requests).toHaveLength(1);
    expect(emulator.requests).toHaveLength(0);
    expect((await fetch('https://files.staging.test/renders/x.mp4')).status).toBe(404);
    expect(custom.requests.at(-1)?.origin).toBe('cdn');
  });

  test('a cut stream reaches fetch as a body error', async () => {
    const { token } = emulator.issueToken();
    const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const sid = (
      await json(
        await fetch('https://mega-api-prod.nemovideo.ai/api/tasks/me/with-session/nemo_agent', {
          method: 'POST',
          headers: auth,
          body: '{}',
        }),
      )
    ).data.session_id!;
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const res = await fetch('https://mega-api-prod.nemovideo.ai/run_sse', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(sseBody(sid, 'hello there friend')),
    });
    await expect(res.text()).rejects.toThrow();
  });

  test('the emulator follows NEMO_API_URL as the SDK does, so do its handlers', async () => {
    vi.stubEnv('NEMO_API_URL', 'http://127.0.0.1:4010');
    const local = createEmulator();
    expect(local.baseUrl).toBe('http://127.0.0.1:4010');
    server.use(...mswHandlers(local));
    const res = await fetch('http://127.0.0.1:4010/api/auth/anonymous-token', {
      method: 'POST',
      headers: { 'X-Client-Id': 'env' },
    });
    expect((await json(res)).code).toBe(0);
    expect(local.requests.map((r) => r.path)).toEqual(['/api/auth/anonymous-token']);
    // An explicit baseUrl wins; an empty variable is unset.
    expect(createEmulator({ baseUrl: 'https://x.test' }).baseUrl).toBe('https://x.test');
    vi.stubEnv('NEMO_API_URL', '');
    expect(createEmulator().baseUrl).toBe('https://mega-api-prod.nemovideo.ai');
    vi.stubEnv('NEMO_API_URL', 'not a url');
    expect(() => createEmulator()).toThrow(/NEMO_API_URL is not a valid URL/);
  });

  test('a base URL with a path prefix is served under it (as the SDK joins paths)', async () => {
    const prefixed = createEmulator({ baseUrl: 'https://gateway.test/nemo/v1/' });
    expect(prefixed.baseUrl).toBe('https://gateway.test/nemo/v1');
    server.use(...mswHandlers(prefixed));
    const res = await fetch('https://gateway.test/nemo/v1/api/auth/anonymous-token', {
      method: 'POST',
      headers: { 'X-Client-Id': 'p' },
    });
    expect((await json(res)).code).toBe(0);
    expect(prefixed.requests[0]).toMatchObject({
      path: '/api/auth/anonymous-token',
      route: 'POST /api/auth/anonymous-token',
    });
  });
});
