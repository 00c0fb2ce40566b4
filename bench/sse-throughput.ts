/**
 * Chat stream throughput: `session.chat()` versus a bare `fetch` +
 * `eventsource-parser` loop over the same bytes.
 *
 * A recorded-style ADK stream of ~50 MB (partial text deltas with their final
 * repeats, thoughts, tool calls and results, comment heartbeats, float-second
 * timestamps) is served from a loopback `node:http` server on port 0. Each
 * side reads the whole stream; the baseline JSON-parses every payload too, so
 * the difference is what the SDK adds: event decoding, the async iterator,
 * the turn recorder and the watchdog bookkeeping.
 *
 * Run: `node --import tsx bench/sse-throughput.ts [sizeMB] [rounds] [--memory] [--no-keep]`
 * `--memory` serves the bytes from memory through a custom `fetch` instead of
 * the loopback server (CPU cost only, less noise). `--keep-all` runs the SDK
 * with `keepEvents: true` (every event retained for `result().events`),
 * `--no-keep` with `keepEvents: false`; the default keeps the first 10 000.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser } from 'eventsource-parser';
import { NemoClient } from '../src/index.js';
import { emit, isMain, result } from './lib/result.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SIZE_MB = Number(args[0] ?? 50);
const ROUNDS = Number(args[1] ?? 5);
const MEMORY = process.argv.includes('--memory');
/** `keepEvents` of the chat: the default (10 000), `--keep-all` (true) or `--no-keep` (false). */
const keepArg = process.argv.find((a) => a.startsWith('--keep='));
const KEEP_EVENTS: boolean | number | undefined = process.argv.includes('--keep-all')
  ? true
  : process.argv.includes('--no-keep')
    ? false
    : keepArg
      ? Number(keepArg.slice('--keep='.length))
      : undefined;

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'the video clip timeline title music track fade trim cut add scene color grade transition subtitle caption volume export render intro outro beat sync zoom pan city night'.split(
    ' ',
  );

function sentence(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)] as string);
  const s = out.join(' ');
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}. `;
}

/** Build the recorded stream: turns of an ADK agent, as `data:` lines. */
export function recordStream(targetBytes: number): { bytes: Uint8Array; payloads: number } {
  const random = rng(42);
  const chunks: string[] = [];
  let size = 0;
  let payloads = 0;
  let ts = 1_712_345_678.125;
  let n = 0;
  const push = (line: string) => {
    chunks.push(line);
    size += line.length;
  };
  const event = (body: Record<string, unknown>) => {
    ts += 0.037;
    n += 1;
    push(
      `data: ${JSON.stringify({ id: `evt-${n.toString(36)}`, invocationId: 'e-8c1f2b', author: 'nemo_agent', timestamp: ts, ...body })}\n\n`,
    );
    payloads += 1;
  };
  while (size < targetBytes) {
    // Occasionally the model thinks first.
    if (random() < 0.2) {
      event({
        content: { role: 'model', parts: [{ text: sentence(random, 12), thought: true }] },
      });
    }
    // A streamed reply: partial deltas, then the whole text repeated.
    const deltas: string[] = [];
    const count = 4 + Math.floor(random() * 20);
    for (let i = 0; i < count; i++) {
      const delta = sentence(random, 2 + Math.floor(random() * 8));
      deltas.push(delta);
      event({ partial: true, content: { role: 'model', parts: [{ text: delta }] } });
    }
    const call = {
      id: `call-${n}`,
      name: 'add_text',
      args: { text: 'Urban Dreams', start: 0, duration: 3 },
    };
    event({
      partial: false,
      content: { role: 'model', parts: [{ text: deltas.join('') }, { functionCall: call }] },
    });
    event({
      content: {
        role: 'user',
        parts: [
          {
            functionResponse: {
              id: call.id,
              name: call.name,
              response: {
                status: 'success',
                track: { tt: 7, sg: [{ id: `seg_${n}`, st: 0, du: 3000 }] },
              },
            },
          },
        ],
      },
      actions: { stateDelta: { last_tool: call.name } },
    });
    if (random() < 0.3) push(': heartbeat\n\n');
  }
  return { bytes: new TextEncoder().encode(chunks.join('')), payloads };
}

async function serve(bytes: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // 64 KiB writes, as a server flushing events would.
      const step = 64 * 1024;
      let at = 0;
      const write = () => {
        while (at < bytes.length) {
          const chunk = bytes.subarray(at, at + step);
          at += step;
          if (!res.write(chunk)) {
            res.once('drain', write);
            return;
          }
        }
        res.end();
      };
      write();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A `fetch` answering every request with the bytes, in 64 KiB chunks, from memory. */
function memoryFetch(bytes: Uint8Array): typeof fetch {
  return async () => {
    const step = 64 * 1024;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.length) controller.close();
        else {
          controller.enqueue(bytes.slice(at, at + step));
          at += step;
        }
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  };
}

/** The baseline: fetch, decode, SSE-parse, JSON.parse every payload. */
async function bare(url: string, fetchImpl: typeof fetch): Promise<number> {
  const response = await fetchImpl(`${url}/run_sse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: '1',
      new_message: { parts: [{ text: 'go' }] },
    }),
  });
  let events = 0;
  let sink = 0;
  const parser = createParser({
    onEvent: (message) => {
      const value = JSON.parse(message.data) as { content?: { parts?: unknown[] } };
      sink += value.content?.parts?.length ?? 0;
      events += 1;
    },
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  if (sink < 0) console.log(sink);
  return events;
}

/** The SDK: every ChatEvent through `for await`. */
async function sdk(client: NemoClient): Promise<number> {
  const session = client.sessions.open('1');
  let events = 0;
  const options = KEEP_EVENTS === undefined ? {} : { keepEvents: KEEP_EVENTS };
  for await (const event of session.chat('go', options)) {
    if (event.type !== 'heartbeat') events += 1;
  }
  return events;
}

async function time(fn: () => Promise<number>): Promise<{ ms: number; events: number }> {
  const start = performance.now();
  const events = await fn();
  return { ms: performance.now() - start, events };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const { bytes, payloads } = recordStream(SIZE_MB * 1024 * 1024);
  const mb = bytes.length / (1024 * 1024);
  const server = MEMORY ? { url: 'http://127.0.0.1:9', close: async () => {} } : await serve(bytes);
  const fetchImpl = MEMORY ? memoryFetch(bytes) : fetch;
  const client = new NemoClient({
    baseUrl: server.url,
    token: 'nmv_bench',
    logLevel: 'off',
    clientIdFile: false,
    fetch: fetchImpl,
  });
  console.log(
    `stream: ${mb.toFixed(1)} MB, ${payloads} payloads; node ${process.version}; ${ROUNDS} rounds each; ${MEMORY ? 'in-memory fetch' : 'loopback HTTP'}; keepEvents ${KEEP_EVENTS ?? 'default (10 000)'}`,
  );
  // Warm up both paths.
  await bare(server.url, fetchImpl);
  await sdk(client);
  const bareMs: number[] = [];
  const sdkMs: number[] = [];
  let sdkEvents = 0;
  let bareEvents = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const a = await time(() => bare(server.url, fetchImpl));
    const b = await time(() => sdk(client));
    bareMs.push(a.ms);
    sdkMs.push(b.ms);
    bareEvents = a.events;
    sdkEvents = b.events;
  }
  await server.close();
  const report = (label: string, times: number[], payloads: string) => {
    const med = median(times);
    const best = Math.min(...times);
    console.log(
      `${label} median ${med.toFixed(0)} ms (${(mb / (med / 1000)).toFixed(1)} MB/s), best ${best.toFixed(0)} ms (${(mb / (best / 1000)).toFixed(1)} MB/s), ${payloads}`,
    );
    return { med, best };
  };
  const a = report(
    'bare fetch + eventsource-parser + JSON.parse:',
    bareMs,
    `${bareEvents} payloads`,
  );
  const b = report(
    'session.chat() for await:                    ',
    sdkMs,
    `${sdkEvents} ChatEvents`,
  );
  const bestRatio = a.best / b.best;
  console.log(
    `throughput ratio sdk/bare: median ${(a.med / b.med).toFixed(2)}, best-of-${ROUNDS} ${bestRatio.toFixed(2)} (goal >= 0.80)`,
  );
  emit([
    result({
      id: 'sse-throughput',
      title: `SSE throughput, ${Math.round(mb)} MB of ADK events through session.chat()`,
      unit: 'MB/s',
      sdk: round1(mb / (b.med / 1000)),
      baseline: round1(mb / (a.med / 1000)),
      baselineLabel: 'fetch + eventsource-parser + JSON.parse',
      goal: { op: '>=', value: 0.8, on: 'ratio', label: '≥ 0.8×' },
      details: {
        streamMB: round1(mb),
        payloads,
        chatEvents: sdkEvents,
        rounds: ROUNDS,
        transport: MEMORY ? 'in-memory fetch' : 'loopback HTTP',
        keepEvents: KEEP_EVENTS ?? 'default',
        bestOfRoundsRatio: Math.round(bestRatio * 100) / 100,
        bareMs: bareMs.map(Math.round),
        sdkMs: sdkMs.map(Math.round),
      },
    }),
  ]);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

if (isMain(import.meta.url)) await main();
