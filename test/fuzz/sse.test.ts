/**
 * SSE fuzzing through `session.chat()`: msw streams arbitrary bytes (valid SSE
 * with ADK, type-tagged and error payloads, comments, CRLF, split multi-byte
 * characters, and plain junk) in arbitrary chunks. The stream yields events or
 * fails with a `NemoError`, nothing else; and the outcome (every event, and
 * the error if any) does not depend on how the bytes were chunked.
 */
import fc from 'fast-check';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { type ChatEvent, isNemoError, NemoClient } from '../../src/index.js';
import { BASE, useMswServer } from '../helpers/msw.js';
import { fuzzParams } from './arbitraries.js';

const server = useMswServer();
const RUNS = 150;
const encoder = new TextEncoder();

// ── payloads ──
const textPart = fc.record(
  { text: fc.string(), thought: fc.boolean() },
  { requiredKeys: ['text'] },
);
const callPart = fc.record({
  functionCall: fc.record(
    {
      id: fc.string(),
      name: fc.string({ minLength: 1 }),
      args: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })),
    },
    { requiredKeys: ['name'] },
  ),
});
const responsePart = fc.record({
  functionResponse: fc.record(
    { id: fc.string(), name: fc.string({ minLength: 1 }), response: fc.jsonValue({ maxDepth: 2 }) },
    { requiredKeys: ['name'] },
  ),
});
const adkEvent = fc.record(
  {
    id: fc.string(),
    invocationId: fc.string(),
    author: fc.oneof(fc.constant('nemo_agent'), fc.jsonValue()),
    partial: fc.oneof(fc.boolean(), fc.jsonValue()),
    timestamp: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
    turnComplete: fc.boolean(),
    errorCode: fc.oneof(fc.string(), fc.integer()),
    errorMessage: fc.string(),
    content: fc.oneof(
      fc.record({
        role: fc.constantFrom('model', 'user'),
        parts: fc.array(fc.oneof(textPart, callPart, responsePart, fc.jsonValue({ maxDepth: 2 })), {
          maxLength: 3,
        }),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  { requiredKeys: [] },
);
const typedEvent = fc.oneof(
  fc.record({ type: fc.constant('text'), content: fc.string() }),
  fc.record({
    type: fc.constant('tool_call'),
    name: fc.string(),
    args: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 })),
  }),
  fc.record({
    type: fc.constant('tool_result'),
    name: fc.string(),
    result: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.constant({ type: 'heartbeat' }),
  fc.record({ type: fc.string(), content: fc.jsonValue({ maxDepth: 1 }) }),
);
const errorPayload = fc.oneof(
  fc.record({ error: fc.oneof(fc.string(), fc.jsonValue()) }),
  fc.record({ code: fc.integer({ min: 1, max: 5000 }), message: fc.string() }),
);
const payload = fc.oneof(
  { weight: 6, arbitrary: adkEvent.map((e) => JSON.stringify(e)) },
  { weight: 3, arbitrary: typedEvent.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: errorPayload.map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: fc.jsonValue().map((e) => JSON.stringify(e)) },
  { weight: 1, arbitrary: fc.string() },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '{', '[1,', '"', '{"content":{"parts":[{"text":"é😀"}]}}'),
  },
);

// ── SSE framing ──
const eol = fc.constantFrom('\n', '\r\n', '\r');
const block = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(payload, eol).map(([p, e]) => `data: ${p}${e}${e}`) },
  { weight: 1, arbitrary: fc.tuple(payload, eol).map(([p, e]) => `data:${p}${e}${e}`) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string(), eol).map(([c, e]) => `: ${c.replace(/[\r\n]/g, ' ')}${e}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('event: message', 'id: 7', 'retry: 10', 'data', 'data:'), eol)
      .map(([l, e]) => `${l}${e}`),
  },
  { weight: 1, arbitrary: fc.tuple(eol, eol).map(([a, b]) => `${a}${b}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(payload, payload, eol)
      .map(
        ([a, b, e]) =>
          `data: ${a.replace(/[\r\n]/g, '')}${e}data: ${b.replace(/[\r\n]/g, '')}${e}${e}`,
      ),
  },
);
const body = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.array(block, { maxLength: 12 }).map((b) => encoder.encode(b.join(''))),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(block, { maxLength: 6 }), fc.uint8Array({ maxLength: 40 }))
      .map(([b, junk]) => {
        const head = encoder.encode(b.join(''));
        const out = new Uint8Array(head.length + junk.length);
        out.set(head);
        out.set(junk, head.length);
        return out;
      }),
  },
);

/** Split `bytes` at the given fractions (sorted, deduplicated cut points). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))]
    .filter((p) => p > 0 && p < bytes.length)
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(start, p));
    start = p;
  }
  return out.filter((c) => c.length > 0);
}

let chunks: Uint8Array[] = [];
server.use();

function streamResponse(): Response {
  const queue = [...chunks];
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = queue.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    }),
    { headers: { 'content-type': 'text/event-stream' } },
  );
}

const client = new NemoClient({
  token: 'nmv_usr_fuzz_sse_token',
  clientIdFile: false,
  logLevel: 'off',
  maxRetries: 0,
});
const session = client.sessions.open('5529798706024415232');

interface Outcome {
  events: string;
  error: string | undefined;
}

async function runTurn(parts: Uint8Array[]): Promise<Outcome> {
  chunks = parts;
  const events: ChatEvent[] = [];
  let error: string | undefined;
  try {
    for await (const event of session.chat('fuzz the parser')) {
      // Heartbeats that arrive together come as one: how many depends on the chunking.
      if (event.type === 'heartbeat' && events.at(-1)?.type === 'heartbeat') continue;
      events.push(event);
    }
  } catch (e) {
    if (!isNemoError(e)) throw new Error(`chat threw a non-NemoError: ${String(e)}`, { cause: e });
    error = `${e.name}: ${e.message}`;
  }
  return { events: JSON.stringify(events), error };
}

describe('SSE parser fuzzing through session.chat()', () => {
  it('yields events or a NemoError, identically for every chunking', async () => {
    server.use(http.post(`${BASE}/run_sse`, () => streamResponse()));
    let withEvents = 0;
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        async (bytes, cuts) => {
          const whole = await runTurn([bytes]);
          const split = await runTurn(chunk(bytes, cuts));
          const bytewise = await runTurn(Array.from(bytes, (b) => Uint8Array.of(b)));
          expect(split).toEqual(whole);
          expect(bytewise).toEqual(whole);
          if (whole.events !== '[]') withEvents += 1;
        },
      ),
      fuzzParams(RUNS),
    );
    // The generators must produce real events, or the invariance is vacuous.
    expect(withEvents).toBeGreaterThan(RUNS / 3);
  });

  it('the whole reply text does not depend on chunking either', async () => {
    server.use(http.post(`${BASE}/run_sse`, () => streamResponse()));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
        async (texts, cuts) => {
          const sse = texts
            .map((t) =>
              JSON.stringify({
                author: 'nemo_agent',
                partial: true,
                content: { role: 'model', parts: [{ text: t }] },
              }),
            )
            .concat(
              JSON.stringify({
                author: 'nemo_agent',
                partial: false,
                content: { role: 'model', parts: [{ text: texts.join('') }] },
              }),
            )
            .map((p) => `data: ${p}\n\n`)
            .join('');
          const bytes = encoder.encode(sse);
          chunks = chunk(bytes, cuts);
          const reply = await session.chat('say it').text();
          expect(reply).toBe(texts.join(''));
        },
      ),
      fuzzParams(100),
    );
  });
});
