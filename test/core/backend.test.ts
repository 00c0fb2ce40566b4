/**
 * `backend` overrides: every field offered works, and the paths that carry the
 * app name follow an overridden `appName`.
 */
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { NemoClient } from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const SID = '5529798706024415232';

/** Answers every API call with a plausible success and records method, path and JSON body. */
function recordCalls() {
  const calls: { method: string; path: string; body: unknown }[] = [];
  server.use(
    http.all(`${BASE}/*`, async ({ request }) => {
      const path = new URL(request.url).pathname;
      const text = request.method === 'GET' ? '' : await request.text();
      calls.push({ method: request.method, path, body: text ? JSON.parse(text) : undefined });
      if (path.endsWith('run_sse')) {
        return new HttpResponse('data: {"type":"text","content":"ok"}\n\n', {
          headers: { 'content-type': 'text/event-stream' },
        });
      }
      if (path.includes('with-session')) return ok({ session_id: SID });
      if (path.includes('upload')) {
        return Response.json({ code: 0, data: { files: [{ cdn_url: 'https://cdn/x.mp4' }] } });
      }
      if (path.includes('state')) return Response.json({ code: 0, data: { state: {} } });
      return Response.json({ code: 0, data: { available: 1 } });
    }),
  );
  return calls;
}

describe('backend overrides', () => {
  it('derives the app-name paths and the /run_sse body from an overridden appName', async () => {
    const calls = recordCalls();
    const client = new NemoClient({
      token: 'tok-backend-test',
      backend: { appName: 'other_agent' },
    });
    expect(client.backend.appName).toBe('other_agent');
    const session = await client.sessions.create();
    await session.uploadUrl('https://media.example.com/a.mp4');
    await session.state();
    await session.chat('hi').result();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /api/tasks/me/with-session/other_agent',
      `POST /api/upload-video/other_agent/me/${SID}`,
      `GET /api/state/other_agent/me/${SID}/latest`,
      'POST /run_sse',
    ]);
    expect(calls[3]?.body).toMatchObject({ app_name: 'other_agent', session_id: SID });
  });

  it('lets an explicit path win over the one derived from appName', async () => {
    const calls = recordCalls();
    const client = new NemoClient({
      token: 'tok-backend-test',
      backend: {
        appName: 'other_agent',
        paths: { state: (sid) => `/v9/state/${sid}`, creditsBalance: '/v9/credits' },
      },
    });
    const session = client.sessions.open(SID);
    await session.state();
    await client.credits.balance();
    await session.uploadUrl('https://media.example.com/a.mp4');
    expect(calls.map((c) => c.path)).toEqual([
      `/v9/state/${SID}`,
      '/v9/credits',
      `/api/upload-video/other_agent/me/${SID}`,
    ]);
  });

  it('keeps the documented profile when nothing is overridden, and merges nested sections', () => {
    const client = new NemoClient({
      token: 'tok-backend-test',
      backend: { render: { maxPolls: 3 }, turn: { recoveryMaxUnchangedReads: 2 } },
    });
    expect(client.backend.paths.createSession).toBe('/api/tasks/me/with-session/nemo_agent');
    expect(client.backend.render).toMatchObject({ maxPolls: 3, pollIntervalMs: 30_000 });
    expect(client.backend.render.output).toEqual({ format: 'mp4', quality: 'high' });
    expect(client.backend.turn).toMatchObject({
      recoveryMaxUnchangedReads: 2,
      hardTimeoutMs: 15 * 60_000,
    });
  });
});
