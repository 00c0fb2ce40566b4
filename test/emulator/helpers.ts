import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/testing/index.js';

/** Parsed JSON of a response under test (its shape is what the tests assert). */
// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON read by assertions
export type Json = any;

export const BASE = 'https://mega-api-prod.nemovideo.ai';
export const ATTRIBUTION = {
  'X-Skill-Source': 'nemovideo-test',
  'X-Skill-Version': '0.0.0',
  'X-Skill-Platform': 'linux',
};

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  base?: string;
}

/** Build a raw Request (no SDK involved). */
export function request(method: string, path: string, o: CallOptions = {}): Request {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  let body: BodyInit | undefined;
  if (o.body instanceof FormData || typeof o.body === 'string') body = o.body;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] ??= 'application/json';
  }
  return new Request(`${o.base ?? BASE}${path}`, { method, headers, body: body ?? null });
}

export async function call(
  emulator: Emulator,
  method: string,
  path: string,
  o: CallOptions = {},
): Promise<{ status: number; headers: Headers; json: Json }> {
  const res = await emulator.handle(request(method, path, o));
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** Token + session, through raw requests. */
export async function bootstrap(
  emulator: Emulator,
  clientId: string = crypto.randomUUID(),
): Promise<{ token: string; sid: string; userId: string }> {
  const t = await call(emulator, 'POST', '/api/auth/anonymous-token', {
    headers: { 'X-Client-Id': clientId },
  });
  const token = t.json.data.token as string;
  const s = await call(emulator, 'POST', '/api/tasks/me/with-session/nemo_agent', {
    token,
    body: { task_name: 'project', language: 'en' },
  });
  return { token, sid: s.json.data.session_id, userId: t.json.data.user_id };
}

export function sseBody(sid: string, text: string): unknown {
  return {
    app_name: 'nemo_agent',
    user_id: 'me',
    session_id: sid,
    new_message: { parts: [{ text }] },
  };
}

/** Split an SSE body into blocks: `{ data }` payloads (parsed when JSON) and `{ comment }` lines. */
export function parseSse(text: string): { data?: Json; rawData?: string; comment?: string }[] {
  const out: { data?: Json; rawData?: string; comment?: string }[] = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    if (block.startsWith(':')) {
      out.push({ comment: block.slice(1).trim() });
      continue;
    }
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    let parsed: unknown;
    try {
      parsed = data === '' ? undefined : JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    out.push({ data: parsed, rawData: data });
  }
  return out;
}

/** Run a turn and return the SSE blocks. */
export async function turn(
  emulator: Emulator,
  token: string,
  sid: string,
  text: string,
): Promise<{
  status: number;
  contentType: string | null;
  events: ReturnType<typeof parseSse>;
  raw: string;
}> {
  const res = await emulator.handle(
    request('POST', '/run_sse', {
      token,
      body: sseBody(sid, text),
      headers: { Accept: 'text/event-stream' },
    }),
  );
  const raw = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events: parseSse(raw),
    raw,
  };
}

export async function uploadUrl(emulator: Emulator, token: string, sid: string, url: string) {
  return call(emulator, 'POST', `/api/upload-video/nemo_agent/me/${sid}`, {
    token,
    body: { urls: [url], source_type: 'url' },
  });
}

/** A session with an uploaded video and a draft, plus raw render calls (no SDK). */
export async function readyToRender(options: EmulatorOptions = {}) {
  const clock = new FakeClock();
  const emulator = createEmulator({ clock, ...options });
  const { token, sid } = await bootstrap(emulator);
  await uploadUrl(emulator, token, sid, 'https://example.com/city.mp4');
  await turn(emulator, token, sid, 'download this video in MP4 at 1080p');
  const draft = emulator.session(sid)?.draft;
  const start = (id: string, extra: { headers?: Record<string, string>; body?: unknown } = {}) =>
    call(emulator, 'POST', '/api/render/proxy/lambda', {
      token,
      headers: extra.headers ?? ATTRIBUTION,
      body: extra.body ?? { id, sessionId: sid, draft, output: { format: 'mp4', quality: 'high' } },
    });
  const poll = (id: string) => call(emulator, 'GET', `/api/render/proxy/lambda/${id}`, { token });
  return { emulator, clock, token, sid, draft, start, poll };
}

/** A completed render: its id and the result URL of its first poll. */
export async function completedRender(options: EmulatorOptions = {}, id = 'r1') {
  const ready = await readyToRender({ renderDurationMs: 0, ...options });
  await ready.start(id);
  const polled = await ready.poll(id);
  return {
    ...ready,
    id,
    url: polled.json.output.url as string,
    size: polled.json.output.size as number,
  };
}

/** GET (or another method) a URL through `handle()`: status, headers and body bytes. */
export async function fetchBytes(
  emulator: Emulator,
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
) {
  const res = await emulator.handle(new Request(url, { method, headers }));
  return {
    status: res.status,
    headers: res.headers,
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

/** Byte equality without vitest's element-wise deep diff (slow on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
