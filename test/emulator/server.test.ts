import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EmulatorServer } from '../../src/testing/index.js';
import { createEmulator } from '../../src/testing/index.js';
import { ATTRIBUTION, parseSse, sseBody } from './helpers.js';

const emulator = createEmulator({ renderDurationMs: 0, heartbeatMs: 50 });
let server: EmulatorServer;
beforeAll(async () => {
  server = await emulator.listen({ port: 0 });
});
afterAll(async () => {
  await emulator.close();
});

async function session() {
  const { token } = emulator.issueToken();
  const auth = { Authorization: `Bearer ${token}` };
  const res = await fetch(`${server.url}/api/tasks/me/with-session/nemo_agent`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ task_name: 'project', language: 'en' }),
  });
  const sid = ((await res.json()) as { data: { session_id: string } }).data.session_id;
  return { token, auth, sid };
}

/** A multipart body of one file of `size` bytes, generated on the fly. */
function multipartStream(size: number, filename = 'big.mp4', boundary = 'emulatortestboundary') {
  const enc = new TextEncoder();
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${filename}"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  let sent = 0;
  let stage = 0;
  const chunk = new Uint8Array(256 * 1024).fill(1);
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (stage === 0) {
        c.enqueue(head);
        stage = 1;
      } else if (stage === 1) {
        const n = Math.min(chunk.length, size - sent);
        if (n > 0) c.enqueue(chunk.subarray(0, n));
        sent += n;
        if (sent >= size) stage = 2;
      } else {
        c.enqueue(tail);
        c.close();
      }
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe('listen()', () => {
  test('serves the API on loopback and answers the token request', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.cdnUrl).not.toBe(server.url);
    expect(emulator.cdnUrl).toBe(server.cdnUrl);
    const ok = await fetch(`${server.url}/api/auth/anonymous-token`, {
      method: 'POST',
      headers: { 'X-Client-Id': crypto.randomUUID() },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    expect(((await ok.json()) as { data: { token: string } }).data.token).toMatch(/^nmv_usr_/);
    const bad = await fetch(`${server.url}/api/auth/anonymous-token`, { method: 'POST' });
    expect(bad.status).toBe(400);
  });

  test('answers CORS preflights on both origins', async () => {
    for (const origin of [server.url, server.cdnUrl]) {
      const res = await fetch(`${origin}/run_sse`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://localhost:5173',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-skill-source',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    }
    const exposed = await fetch(`${server.url}/api/auth/anonymous-token`, { method: 'POST' });
    expect(exposed.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
  });

  test('streams a 48 MB multipart upload and returns the counted size', async () => {
    const { auth, sid } = await session();
    const size = 48 * 1024 * 1024;
    const { body, contentType } = multipartStream(size);
    const res = await fetch(`${server.url}/api/upload-video/nemo_agent/me/${sid}`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': contentType },
      body,
      duplex: 'half',
    } as RequestInit);
    const json = (await res.json()) as { code: number; data: { files: { filename: string }[] } };
    expect(json.code).toBe(0);
    expect(json.data.files[0]?.filename).toBe('big.mp4');
    const rec = emulator.requests.findLast((r) => r.path.startsWith('/api/upload-video'));
    expect(rec?.body).toMatchObject({ type: 'multipart', files: [{ size }] });
  });

  test('a file over the limit is refused with 4002 while the client is still sending', async () => {
    const { auth, sid } = await session();
    emulator.configure({ maxUploadBytes: 1024 * 1024 });
    try {
      const { body, contentType } = multipartStream(16 * 1024 * 1024);
      const res = await fetch(`${server.url}/api/upload-video/nemo_agent/me/${sid}`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': contentType },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(((await res.json()) as { code: number }).code).toBe(4002);
    } finally {
      emulator.configure({ maxUploadBytes: 500 * 1024 * 1024 });
    }
    // The connection stays usable.
    const after = await fetch(`${server.url}/api/credits/balance/simple`, { headers: auth });
    expect(after.status).toBe(200);
  });

  test('a request refused before its body is read is drained (no hang)', async () => {
    const { body, contentType } = multipartStream(8 * 1024 * 1024);
    const res = await fetch(`${server.url}/api/upload-video/nemo_agent/me/1`, {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(((await res.json()) as { code: number }).code).toBe(1001);
  });

  test('SSE over HTTP: events and heartbeats arrive; a cut is a network error', async () => {
    const { auth, sid } = await session();
    emulator.agent(() => [{ text: 'one' }, { delayMs: 120 }, { text: 'two' }]);
    try {
      const res = await fetch(`${server.url}/run_sse`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify(sseBody(sid, 'x')),
      });
      const events = parseSse(await res.text());
      expect(events.filter((e) => e.comment === 'heartbeat').length).toBeGreaterThanOrEqual(1);
      expect(
        events
          .filter((e) => e.data && e.data.partial === false)
          .map((e) => e.data.content.parts[0].text),
      ).toEqual(['one', 'two']);
      emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
      const cut = await fetch(`${server.url}/run_sse`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(sseBody(sid, 'x')),
      });
      await expect(cut.text()).rejects.toThrow();
    } finally {
      emulator.agent(undefined);
    }
  });

  test('a stalled stream ends when the client aborts', async () => {
    const { auth, sid } = await session();
    emulator.fail('POST /run_sse', { stallAfterEvents: 0 });
    const ac = new AbortController();
    const res = await fetch(`${server.url}/run_sse`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(sseBody(sid, 'x')),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    setTimeout(() => ac.abort(), 100);
    await expect(res.text()).rejects.toThrow();
  });

  test('renders: the result URL is on the CDN server, which gets no Authorization header', async () => {
    const { auth, sid, token } = await session();
    await fetch(`${server.url}/api/upload-video/nemo_agent/me/${sid}`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ urls: ['https://youtu.be/q'], source_type: 'url' }),
    });
    await fetch(`${server.url}/run_sse`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(sseBody(sid, 'download this video in MP4 at 1080p')),
    }).then((r) => r.text());
    const draft = emulator.session(sid)?.draft;
    const id = `render_${crypto.randomUUID()}`;
    const start = await fetch(`${server.url}/api/render/proxy/lambda`, {
      method: 'POST',
      headers: { ...auth, ...ATTRIBUTION, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id,
        sessionId: sid,
        draft,
        output: { format: 'mp4', quality: 'high' },
      }),
    });
    expect(start.status).toBe(200);
    const poll = (await (
      await fetch(`${server.url}/api/render/proxy/lambda/${id}`, { headers: auth })
    ).json()) as {
      output: { url: string; size: number };
    };
    expect(poll.output.url.startsWith(`${server.cdnUrl}/renders/`)).toBe(true);
    const mp4 = await fetch(poll.output.url);
    expect(mp4.headers.get('content-type')).toBe('video/mp4');
    expect((await mp4.arrayBuffer()).byteLength).toBe(poll.output.size);
    const ranged = await fetch(poll.output.url, { headers: { Range: 'bytes=0-7' } });
    expect(ranged.status).toBe(206);
    expect(new TextDecoder().decode((await ranged.arrayBuffer()).slice(4, 8))).toBe('ftyp');
    const fallback = await fetch(`${server.url}/api/render/proxy/${id}/download`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect((await fallback.arrayBuffer()).byteLength).toBe(poll.output.size);
    const cdn = emulator.requests.filter((r) => r.origin === 'cdn');
    expect(cdn.length).toBeGreaterThanOrEqual(2);
    expect(cdn.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  test('close() stops both servers and restores the default CDN URL', async () => {
    const other = createEmulator();
    const s = await other.listen();
    expect(other.cdnUrl).toBe(s.cdnUrl);
    await s.close();
    expect(other.cdnUrl).toBe('https://cdn.emulator.nemovideo.test');
    await expect(fetch(`${s.url}/api/credits/balance/simple`)).rejects.toThrow();
    await expect(fetch(`${s.cdnUrl}/renders/x.mp4`)).rejects.toThrow();
  });
});
