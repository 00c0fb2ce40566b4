import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageEvent } from '../../src/helpers.js';
import {
  type ChatEvent,
  NemoClient,
  ResponseValidationError,
  StreamError,
} from '../../src/index.js';
import {
  decodeAdkFast,
  decodeWithSchemas,
  normaliseTimestamp,
  type PayloadSink,
} from '../../src/resources/chat/decode.js';
import { createEmulator, type EmulatorOptions } from '../../src/testing/index.js';
import { adk, collect, data, fakeClient, sseResponse, strip } from './helpers.js';

/** Chat once over a body made of `chunks`. */
function chatOver(chunks: readonly (string | Uint8Array)[], init?: ResponseInit) {
  const { session, calls } = fakeClient(() => sseResponse(chunks, init));
  return { stream: session.chat('hello'), calls };
}

/** What the README loop prints: `if (e.type === 'text') out(e.text)`. */
function printed(events: readonly ChatEvent[]): string {
  let out = '';
  for (const e of events) if (e.type === 'text') out += e.text;
  return out;
}

function messages(events: readonly ChatEvent[]): string[] {
  return events.filter((e): e is MessageEvent => e.type === 'message').map((e) => e.text);
}

/** Event types with the text of text-like events, for compact comparisons. */
function shape(events: readonly ChatEvent[]): string[] {
  return events.map((e) =>
    e.type === 'text' || e.type === 'message' || e.type === 'thought'
      ? `${e.type}:${e.text}`
      : e.type,
  );
}

describe('the event model: each piece of the reply once', () => {
  it('streamed (ADK partial deltas, then the final copy): deltas as text, the copy as message', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Adding ' }], { partial: true })),
      data(adk([{ text: 'music.' }], { partial: true })),
      data(
        adk([
          { text: 'Adding music.' },
          { functionCall: { id: 'c1', name: 'add_bgm', args: { title: 'Lo-fi', volume: 0.35 } } },
        ]),
      ),
      data({
        id: 'e4',
        author: 'nemo_agent',
        content: {
          role: 'user',
          parts: [{ functionResponse: { id: 'c1', name: 'add_bgm', response: { ok: true } } }],
        },
      }),
      data(adk([{ text: 'Done' }], { partial: true })),
      data(adk([{ text: '!' }], { partial: true })),
      data(adk([{ text: 'Done!' }], { partial: false })),
    ]);
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(strip(events)).toEqual([
      { type: 'text', text: 'Adding ', author: 'nemo_agent', timestamp: undefined },
      { type: 'text', text: 'music.', author: 'nemo_agent', timestamp: undefined },
      { type: 'message', text: 'Adding music.', author: 'nemo_agent', timestamp: undefined },
      {
        type: 'tool_call',
        id: 'c1',
        name: 'add_bgm',
        args: { title: 'Lo-fi', volume: 0.35 },
        author: 'nemo_agent',
        timestamp: undefined,
      },
      {
        type: 'tool_result',
        id: 'c1',
        name: 'add_bgm',
        result: { ok: true },
        author: 'nemo_agent',
        timestamp: undefined,
      },
      // A new message after an earlier one starts with the line break text() puts between them.
      { type: 'text', text: '\nDone', author: 'nemo_agent', timestamp: undefined },
      { type: 'text', text: '!', author: 'nemo_agent', timestamp: undefined },
      { type: 'message', text: 'Done!', author: 'nemo_agent', timestamp: undefined },
    ]);
    const result = await stream.result();
    expect(printed(events)).toBe('Adding music.\nDone!');
    expect(result.text).toBe('Adding music.\nDone!');
    expect(result.silent).toBe(false);
    expect(result.toolCalls.map((c) => c.name)).toEqual(['add_bgm']);
    expect(result.toolResults[0]?.result).toEqual({ ok: true });
    expect(result.events).toHaveLength(8);
    expect(result.eventsDropped).toBe(0);
    // The message event carries the payload that completed it, shared with the tool call.
    expect(events[2]?.raw).toBe(events[3]?.raw);
  });

  it('not streamed (ADK events without partial): each message once as text, then as message', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Part one, ' }, { text: 'part two.' }])),
      data(adk([{ functionCall: { id: 'c1', name: 'trim', args: {} } }])),
      data(adk([{ text: 'Trimmed.' }])),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'text:Part one, ',
      'text:part two.',
      'message:Part one, part two.',
      'tool_call',
      'text:\nTrimmed.',
      'message:Trimmed.',
    ]);
    expect(printed(events)).toBe('Part one, part two.\nTrimmed.');
    expect(await stream.text()).toBe(printed(events));
  });

  it('type-tagged chunks: joined as sent; the message ends at the next event that is not text', async () => {
    const { stream } = chatOver([
      data({ type: 'text', content: 'Hel' }),
      data({ type: 'heartbeat' }),
      data({ type: 'text', content: 'lo' }),
      data({ type: 'tool_call', name: 'add_text', args: { text: 'Hi' } }),
      data({ type: 'text', text: 'Bye' }),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'text:Hel',
      'heartbeat',
      'text:lo',
      'message:Hello',
      'tool_call',
      'text:\nBye',
      // The end of the stream completes the last message.
      'message:Bye',
    ]);
    expect(events.at(-1)?.raw).toBeUndefined();
    expect(await stream.text()).toBe('Hello\nBye');
  });

  it('several messages in one turn, from several agents: one message event each, a line between them', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'I will ' }], { partial: true, author: 'planner' })),
      data(adk([{ text: 'plan.' }], { partial: true, author: 'planner' })),
      // The editor starts before the planner's final copy: the planner's message is complete as it stands.
      data(adk([{ text: 'Cut ' }], { partial: true, author: 'editor' })),
      data(adk([{ text: 'Cut done.\n' }], { author: 'editor' })),
      data(adk([{ text: 'All set.' }], { author: 'planner' })),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'text:I will ',
      'text:plan.',
      'message:I will plan.',
      'text:\nCut ',
      'text:done.\n',
      'message:Cut done.\n',
      // After a message that ends with a line break, no other is added.
      'text:All set.',
      'message:All set.',
    ]);
    expect(messages(events)).toEqual(['I will plan.', 'Cut done.\n', 'All set.']);
    expect(await stream.text()).toBe('I will plan.\nCut done.\nAll set.');
    expect(printed(events)).toBe(await stream.text());
  });

  it('a final copy that adds to its deltas: what it adds comes as one more text event', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Hello' }], { partial: true })),
      data(adk([{ text: 'Hello, world.' }])),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual(['text:Hello', 'text:, world.', 'message:Hello, world.']);
    expect(printed(events)).toBe(await stream.text());
  });

  it('a final copy that contradicts its deltas wins in message and text(); nothing is printed twice', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Helo' }], { partial: true })),
      data(adk([{ text: 'Hello.' }])),
      data(adk([{ text: 'Still ' }], { partial: true })),
      data(adk([{ text: 'typing' }], { partial: true })),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'text:Helo',
      'message:Hello.',
      'text:\nStill ',
      'text:typing',
      // Deltas never followed by a final copy: the message is complete when the stream ends.
      'message:Still typing',
    ]);
    expect(await stream.text()).toBe('Hello.\nStill typing');
    // A final copy shorter than its deltas contradicts them too.
    const short = chatOver([
      data(adk([{ text: 'Hello wor' }], { partial: true })),
      data(adk([{ text: 'ld' }], { partial: true })),
      data(adk([{ text: 'Hello' }])),
    ]);
    const got = await collect(short.stream);
    expect(shape(got.events)).toEqual(['text:Hello wor', 'text:ld', 'message:Hello']);
    expect(await short.stream.text()).toBe('Hello');
  });

  it('thought parts: reasoning once, never in text, message or text()', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'The user wants ', thought: true }], { partial: true })),
      data(adk([{ text: 'music', thought: true }], { partial: true })),
      data(adk([{ text: 'Adding ' }], { partial: true })),
      data(
        adk([
          { text: 'The user wants music', thought: true },
          { text: 'Adding music.' },
          { thought: true, thoughtSignature: 'c2ln' },
        ]),
      ),
      data(adk([{ text: 'Checking the beat.', thought: true }])),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'thought:The user wants ',
      'thought:music',
      'text:Adding ',
      'text:music.',
      'message:Adding music.',
      'thought:Checking the beat.',
    ]);
    const result = await stream.result();
    expect(result.text).toBe('Adding music.');
    expect(printed(events)).toBe('Adding music.');
  });

  it('a turn with only reasoning and tools is silent', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Thinking', thought: true }])),
      data(adk([{ functionCall: { name: 'trim', args: {} } }])),
      data(adk([{ text: '  ' }])),
    ]);
    const result = await stream.result();
    expect(result.silent).toBe(true);
    expect(result.text).toBe('  ');
  });

  it('normalises integer-ms and float-second timestamps to ms', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'a' }], { timestamp: 1712345678123 })),
      data(adk([{ text: 'b' }], { timestamp: 1712345678.123 })),
      data(adk([{ text: 'c' }], { timestamp: '2024-04-05T19:34:38.123Z' })),
      data(adk([{ text: 'd' }], { timestamp: 'soon' })),
      data(adk([{ text: 'e' }], { timestamp: { at: 1 }, author: 42 })),
    ]);
    const { events } = await collect(stream);
    const texts = events.filter((e) => e.type === 'text');
    expect(texts.map((e) => (e.type === 'text' ? e.timestamp : null))).toEqual([
      1712345678123,
      1712345678123,
      1712345678123,
      undefined,
      undefined,
    ]);
    // Metadata of the wrong type does not cost the text.
    expect(texts.at(-1)).toMatchObject({ text: '\ne', author: undefined });
    expect(normaliseTimestamp(0)).toBeUndefined();
    expect(normaliseTimestamp('1712345678')).toBe(1712345678000);
  });

  it('turns events with nothing to show, and malformed parts, into `unknown`', async () => {
    const stateOnly = { id: 'e9', author: 'nemo_agent', actions: { stateDelta: { x: 1 } } };
    const { stream } = chatOver([
      data(stateOnly),
      data(adk([{ functionCall: { args: {} } }, { text: 'kept' }])),
      data(adk([{ inlineData: { mimeType: 'image/png', data: 'AA==' } }])),
      data(adk([{ text: 'x', thought: 'yes' }])),
    ]);
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual([
      'unknown',
      'unknown',
      'text',
      'message',
      'unknown',
      'unknown',
    ]);
    expect(events[0]?.raw).toEqual(stateOnly);
  });
});

describe('the README loop against the emulator', () => {
  const styles: [string, EmulatorOptions][] = [
    ['ADK, streamed', { partial: true }],
    ['ADK, not streamed', { partial: false }],
    ['type-tagged', { eventStyle: 'typed' }],
  ];
  for (const [name, options] of styles) {
    it(`${name}: prints each reply exactly once`, async () => {
      const emulator = createEmulator({ heartbeatMs: 0, ...options });
      const client = new NemoClient({
        clientId: 'events-readme',
        clientIdFile: false,
        logLevel: 'off',
        baseUrl: emulator.baseUrl,
        fetch: (input, init) => emulator.handle(new Request(input, init)),
      });
      const session = await client.sessions.create();
      emulator.agent(() => [
        { text: 'Adding lo-fi music to the whole video. ' },
        { toolCall: { name: 'add_bgm', args: { title: 'Lo-fi' } } },
        { toolResult: { name: 'add_bgm', response: { ok: true } } },
        { text: 'Done: the music fades out at the end.' },
      ]);
      let out = '';
      // The README's loop, as written.
      for await (const event of session.chat('add background music')) {
        if (event.type === 'text') out += event.text;
      }
      expect(out).toBe(
        'Adding lo-fi music to the whole video. \nDone: the music fades out at the end.',
      );
      expect(out.split('Adding lo-fi').length).toBe(2);
      expect(out.split('fades out').length).toBe(2);
    });
  }
});

describe('type-tagged events and heartbeats', () => {
  it('decodes text, tool_call, tool_result and heartbeat', async () => {
    const { stream } = chatOver([
      data({ type: 'text', content: 'Hel' }),
      data({ type: 'text', content: 'lo' }),
      data({ type: 'tool_call', name: 'add_text', args: { text: 'Hi' } }),
      data({ type: 'heartbeat' }),
      data({ type: 'tool_result', name: 'add_text', result: 'ok' }),
    ]);
    const { events } = await collect(stream);
    expect(strip(events)).toEqual([
      { type: 'text', text: 'Hel', author: undefined, timestamp: undefined },
      { type: 'text', text: 'lo', author: undefined, timestamp: undefined },
      { type: 'message', text: 'Hello', author: undefined, timestamp: undefined },
      {
        type: 'tool_call',
        id: undefined,
        name: 'add_text',
        args: { text: 'Hi' },
        author: undefined,
        timestamp: undefined,
      },
      { type: 'heartbeat' },
      {
        type: 'tool_result',
        id: undefined,
        name: 'add_text',
        result: 'ok',
        author: undefined,
        timestamp: undefined,
      },
    ]);
    // Type-tagged chunks join as sent.
    expect(await stream.text()).toBe('Hello');
  });

  it('type-tagged text with `partial` follows the ADK rules', async () => {
    const { stream } = chatOver([
      data({ type: 'text', content: 'Hi ', partial: true }),
      data({ type: 'text', content: 'there', partial: true }),
      data({ type: 'text', content: 'Hi there', partial: false }),
      data({ type: 'text', content: 'Bye.', partial: false }),
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual([
      'text:Hi ',
      'text:there',
      'message:Hi there',
      'text:\nBye.',
      'message:Bye.',
    ]);
  });

  it('treats comment lines, empty data payloads and typed heartbeats as heartbeats', async () => {
    const { stream } = chatOver([
      ': keep-alive\n\n',
      'data:\n\n',
      'data: \n\n',
      data({ type: 'heartbeat' }),
      ':\n',
    ]);
    const { events } = await collect(stream);
    expect(events.map((e) => e.type)).toEqual([
      'heartbeat',
      'heartbeat',
      'heartbeat',
      'heartbeat',
      'heartbeat',
    ]);
    expect(events[0]?.raw).toBe('keep-alive');
    const result = await stream.result();
    expect(result.silent).toBe(true);
    expect(result.text).toBe('');
  });

  it('joins multi-line data, ignores event/id/retry lines, and surfaces garbage as unknown', async () => {
    const { stream } = chatOver([
      'id: 7\nevent: message\nretry: 1000\ndata: {"type":"text",\ndata: "content":"multi"}\n\n',
      'data: not json\n\n',
      'data: [1,2]\n\n',
      'whatever: x\ndata: {"type":"mystery"}\n\n',
    ]);
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['text', 'message', 'unknown', 'unknown', 'unknown']);
    expect(events[0]?.type === 'text' && events[0].text).toBe('multi');
    expect(events[2]?.raw).toBe('not json');
    expect(events[3]?.raw).toEqual([1, 2]);
  });

  it('dispatches a last event the server did not end with a blank line', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'one' }])),
      'data: {"type":"text","content":"two"}',
    ]);
    const { events } = await collect(stream);
    expect(shape(events)).toEqual(['text:one', 'message:one', 'text:\ntwo', 'message:two']);
  });

  it('reads a JSON body where a stream was expected as one payload', async () => {
    const { session } = fakeClient(() => Response.json({ type: 'text', content: 'plain json' }));
    expect(await session.chat('hi').text()).toBe('plain json');
  });

  it('refuses a JSON body that is not JSON, or larger than the bound, with a typed error', async () => {
    const bad = fakeClient(
      () =>
        new Response('{"type":"text","content":"cut', {
          headers: { 'content-type': 'application/json' },
        }),
    );
    const error = await bad.session
      .chat('hi')
      .text()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as Error).message).toMatch(/JSON body .* not valid JSON.*not re-sent/);
    // Beyond maxResponseBytes: refused (test/hostile holds the memory bound on an endless body).
    const big = fakeClient(
      () =>
        new Response(`{"type":"text","content":"${'a'.repeat(2000)}"}`, {
          headers: { 'content-type': 'application/json' },
        }),
      { maxResponseBytes: 1000 },
    );
    const tooBig = await big.session
      .chat('hi')
      .text()
      .catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(ResponseValidationError);
    expect((tooBig as Error).message).toMatch(/larger than 1000 bytes.*maxResponseBytes/);
  });
});

describe('errors in the stream', () => {
  const cases: {
    name: string;
    payload: string;
    message: string;
    code: string | number | undefined;
  }[] = [
    {
      name: 'ADK exception {"error"}',
      payload: data({ error: 'model overloaded' }),
      message: 'model overloaded',
      code: undefined,
    },
    {
      name: 'errorCode/errorMessage event',
      payload: data(adk([], { errorCode: 'MAX_TOKENS', errorMessage: 'too long' })),
      message: 'too long',
      code: 'MAX_TOKENS',
    },
    {
      name: '{code≠0,message}',
      payload: data({ code: 2001, message: 'no credits' }),
      message: 'no credits',
      code: 2001,
    },
    {
      name: 'event: error',
      payload: 'event: error\ndata: {"message":"bad"}\n\n',
      message: 'bad',
      code: undefined,
    },
    {
      name: 'typed error',
      payload: data({ type: 'error', message: 'typed', code: 500 }),
      message: 'typed',
      code: 500,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: delivers the events before it, the error event, then throws StreamError`, async () => {
      const { stream } = chatOver([
        data(adk([{ text: 'Working' }], { partial: true })),
        // The error arrives in the same chunk as an event after it, which is dropped.
        `${c.payload}${data(adk([{ text: 'never delivered' }]))}`,
      ]);
      const { events, error } = await collect(stream);
      expect(events.map((e) => e.type)).toEqual(['text', 'error']);
      const last = events[1] as Extract<ChatEvent, { type: 'error' }>;
      expect(last.message).toBe(c.message);
      expect(last.code).toBe(c.code);
      expect(error).toBeInstanceOf(StreamError);
      expect((error as StreamError).code).toBe(c.code);
      expect((error as StreamError).message).toContain(c.message);
      await expect(stream.result()).rejects.toBe(error);
    });
  }

  it('keeps the text and tool calls of an ADK event that also carries errorCode', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Partial answer' }], { errorCode: 'SAFETY', errorMessage: 'blocked' })),
    ]);
    const { events, error } = await collect(stream);
    expect(events.map((e) => e.type)).toEqual(['text', 'message', 'error']);
    expect(error).toBeInstanceOf(StreamError);
  });
});

// ─── property tests ─────────────────────────────────────────────────────────

/** A recorded ADK turn with every feature the parser must survive (Chinese text included). */
const RECORDED: string[] = [
  ': connected\n\n',
  data(adk([{ text: '好的，' }], { partial: true, timestamp: 1712345678.5 })),
  data(adk([{ text: 'adding a title 🎬' }], { partial: true, timestamp: 1712345678.6 })),
  data(
    adk(
      [
        { text: '好的，adding a title 🎬' },
        { functionCall: { id: 'c1', name: 'add_text', args: { text: 'Urban Dreams' } } },
      ],
      { timestamp: 1712345678.7 },
    ),
  ),
  'data:\n\n',
  data({
    author: 'nemo_agent',
    content: {
      role: 'user',
      parts: [{ functionResponse: { id: 'c1', name: 'add_text', response: { ok: true } } }],
    },
  }),
  'data: {"type":"text",\ndata: "content":"multi-line"}\n\n',
  data({ type: 'heartbeat' }),
  data(adk([{ text: 'Done — 完成！' }])),
];

function withLineEnds(text: string, eol: '\n' | '\r' | '\r\n'): string {
  return eol === '\n' ? text : text.replaceAll('\n', eol);
}

function splitBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    if (p > at) out.push(bytes.slice(at, p));
    at = Math.max(at, p);
  }
  if (at < bytes.length) out.push(bytes.slice(at));
  return out;
}

describe('chunking (property)', () => {
  it('gives the same events for any split of the bytes and any line ending', async () => {
    const whole = RECORDED.join('');
    const reference = await collect(chatOver([whole]).stream);
    expect(reference.error).toBeUndefined();
    expect(reference.events.length).toBeGreaterThan(8);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'\n' | '\r' | '\r\n'>('\n', '\r', '\r\n'),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 40 }),
        async (eol, cuts) => {
          const bytes = new TextEncoder().encode(withLineEnds(whole, eol));
          const { stream } = chatOver(splitBytes(bytes, cuts));
          const got = await collect(stream);
          expect(got.error).toBeUndefined();
          expect(got.events).toEqual(reference.events);
          expect(await stream.text()).toBe('好的，adding a title 🎬\nmulti-line\nDone — 完成！');
          expect(printed(got.events)).toBe(await stream.text());
        },
      ),
      { numRuns: 150 },
    );
  });

  it('splits one byte at a time', async () => {
    const bytes = new TextEncoder().encode(withLineEnds(RECORDED.join(''), '\r\n'));
    const reference = await collect(chatOver([RECORDED.join('')]).stream);
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    const got = await collect(chatOver(chunks).stream);
    expect(got.events).toEqual(reference.events);
  });
});

describe('the ADK shortcut decodes exactly as the schemas (property)', () => {
  /** Records what a decoder tells its sink. */
  function recording() {
    const calls: unknown[] = [];
    const sink: PayloadSink = {
      piece: (...args) => calls.push(['piece', ...args]),
      piecesEnd: (raw) => calls.push(['piecesEnd', raw]),
      event: (event) => calls.push(['event', event]),
    };
    return { calls, sink };
  }
  const leaf = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  );
  const value = fc.letrec((tie) => ({
    any: fc.oneof({ depthSize: 'small' }, leaf, tie('arr'), tie('obj')),
    arr: fc.array(tie('any'), { maxLength: 3 }),
    obj: fc.dictionary(fc.constantFrom('id', 'name', 'args', 'x'), tie('any'), { maxKeys: 3 }),
  })).any;
  const maybe = (arb: fc.Arbitrary<unknown>) => fc.option(fc.oneof(arb, value), { nil: undefined });
  const textPart = fc.record(
    { text: fc.oneof(fc.string({ maxLength: 6 }), value), thought: maybe(fc.boolean()) },
    { requiredKeys: ['text'] },
  );
  const otherPart = fc.record(
    {
      text: fc.option(fc.constant(null), { nil: undefined }),
      thought: maybe(fc.boolean()),
      functionCall: maybe(
        fc.record(
          { id: maybe(fc.string()), name: maybe(fc.string()), args: maybe(value) },
          { requiredKeys: [] },
        ),
      ),
      functionResponse: maybe(
        fc.record(
          { id: maybe(fc.string()), name: maybe(fc.string()), response: maybe(value) },
          { requiredKeys: [] },
        ),
      ),
      inlineData: maybe(value),
    },
    { requiredKeys: [] },
  );
  /** Tool parts as servers send them, with odd ids, args and extra keys now and then. */
  const args = fc.oneof(
    fc.dictionary(fc.constantFrom('text', 'start', '1', 'x'), value, { maxKeys: 3 }),
    fc.constant(JSON.parse('{"__proto__":{"polluted":1},"a":1}') as unknown),
    fc.constant(null),
    fc.constant(undefined),
  );
  const toolPart = fc.oneof(
    fc.record(
      {
        functionCall: fc.record(
          {
            id: fc.option(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)), {
              nil: undefined,
            }),
            name: fc.string({ maxLength: 4 }),
            args,
            extra: maybe(fc.string()),
          },
          { requiredKeys: ['name'] },
        ),
        thought: maybe(fc.boolean()),
        text: fc.option(fc.constant(null), { nil: undefined, freq: 4 }),
      },
      { requiredKeys: ['functionCall'] },
    ),
    fc.record(
      {
        functionResponse: fc.record(
          {
            id: fc.option(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null)), {
              nil: undefined,
            }),
            name: fc.string({ maxLength: 4 }),
            response: maybe(value),
          },
          { requiredKeys: ['name'] },
        ),
        functionCall: fc.option(fc.constant(null), { nil: undefined, freq: 4 }),
      },
      { requiredKeys: ['functionResponse'] },
    ),
  );
  const event = fc.record(
    {
      type: maybe(fc.constantFrom('text', 'x')),
      author: maybe(fc.string()),
      partial: maybe(fc.boolean()),
      timestamp: maybe(fc.oneof(fc.double(), fc.string())),
      invocationId: maybe(fc.string()),
      errorCode: maybe(fc.string()),
      content: fc.oneof(
        fc.record(
          {
            role: maybe(fc.string()),
            parts: fc.oneof(
              fc.array(textPart, { maxLength: 3 }),
              fc.array(fc.oneof(textPart, otherPart), { maxLength: 3 }),
              value,
            ),
          },
          { requiredKeys: [] },
        ),
        value,
      ),
    },
    { requiredKeys: [] },
  );

  /** Well-formed text-only events, the shortcut's own shape, with some unusual values. */
  const plausible = fc.record(
    {
      author: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
      partial: fc.option(fc.boolean(), { nil: undefined }),
      timestamp: fc.option(fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 4 })), {
        nil: undefined,
      }),
      errorMessage: fc.option(fc.constant(null), { nil: undefined }),
      content: fc.record({
        role: fc.constant('model'),
        parts: fc.array(
          fc.oneof(
            fc.record(
              {
                text: fc.string({ maxLength: 6 }),
                thought: fc.option(fc.oneof(fc.boolean(), fc.constant(null)), { nil: undefined }),
              },
              { requiredKeys: ['text'] },
            ),
            toolPart,
          ),
          { maxLength: 3 },
        ),
      }),
    },
    { requiredKeys: ['content'] },
  );

  it.each([
    [
      'a streamed delta',
      {
        partial: true,
        author: 'nemo_agent',
        timestamp: 1712345678.125,
        content: { role: 'model', parts: [{ text: 'Adding ' }] },
      },
    ],
    [
      'a thought',
      {
        author: 'nemo_agent',
        content: { role: 'model', parts: [{ text: 'Plan: ', thought: true }] },
      },
    ],
    [
      'a final copy with a tool call',
      {
        partial: false,
        invocationId: 'e-1',
        content: {
          role: 'model',
          parts: [
            { text: 'Done.' },
            {
              functionCall: {
                id: 'c1',
                name: 'add_text',
                args: { text: 'Urban Dreams', start: 0 },
              },
            },
          ],
        },
      },
    ],
    [
      'a tool result with actions',
      {
        author: 'nemo_agent',
        timestamp: 1712345678125,
        actions: { stateDelta: { a: 1 } },
        content: {
          role: 'user',
          parts: [
            { functionResponse: { id: 'c1', name: 'add_text', response: { status: 'success' } } },
          ],
        },
      },
    ],
    ['a call without id or args', { content: { parts: [{ functionCall: { name: 'render' } }] } }],
    ['an event with empty parts', { author: 'nemo_agent', content: { parts: [] } }],
  ])('takes %s, as the schemas decode it', (_name, payload) => {
    const fast = recording();
    const slow = recording();
    expect(decodeAdkFast(payload, fast.sink)).toBe(true);
    decodeWithSchemas(payload, undefined, slow.sink);
    expect(fast.calls).toEqual(slow.calls);
    expect(fast.calls.length).toBeGreaterThan(0);
  });

  it('accepts only what the schemas accept, and tells the sink the same', () => {
    let taken = 0;
    let callsTaken = 0;
    fc.assert(
      fc.property(fc.oneof(plausible, event), (v) => {
        const fast = recording();
        const slow = recording();
        const record = v as Record<string, unknown>;
        if (!decodeAdkFast(record, fast.sink)) return;
        taken++;
        if (fast.calls.some((c) => (c as [string, { type?: string }])[1]?.type === 'tool_call')) {
          callsTaken++;
        }
        decodeWithSchemas(record, undefined, slow.sink);
        expect(fast.calls).toEqual(slow.calls);
      }),
      { numRuns: 2000 },
    );
    // The generator reaches the shortcut often enough for the comparison to mean something.
    expect(taken).toBeGreaterThan(100);
    expect(callsTaken).toBeGreaterThan(10);
  });
});
