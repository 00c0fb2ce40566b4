import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChatEvent, StreamError } from '../../src/index.js';
import {
  adkEventSchema,
  adkFunctionCallSchema,
  adkFunctionResponseSchema,
  adkPartSchema,
  isAdkEvent,
  isAdkFunctionCall,
  isAdkFunctionResponse,
  isAdkPart,
  isTypedText,
  isTypedToolCall,
  isTypedToolResult,
  normaliseTimestamp,
  typedTextSchema,
  typedToolCallSchema,
  typedToolResultSchema,
} from '../../src/resources/chat/events.js';
import { adk, collect, data, fakeClient, sseResponse, strip } from './helpers.js';

/** Chat once over a body made of `chunks`. */
function chatOver(chunks: readonly (string | Uint8Array)[], init?: ResponseInit) {
  const { session, calls } = fakeClient(() => sseResponse(chunks, init));
  return { stream: session.chat('hello'), calls };
}

describe('ADK events', () => {
  it('delivers partial deltas and the final repeat, counting the text once', async () => {
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
      { type: 'text', text: 'Adding ', partial: true, author: 'nemo_agent', timestamp: undefined },
      { type: 'text', text: 'music.', partial: true, author: 'nemo_agent', timestamp: undefined },
      {
        type: 'text',
        text: 'Adding music.',
        partial: false,
        author: 'nemo_agent',
        timestamp: undefined,
      },
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
      { type: 'text', text: 'Done', partial: true, author: 'nemo_agent', timestamp: undefined },
      { type: 'text', text: '!', partial: true, author: 'nemo_agent', timestamp: undefined },
      { type: 'text', text: 'Done!', partial: false, author: 'nemo_agent', timestamp: undefined },
    ]);
    const result = await stream.result();
    expect(result.text).toBe('Adding music.\nDone!');
    expect(result.silent).toBe(false);
    expect(result.toolCalls.map((c) => c.name)).toEqual(['add_bgm']);
    expect(result.toolResults[0]?.result).toEqual({ ok: true });
    expect(result.events).toHaveLength(8);
    expect(result.eventsDropped).toBe(0);
    // Events of one payload share its raw object.
    expect(events[2]?.raw).toBe(events[3]?.raw);
  });

  it('uses the final text when it differs from the deltas, and keeps unfinished deltas', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'Helo' }], { partial: true })),
      data(adk([{ text: 'Hello.' }])),
      data(adk([{ text: 'Still ' }], { partial: true })),
      data(adk([{ text: 'typing' }], { partial: true })),
    ]);
    expect(await stream.text()).toBe('Hello.\nStill typing');
  });

  it('reads a whole (non-streamed) reply and joins text parts of one event', async () => {
    const { stream } = chatOver([data(adk([{ text: 'Part one, ' }, { text: 'part two.' }]))]);
    expect(await stream.text()).toBe('Part one, part two.');
  });

  it('delivers thought parts as `thought` events, never as reply text', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'The user wants music', thought: true }], { partial: true })),
      data(adk([{ text: 'The user wants music', thought: true }, { text: 'Adding music.' }])),
    ]);
    const { events } = await collect(stream);
    expect(events.map((e) => e.type)).toEqual(['thought', 'thought', 'text']);
    const result = await stream.result();
    expect(result.text).toBe('Adding music.');
  });

  it('normalises integer-ms and float-second timestamps to ms', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'a' }], { timestamp: 1712345678123 })),
      data(adk([{ text: 'b' }], { timestamp: 1712345678.123 })),
      data(adk([{ text: 'c' }], { timestamp: '2024-04-05T19:34:38.123Z' })),
      data(adk([{ text: 'd' }], { timestamp: 'soon' })),
    ]);
    const { events } = await collect(stream);
    expect(events.map((e) => (e.type === 'text' ? e.timestamp : null))).toEqual([
      1712345678123,
      1712345678123,
      1712345678123,
      undefined,
    ]);
    expect(normaliseTimestamp(0)).toBeUndefined();
    expect(normaliseTimestamp('1712345678')).toBe(1712345678000);
  });

  it('turns events with nothing to show, and malformed parts, into `unknown`', async () => {
    const stateOnly = { id: 'e9', author: 'nemo_agent', actions: { stateDelta: { x: 1 } } };
    const { stream } = chatOver([
      data(stateOnly),
      data(adk([{ functionCall: { args: {} } }, { text: 'kept' }])),
      data(adk([{ inlineData: { mimeType: 'image/png', data: 'AA==' } }])),
    ]);
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['unknown', 'unknown', 'text', 'unknown']);
    expect(events[0]?.raw).toEqual(stateOnly);
  });
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
      { type: 'text', text: 'Hel', partial: false, author: undefined, timestamp: undefined },
      { type: 'text', text: 'lo', partial: false, author: undefined, timestamp: undefined },
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
    expect(events.map((e) => e.type)).toEqual(['text', 'unknown', 'unknown', 'unknown']);
    expect(events[0]?.type === 'text' && events[0].text).toBe('multi');
    expect(events[1]?.raw).toBe('not json');
    expect(events[2]?.raw).toEqual([1, 2]);
  });

  it('dispatches a last event the server did not end with a blank line', async () => {
    const { stream } = chatOver([
      data(adk([{ text: 'one' }])),
      'data: {"type":"text","content":"two"}',
    ]);
    const { events } = await collect(stream);
    expect(events.map((e) => (e.type === 'text' ? e.text : e.type))).toEqual(['one', 'two']);
  });

  it('reads a JSON body where a stream was expected as one payload', async () => {
    const { session } = fakeClient(() => Response.json({ type: 'text', content: 'plain json' }));
    expect(await session.chat('hi').text()).toBe('plain json');
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
    expect(events.map((e) => e.type)).toEqual(['text', 'error']);
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
          expect(await stream.text()).toBe('好的，adding a title 🎬multi-line\nDone — 完成！');
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

describe('the fast guards accept exactly what the schemas accept (property)', () => {
  const leaf = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.integer(),
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
  const call = fc.record(
    {
      id: maybe(fc.string()),
      name: maybe(fc.string()),
      args: maybe(fc.dictionary(fc.string(), value)),
    },
    { requiredKeys: [] },
  );
  const part = fc.record(
    {
      text: maybe(fc.string()),
      thought: maybe(fc.boolean()),
      functionCall: maybe(call),
      functionResponse: maybe(call),
    },
    { requiredKeys: [] },
  );
  const event = fc.record(
    {
      author: maybe(fc.string()),
      timestamp: maybe(fc.double()),
      content: maybe(
        fc.record({ role: maybe(fc.string()), parts: maybe(fc.array(part)) }, { requiredKeys: [] }),
      ),
    },
    { requiredKeys: [] },
  );
  const typed = fc.record(
    {
      type: fc.constantFrom('text', 'tool_call', 'tool_result', 'other'),
      content: maybe(fc.string()),
      text: maybe(fc.string()),
      partial: maybe(fc.boolean()),
      id: maybe(fc.string()),
      name: maybe(fc.string()),
      args: maybe(fc.dictionary(fc.string(), value)),
      result: maybe(value),
    },
    { requiredKeys: ['type'] },
  );
  const pairs = [
    ['functionCall', call, isAdkFunctionCall, adkFunctionCallSchema],
    ['functionResponse', call, isAdkFunctionResponse, adkFunctionResponseSchema],
    ['part', part, isAdkPart, adkPartSchema],
    ['event', event, isAdkEvent, adkEventSchema],
    ['typed text', typed, isTypedText, typedTextSchema],
    ['typed tool_call', typed, isTypedToolCall, typedToolCallSchema],
    ['typed tool_result', typed, isTypedToolResult, typedToolResultSchema],
  ] as const;
  for (const [name, arb, guard, schema] of pairs) {
    it(name, () => {
      fc.assert(
        fc.property(fc.oneof(arb, value), (v) => {
          expect(guard(v)).toBe(schema.safeParse(v).success);
        }),
        { numRuns: 400 },
      );
    });
  }
});
