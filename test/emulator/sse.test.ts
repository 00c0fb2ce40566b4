import { afterEach, describe, expect, test, vi } from 'vitest';
import type { AgentItem } from '../../src/testing/index.js';
import { createEmulator } from '../../src/testing/index.js';
import { bootstrap, call, parseSse, request, sseBody, turn, uploadUrl } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

function texts(events: ReturnType<typeof parseSse>): string[] {
  return events.flatMap((e) =>
    (e.data?.content?.parts ?? [])
      .filter((p: { text?: string }) => typeof p.text === 'string')
      .map((p: { text: string }) => p.text),
  );
}

describe('POST /run_sse: the default agent, ADK style', () => {
  test('answers text/event-stream with one data: line per event and no event:/id: lines', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const t = await turn(emulator, token, sid, 'hello');
    expect(t.status).toBe(200);
    expect(t.contentType).toMatch(/^text\/event-stream/);
    for (const block of t.raw.split('\n\n').filter(Boolean)) {
      expect(block.split('\n')).toHaveLength(1);
      expect(block.startsWith('data: ')).toBe(true);
    }
    const events = t.events.map((e) => e.data);
    expect(events.at(-1)).toMatchObject({
      author: 'nemo_agent',
      partial: false,
      content: { role: 'model', parts: [{ text: expect.stringMatching(/upload a video/i) }] },
      invocationId: expect.stringMatching(/^e-/),
      id: expect.any(String),
      timestamp: expect.any(Number),
    });
    // Partial deltas concatenate to the final text.
    const partials = events.filter((e) => e.partial === true).map((e) => e.content.parts[0].text);
    expect(partials.length).toBeGreaterThan(1);
    expect(partials.join('')).toBe(events.at(-1).content.parts[0].text);
    expect(new Set(events.map((e) => e.invocationId)).size).toBe(1);
  });

  test('the title turn is silent: tool call and response only, paired by id, response role user', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const t = await turn(emulator, token, sid, 'add a title "Urban Dreams"');
    expect(texts(t.events)).toEqual([]);
    const [call1, result] = t.events.map((e) => e.data);
    expect(t.events).toHaveLength(2);
    expect(call1.content).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: {
            id: expect.any(String),
            name: 'add_text',
            args: { text: 'Urban Dreams', start_ms: 0, duration_ms: 3000, style: 'title' },
          },
        },
      ],
    });
    expect(result.content.role).toBe('user');
    expect(result.author).toBe('nemo_agent');
    expect(result.content.parts[0].functionResponse).toEqual({
      id: call1.content.parts[0].functionCall.id,
      name: 'add_text',
      response: expect.objectContaining({ status: 'success' }),
    });
    expect(emulator.session(sid)?.draft?.t).toEqual([
      { tt: 7, sg: [expect.objectContaining({ txt: 'Urban Dreams' })] },
    ]);
  });

  test('download after an upload: tool activity, a GUI-worded reply, a video track', async () => {
    const emulator = createEmulator({ partial: false });
    const { token, sid } = await bootstrap(emulator);
    await uploadUrl(emulator, token, sid, 'https://example.com/city.mp4');
    const t = await turn(emulator, token, sid, 'download this video in MP4 at 1080p');
    const names = t.events.flatMap((e) =>
      e.data.content.parts.flatMap((p: Record<string, { name: string }>) =>
        p.functionCall
          ? [`call:${p.functionCall.name}`]
          : p.functionResponse
            ? [`result:${p.functionResponse.name}`]
            : [],
      ),
    );
    expect(names).toEqual([
      'call:import_media',
      'result:import_media',
      'call:set_export_settings',
      'result:set_export_settings',
    ]);
    // partial: false → no partial field at all.
    expect(t.events.every((e) => !('partial' in e.data))).toBe(true);
    expect(texts(t.events).at(-1)).toMatch(/Export button/);
    expect(emulator.session(sid)?.draft?.t[0]).toMatchObject({ tt: 0, sg: [{ nm: 'city.mp4' }] });
  });
});

describe('typed events', () => {
  test('text, tool_call and tool_result', async () => {
    const emulator = createEmulator({ eventStyle: 'typed' });
    const { token, sid } = await bootstrap(emulator);
    const t = await turn(emulator, token, sid, 'add background music');
    expect(t.events.map((e) => e.data)).toEqual([
      { type: 'tool_call', name: 'search_music', args: { mood: 'lo-fi', limit: 1 } },
      {
        type: 'tool_result',
        name: 'search_music',
        result: expect.objectContaining({ status: 'success' }),
      },
      { type: 'tool_call', name: 'add_bgm', args: { name: 'Lo-fi', volume: 0.35 } },
      { type: 'tool_result', name: 'add_bgm', result: { status: 'success', volume: 0.35 } },
      { type: 'text', content: expect.stringMatching(/35%/) },
    ]);
  });

  test('configure() switches the style at run time', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    emulator.configure({ eventStyle: 'typed' });
    const t = await turn(emulator, token, sid, 'hi');
    expect(t.events.map((e) => e.data.type)).toEqual(['text']);
  });
});

describe('custom agents', () => {
  test('high-level items map to ADK payloads', async () => {
    const emulator = createEmulator({ partial: false, heartbeatStyle: 'empty-data' });
    const { token, sid } = await bootstrap(emulator);
    emulator.agent((message) => [
      { text: 'thinking…', thought: true },
      { text: `echo: ${message}`, toolCall: { name: 'probe', args: { a: 1 }, id: 'call-1' } },
      { toolResult: { name: 'probe', response: 42 } },
      { heartbeat: true },
      { data: { custom: true } },
      { raw: ': a comment\n\n' },
      { error: 'quota', code: 'RESOURCE_EXHAUSTED', as: 'event' },
      { text: 'never sent' },
    ]);
    const t = await turn(emulator, token, sid, 'ping');
    expect(t.events[0]?.data.content.parts).toEqual([{ text: 'thinking…', thought: true }]);
    expect(t.events[1]?.data.content.parts).toEqual([
      { text: 'echo: ping' },
      { functionCall: { id: 'call-1', name: 'probe', args: { a: 1 } } },
    ]);
    expect(t.events[2]?.data.content.parts[0].functionResponse).toEqual({
      id: 'call-1',
      name: 'probe',
      response: { result: 42 },
    });
    expect(t.events[3]).toEqual({ data: undefined, rawData: '' });
    expect(t.events[4]?.data).toEqual({ custom: true });
    expect(t.events[5]).toEqual({ comment: 'a comment' });
    expect(t.events[6]?.data).toMatchObject({
      errorCode: 'RESOURCE_EXHAUSTED',
      errorMessage: 'quota',
    });
    expect(t.events).toHaveLength(7);
  });

  test('{ error } is the ADK exception payload, then the stream closes; typed: {code,message}', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    emulator.agent(() => [{ error: 'boom' }, { text: 'after' }]);
    expect((await turn(emulator, token, sid, 'x')).events.map((e) => e.data)).toEqual([
      { error: 'boom' },
    ]);
    emulator.configure({ eventStyle: 'typed' });
    emulator.agent(() => [{ error: 'boom', code: 2001 }]);
    expect((await turn(emulator, token, sid, 'x')).events.map((e) => e.data)).toEqual([
      { code: 2001, message: 'boom' },
    ]);
  });

  test('async generators, ctx.setDraft and defaultAgent()', async () => {
    const emulator = createEmulator({ partial: false });
    const { token, sid } = await bootstrap(emulator);
    emulator.agent(async function* (_message, ctx) {
      yield { text: `turn ${ctx.turn}` };
      yield* ctx.defaultAgent();
      yield {
        effect: () => ctx.setDraft({ ...ctx.draft!, d: 1234 }),
      };
    });
    const t = await turn(emulator, token, sid, "add a title 'T'");
    expect(texts(t.events)).toEqual(['turn 1']);
    expect(emulator.session(sid)?.draft?.d).toBe(1234);
    emulator.agent(undefined);
    expect(texts((await turn(emulator, token, sid, 'hello')).events).at(-1)).toMatch(/Nemo/);
  });

  test('a charge refused before streaming → 2001 JSON; during streaming → an error event', async () => {
    const emulator = createEmulator({ initialCredits: 30 });
    const { token, sid, userId } = await bootstrap(emulator);
    emulator.agent((_m, ctx) => {
      ctx.charge(50);
      return [{ text: 'x' }];
    });
    const refused = await call(emulator, 'POST', '/run_sse', { token, body: sseBody(sid, 'x') });
    expect(refused.json.code).toBe(2001);
    expect(emulator.credits(userId)).toEqual({ available: 30, frozen: 0 });
    emulator.agent(async function* (_m, ctx) {
      yield { text: 'starting' };
      ctx.charge(20);
      yield { text: 'charged' };
      ctx.charge(20);
      yield { text: 'never' };
    });
    const t = await turn(emulator, token, sid, 'x');
    expect(t.events.at(-1)?.data).toMatchObject({ errorCode: 2001 });
    expect(emulator.credits(userId)).toEqual({ available: 10, frozen: 0 });
  });

  test('credits are frozen while a turn runs', async () => {
    vi.useFakeTimers();
    const emulator = createEmulator();
    const { token, sid, userId } = await bootstrap(emulator);
    emulator.agent((_m, ctx) => {
      ctx.charge(100);
      return [{ text: 'a' }, { delayMs: 5000 }, { text: 'b' }];
    });
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, 'x') }),
    );
    const body = res.text();
    await vi.advanceTimersByTimeAsync(10);
    expect(emulator.credits(userId)).toEqual({ available: 0, frozen: 100 });
    const balance = await call(emulator, 'GET', '/api/credits/balance/simple', { token });
    expect(balance.json.data).toEqual({ available: 0, frozen: 100, total: 100 });
    await vi.advanceTimersByTimeAsync(5000);
    await body;
    expect(emulator.credits(userId)).toEqual({ available: 0, frozen: 0 });
  });
});

describe('heartbeats and delays (fake timers)', () => {
  test.each([
    ['comment', ': heartbeat\n\n'],
    ['empty-data', 'data:\n\n'],
    ['typed', 'data: {"type":"heartbeat"}\n\n'],
  ] as const)('heartbeatStyle %s during a long tool call', async (style, wire) => {
    vi.useFakeTimers();
    const emulator = createEmulator({
      heartbeatMs: 1000,
      heartbeatStyle: style,
      partial: false,
    });
    const { token, sid } = await bootstrap(emulator);
    emulator.agent(() => [
      { toolCall: { name: 'render_preview' } },
      { delayMs: 3500 },
      { toolResult: { name: 'render_preview', response: { ok: true } } },
    ]);
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, 'x') }),
    );
    const body = res.text();
    await vi.advanceTimersByTimeAsync(4000);
    const raw = await body;
    expect(raw.split(wire).length - 1).toBe(3);
    expect(parseSse(raw).at(-1)?.data?.content?.parts?.[0]?.functionResponse?.name).toBe(
      'render_preview',
    );
  });

  test('eventDelayMs spaces the events', async () => {
    vi.useFakeTimers();
    const emulator = createEmulator({ eventDelayMs: 200, partial: false });
    const { token, sid } = await bootstrap(emulator);
    emulator.agent(() => [{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, 'x') }),
    );
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value;
      }
    })();
    await vi.advanceTimersByTimeAsync(1);
    expect(parseSse(seen)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(parseSse(seen)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200);
    await pump;
    expect(texts(parseSse(seen))).toEqual(['a', 'b', 'c']);
  });
});

describe('stream faults', () => {
  test('cutAfterEvents errors the body after N events; the turn still completes server-side', async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, "add a title 'Cut'") }),
    );
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/functionCall/);
    await expect(reader.read()).rejects.toThrow(/cut/);
    expect(emulator.session(sid)?.draft?.t[0]?.sg[0]?.txt).toBe('Cut');
    // The fault applied once.
    expect((await turn(emulator, token, sid, 'hi')).events.length).toBeGreaterThan(0);
  });

  test("cutMode 'close' ends the body cleanly", async () => {
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    emulator.fail('POST /run_sse', { cutAfterEvents: 1, cutMode: 'close' });
    const t = await turn(emulator, token, sid, "add a title 'Cut'");
    expect(t.events).toHaveLength(1);
  });

  test('stallAfterEvents hangs the turn (no state change) until reset(); heartbeats optional', async () => {
    vi.useFakeTimers();
    const emulator = createEmulator({ heartbeatMs: 1000 });
    const { token, sid } = await bootstrap(emulator);
    emulator.fail('POST /run_sse', { stallAfterEvents: 1, stallWith: 'heartbeats' });
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, "add a title 'Stall'") }),
    );
    let raw = '';
    let ended = false;
    const pump = (async () => {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        raw += value;
      }
      ended = true;
    })();
    await vi.advanceTimersByTimeAsync(10_500);
    expect(ended).toBe(false);
    expect(parseSse(raw).filter((e) => e.comment === 'heartbeat')).toHaveLength(10);
    expect(parseSse(raw).filter((e) => e.data)).toHaveLength(1);
    expect(emulator.session(sid)?.draft).toBeNull();
    emulator.reset();
    await pump;
    expect(ended).toBe(true);
  });

  test('a silent stall sends nothing more, and the client can cancel', async () => {
    vi.useFakeTimers();
    const emulator = createEmulator({ heartbeatMs: 1000 });
    const { token, sid } = await bootstrap(emulator);
    emulator.fail('POST /run_sse', { stallAfterEvents: 0 });
    const res = await emulator.handle(
      request('POST', '/run_sse', { token, body: sseBody(sid, 'hi') }),
    );
    const reader = res.body!.getReader();
    const pending = reader.read();
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settled).toBe(false);
    await reader.cancel();
    expect((await pending).done).toBe(true);
  });

  test('fail() with status, code, body, headers, times and delay', async () => {
    vi.useFakeTimers();
    const emulator = createEmulator();
    const { token, sid } = await bootstrap(emulator);
    const handle = emulator.fail('POST /run_sse', { status: 503, times: 2 });
    expect(
      (await call(emulator, 'POST', '/run_sse', { token, body: sseBody(sid, 'x') })).status,
    ).toBe(503);
    expect(handle.remaining).toBe(1);
    handle.remove();
    expect((await turn(emulator, token, sid, 'x')).status).toBe(200);
    emulator.fail('GET /api/credits/*', { code: 1001 });
    expect((await call(emulator, 'GET', '/api/credits/balance/simple', { token })).json).toEqual({
      code: 1001,
      message: 'Emulated failure',
      data: null,
    });
    emulator.fail('/api/state/:sid/*', { status: 429, headers: { 'Retry-After': '7' } });
    emulator.fail(/^\/api\/state\//, { status: 429, headers: { 'Retry-After': '7' } });
    const limited = await call(emulator, 'GET', `/api/state/nemo_agent/me/${sid}/latest`, {
      token,
    });
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    emulator.fail('GET /api/credits/balance/simple', { delayMs: 5000 });
    let done = false;
    const slow = call(emulator, 'GET', '/api/credits/balance/simple', { token }).then((r) => {
      done = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(4999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect((await slow).json.code).toBe(0);
    expect(() => emulator.fail('', {})).toThrow(TypeError);
  });
});

test('an agent returning items of every kind type-checks', () => {
  const items: AgentItem[] = [{ effect: () => undefined }, { delayMs: 1 }];
  expect(items).toHaveLength(2);
});
