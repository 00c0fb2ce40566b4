import { describe, expect, it } from 'vitest';
import {
  AbortError,
  type ChatEvent,
  ConfigError,
  SessionNotFoundError,
  StreamError,
} from '../../src/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import {
  adk,
  collect,
  controlledSse,
  data,
  fakeClient,
  SID,
  sseResponse,
  TOKEN,
} from './helpers.js';

const TURN = [
  data(adk([{ text: 'Adding ' }], { partial: true })),
  data(adk([{ text: 'music.' }], { partial: true })),
  data(adk([{ text: 'Adding music.' }, { functionCall: { id: 'c1', name: 'add_bgm', args: {} } }])),
  data(adk([{ functionResponse: { id: 'c1', name: 'add_bgm', response: { ok: true } } }])),
];

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('the request', () => {
  it('POSTs the ADK body once, with the stream headers, bearer and attribution', async () => {
    const { session, calls } = fakeClient(() => sseResponse(TURN));
    const stream = session.chat('Add background music');
    expect(typeof stream[Symbol.asyncIterator]).toBe('function');
    expect(stream.sessionId).toBe(SID);
    await stream.result();
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call?.method).toBe('POST');
    expect(new URL(call?.url ?? '').pathname).toBe('/run_sse');
    expect(call?.body).toEqual({
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: SID,
      new_message: { parts: [{ text: 'Add background music' }] },
    });
    expect(call?.headers.get('accept')).toBe('text/event-stream');
    expect(call?.headers.get('content-type')).toContain('application/json');
    expect(call?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(call?.headers.get('x-skill-source')).toBe('nemovideo');
  });

  it('follows backend overrides of the path and app name', async () => {
    const { session, calls } = fakeClient(() => sseResponse(TURN), {
      backend: { appName: 'other_agent', paths: { runSse: '/v2/run_sse' } },
    });
    await session.chat('hi').result();
    expect(new URL(calls[0]?.url ?? '').pathname).toBe('/v2/run_sse');
    expect(calls[0]?.body).toMatchObject({ app_name: 'other_agent' });
  });

  it('rejects an empty message and bad options before sending anything', () => {
    const { session, calls } = fakeClient(() => sseResponse(TURN));
    expect(() => session.chat('   ')).toThrow(ConfigError);
    expect(() => session.chat(undefined as unknown as string)).toThrow(/non-empty message/);
    expect(() => session.chat('hi', { idleTimeout: -1 })).toThrow(/idleTimeout/);
    expect(() => session.chat('hi', { hardTimeout: Number.NaN })).toThrow(/hardTimeout/);
    expect(() => session.chat('hi', { keepEvents: -3 })).toThrow(/keepEvents/);
    expect(calls).toHaveLength(0);
  });

  it('raises the typed error of a refused request, with no events', async () => {
    const { session } = fakeClient(() =>
      Response.json({ code: 1002, message: 'session not found' }),
    );
    const { events, error } = await collect(session.chat('hi'));
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(SessionNotFoundError);
  });
});

describe('one reader', () => {
  it('throws a clear error when iterated twice', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const stream = session.chat('hi');
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(ConfigError);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(
      /already being read by for await.*cannot be iterated twice/,
    );
    expect(() => stream.toReadableStream()).toThrow(ConfigError);
  });

  it('refuses to iterate a stream that result() is reading', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const stream = session.chat('hi');
    const result = stream.result();
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/already being read by result\(\)/);
    expect((await result).text).toBe('Adding music.');
  });

  it('resolves result() and text() after (or while) another reader iterates', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const stream = session.chat('hi');
    const iterator = stream[Symbol.asyncIterator]();
    const early = stream.text(); // the iterator reads; text() waits for it
    const events: ChatEvent[] = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
      events.push(step.value);
    }
    expect(await early).toBe('Adding music.');
    const result = await stream.result();
    expect(result.events).toEqual(events);
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolResults).toHaveLength(1);
    expect(await stream.text()).toBe('Adding music.');
  });

  it('keeps at most keepEvents events; the text stays complete', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const result = await session.chat('hi', { keepEvents: 2 }).result();
    expect(result.events).toHaveLength(2);
    expect(result.eventsDropped).toBe(3);
    expect(result.toolCalls).toEqual([]);
    expect(result.text).toBe('Adding music.');
    const none = await fakeClient(() => sseResponse(TURN))
      .session.chat('hi', { keepEvents: false })
      .result();
    expect(none.events).toEqual([]);
    expect(none.eventsDropped).toBe(5);
    const all = await fakeClient(() => sseResponse(TURN))
      .session.chat('hi', { keepEvents: true })
      .result();
    expect(all.events).toHaveLength(5);
  });
});

describe('leaving early', () => {
  it('break closes the connection and settles result() with AbortError', async () => {
    const body = controlledSse();
    const { session } = fakeClient(() => body.response());
    const stream = session.chat('hi');
    body.write(TURN.join(''));
    for await (const event of stream) {
      expect(event.type).toBe('text');
      break;
    }
    expect(body.cancelled).not.toBe(false);
    await expect(stream.result()).rejects.toBeInstanceOf(AbortError);
  });

  it('abort() ends the iteration at once, before queued events, and cancels the body', async () => {
    const clock = new ManualClock();
    const body = controlledSse();
    const { session } = fakeClient(() => body.response(), { clock });
    const stream = session.chat('hi');
    body.write(TURN.join(''));
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.type).toBe('text');
    stream.abort('user clicked stop');
    await expect(iterator.next()).rejects.toThrow(/aborted: user clicked stop/);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(body.cancelled).not.toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it('an aborted signal ends the turn with AbortError and leaves no sleep behind', async () => {
    const clock = new ManualClock();
    const body = controlledSse();
    const { session } = fakeClient(() => body.response(), { clock });
    const controller = new AbortController();
    const stream = session.chat('hi', { signal: controller.signal });
    body.write(data(adk([{ text: 'one' }])));
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next(); // text
    await iterator.next(); // message
    const pending = iterator.next(); // waits for bytes
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(body.cancelled).not.toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const { session, calls } = fakeClient(() => sseResponse(TURN));
    const controller = new AbortController();
    controller.abort(new Error('not now'));
    const { error } = await collect(session.chat('hi', { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).message).toContain('not now');
    expect(calls).toHaveLength(0);
  });
});

describe('toReadableStream()', () => {
  it('gives ChatEvent objects by default', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const reader = session.chat('hi').toReadableStream().getReader();
    const events: ChatEvent[] = [];
    for (let step = await reader.read(); !step.done; step = await reader.read()) {
      events.push(step.value);
    }
    expect(events.map((e) => e.type)).toEqual([
      'text',
      'text',
      'message',
      'tool_call',
      'tool_result',
    ]);
    expect(events[0]?.raw).toBeDefined();
  });

  it('errors the object stream with the typed error', async () => {
    const { session } = fakeClient(() => sseResponse([TURN[0] as string, data({ error: 'boom' })]));
    const reader = session.chat('hi').toReadableStream().getReader();
    expect((await reader.read()).value?.type).toBe('text');
    expect((await reader.read()).value?.type).toBe('error');
    await expect(reader.read()).rejects.toBeInstanceOf(StreamError);
  });

  it('writes NDJSON without raw (or with it on request)', async () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    const text = await readAll(session.chat('hi').toReadableStream({ format: 'ndjson' }));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual([
      'text',
      'text',
      'message',
      'tool_call',
      'tool_result',
    ]);
    expect(lines[0]).toEqual({ type: 'text', text: 'Adding ', author: 'nemo_agent' });
    const raw = await readAll(
      fakeClient(() => sseResponse(TURN))
        .session.chat('hi')
        .toReadableStream({ format: 'ndjson', raw: true }),
    );
    expect(JSON.parse(raw.split('\n')[0] ?? '')).toHaveProperty('raw.invocationId', 'e-1');
  });

  it('writes SSE, ending a failed turn with one error record', async () => {
    const clock = new ManualClock();
    const body = controlledSse();
    const { session } = fakeClient(() => body.response(), { clock });
    const readable = session.chat('hi', { idleTimeout: 1000 }).toReadableStream({ format: 'sse' });
    body.write(TURN[0] as string);
    const reader = readable.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    expect(first).toMatch(/^data: \{"type":"text".*\}\n\n$/);
    const next = reader.read(); // waits for bytes that never come
    await flush();
    await clock.advance(1000);
    const frame = decoder.decode((await next).value);
    expect((await reader.read()).done).toBe(true);
    const last = JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', name: 'TimeoutError' });
    expect(String(last.message)).toContain('No bytes arrived');
  });

  it('does not repeat the server error event as a second error record', async () => {
    const { session } = fakeClient(() => sseResponse([TURN[0] as string, data({ error: 'boom' })]));
    const text = await readAll(session.chat('hi').toReadableStream({ format: 'ndjson' }));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['text', 'error']);
  });

  it('cancelling the readable stream closes the connection', async () => {
    const body = controlledSse();
    const { session } = fakeClient(() => body.response());
    const stream = session.chat('hi');
    const reader = stream.toReadableStream({ format: 'ndjson' }).getReader();
    body.write(TURN[0] as string);
    await reader.read();
    await reader.cancel();
    expect(body.cancelled).not.toBe(false);
    await expect(stream.result()).rejects.toBeInstanceOf(AbortError);
  });

  it('rejects an unknown format', () => {
    const { session } = fakeClient(() => sseResponse(TURN));
    expect(() => session.chat('hi').toReadableStream({ format: 'xml' as 'sse' })).toThrow(
      ConfigError,
    );
  });
});

/**
 * A body of `first` then `count` chunks of `unit` repeated to 64 KiB, counting
 * how many chunks the SDK pulled.
 */
function floodBody(first: string, unit: string, count: number) {
  const chunk = new TextEncoder().encode(unit.repeat(Math.floor(65536 / unit.length)));
  const stats = { pulls: 0 };
  const response = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(first));
        },
        pull(controller) {
          stats.pulls++;
          controller.enqueue(chunk);
          if (stats.pulls === count) controller.close();
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    );
  return { response, stats, chunkBytes: chunk.byteLength };
}

describe('reading ahead', () => {
  for (const [name, unit] of [
    ['comment lines', ':\n'],
    ['empty data: payloads', 'data:\n\n'],
  ] as const) {
    it(`counts ${name} toward the read-ahead bound, and hands them out as one heartbeat per read`, async () => {
      const flood = floodBody(data(adk([{ text: 'first' }])), unit, 64);
      const { session } = fakeClient(flood.response);
      const stream = session.chat('hi');
      const iterator = stream[Symbol.asyncIterator]();
      expect((await iterator.next()).value?.type).toBe('text');
      // The reader pauses at its first event; the SDK reads 1 MiB ahead, then stops.
      for (let i = 0; i < 100; i++) await flush();
      const paused = flood.stats.pulls;
      expect(paused * flood.chunkBytes).toBeGreaterThan(1024 * 1024);
      expect(paused * flood.chunkBytes).toBeLessThanOrEqual(1024 * 1024 + 3 * flood.chunkBytes);
      for (let i = 0; i < 50; i++) await flush();
      expect(flood.stats.pulls).toBe(paused);
      // Reading on: every chunk is read, and its thousands of heartbeats come as one event.
      const { events, error } = await collect({ [Symbol.asyncIterator]: () => iterator });
      expect(error).toBeUndefined();
      expect(flood.stats.pulls).toBe(64);
      expect(events[0]?.type).toBe('message');
      const heartbeats = events.filter((e) => e.type === 'heartbeat').length;
      expect(heartbeats).toBeGreaterThanOrEqual(1);
      expect(heartbeats).toBeLessThanOrEqual(64);
      expect((await stream.result()).events.length).toBeLessThanOrEqual(66);
    });
  }

  it('stops reading the body while 1 MiB waits for a slow reader, then resumes', async () => {
    const payload = data({ type: 'text', content: 'x'.repeat(128 * 1024) });
    let pulls = 0;
    const { session } = fakeClient(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulls++;
              controller.enqueue(new TextEncoder().encode(payload));
              if (pulls === 40) controller.close();
            },
          }),
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    );
    const stream = session.chat('hi');
    for (let i = 0; i < 50; i++) await flush();
    const paused = pulls;
    expect(paused).toBeGreaterThanOrEqual(8);
    expect(paused).toBeLessThanOrEqual(11);
    for (let i = 0; i < 50; i++) await flush();
    expect(pulls).toBe(paused);
    const text = await stream.text();
    expect(pulls).toBe(40);
    expect(text.length).toBe(40 * 128 * 1024);
  });
});

describe('a connection that breaks mid-stream', () => {
  it('keeps every byte that arrived, even those the reader had not asked for yet', async () => {
    const body = controlledSse();
    const { session } = fakeClient(() => body.response());
    const stream = session.chat('hi');
    const iterator = stream[Symbol.asyncIterator]();
    body.write(TURN[0] as string);
    expect((await iterator.next()).value?.type).toBe('text');
    // Two more chunks arrive while the reader is busy, then the connection fails:
    // a stream error drops chunks still queued in the body, so the SDK must have read them.
    body.write(TURN[1] as string);
    await flush();
    body.write(TURN[2] as string);
    await flush();
    body.error(new TypeError('other side closed'));
    const { events, error } = await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(events.map((e) => e.type)).toEqual(['text', 'message', 'tool_call']);
    expect(error).toBeInstanceOf(StreamError);
  });

  it('delivers every event received, then throws StreamError', async () => {
    const body = controlledSse();
    const { session } = fakeClient(() => body.response());
    const stream = session.chat('hi');
    body.write(TURN.slice(0, 3).join(''));
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    body.error(new TypeError('terminated'));
    const types = [first.value?.type];
    let error: unknown;
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done) break;
        types.push(step.value.type);
      }
    } catch (e) {
      error = e;
    }
    expect(types).toEqual(['text', 'text', 'message', 'tool_call']);
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).message).toMatch(/broke after .*terminated.*not re-sent/);
    expect((error as StreamError).cause).toBeInstanceOf(TypeError);
  });
});
