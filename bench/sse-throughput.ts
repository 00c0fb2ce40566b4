/**
 * Chat stream throughput: `session.chat()` versus the fastest honest baseline
 * we could write over the same bytes: a bare `fetch`, its body reader, one
 * `TextDecoder`, `eventsource-parser` and a `JSON.parse` of every payload.
 *
 * One bench for the figure of #14.6 (it replaces two that disagreed: 0.90×
 * with the server inside the measured process and the best of the rounds,
 * 0.61× with the server apart and the median). Here:
 * - the bytes come from a server in a **child process** (`--serve`), so the
 *   measured process does only client work: a server sharing it would add the
 *   same cost to both sides and flatter the ratio;
 * - each round runs the baseline and the SDK back to back, in alternating
 *   order (ABBA), after a GC; the figure is the **median of the per-round
 *   ratios** (each pair shares the machine's load of the moment);
 * - for each side it also records CPU time (user + system) and GC time
 *   (PerformanceObserver `gc` entries), so a ratio can be read apart from the
 *   load of a shared machine, and the GC cost per 1 000 events.
 *
 * The stream: about 50 MB of recorded-style ADK events (partial text deltas
 * and their final repeats, thoughts, tool calls and results, comment
 * heartbeats, float-second timestamps), deterministic (seeded).
 *
 * Run: `node --expose-gc --import tsx bench/sse-throughput.ts [sizeMB] [rounds]`
 * Flags: `--keep-all` / `--no-keep` / `--keep=N` (the chat's `keepEvents`),
 * `--memory` (bytes from memory through a custom `fetch` in this process:
 * CPU cost alone, for profiling).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createParser } from 'eventsource-parser';
import { NemoClient } from '../src/index.js';
import { emit, isMain, result } from './lib/result.js';
import { gc, median } from './lib/stats.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SIZE_MB = Number(args[0] ?? 50);
const ROUNDS = Number(args[1] ?? 9);
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

/** The server: every request gets the whole stream, in 64 KiB writes, with backpressure. */
async function serve(bytes: Uint8Array): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
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

/** The same server in a child process (this file with `--serve`): the measured process only reads. */
async function serveApart(sizeMB: number): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), String(sizeMB), '--serve'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /URL (\S+)\n/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the server child exited (${code})`)));
  });
  return {
    url,
    close: async () => {
      child.kill();
    },
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

/** The baseline: fetch, decode, SSE-parse, JSON.parse every payload. Nothing more. */
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

/** GC time in ms, summed from PerformanceObserver entries while `fn` runs. */
let gcMs = 0;
let gcCount = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    gcCount += 1;
  }
});

interface Sample {
  ms: number;
  cpuMs: number;
  gcMs: number;
  gcs: number;
  events: number;
}

async function measure(fn: () => Promise<number>): Promise<Sample> {
  gc();
  // Let the observer deliver the entries of the GC above before counting.
  await new Promise((resolve) => setImmediate(resolve));
  const gcBefore = gcMs;
  const countBefore = gcCount;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const events = await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await new Promise((resolve) => setImmediate(resolve));
  return {
    ms,
    cpuMs: (used.user + used.system) / 1000,
    gcMs: gcMs - gcBefore,
    gcs: gcCount - countBefore,
    events,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) {
    const server = await serve(recordStream(SIZE_MB * 1024 * 1024).bytes);
    process.stdout.write(`URL ${server.url}\n`);
    return;
  }
  const { bytes, payloads } = recordStream(SIZE_MB * 1024 * 1024);
  const mb = bytes.length / (1024 * 1024);
  const server = MEMORY
    ? { url: 'http://127.0.0.1:9', close: async () => {} }
    : await serveApart(SIZE_MB);
  const fetchImpl = MEMORY ? memoryFetch(bytes) : fetch;
  const client = new NemoClient({
    baseUrl: server.url,
    token: 'nmv_bench',
    logLevel: 'off',
    clientIdFile: false,
    fetch: fetchImpl,
  });
  observer.observe({ entryTypes: ['gc'] });
  console.log(
    `stream: ${mb.toFixed(1)} MB, ${payloads} payloads; node ${process.version}; ${ROUNDS} interleaved rounds; ${MEMORY ? 'in-memory fetch (same process)' : 'loopback HTTP from a child process'}; keepEvents ${KEEP_EVENTS ?? 'default (10 000)'}`,
  );
  // Warm up both paths (JIT), twice each.
  for (let i = 0; i < 2; i++) {
    await bare(server.url, fetchImpl);
    await sdk(client);
  }
  const bareRuns: Sample[] = [];
  const sdkRuns: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      bareRuns.push(await measure(() => bare(server.url, fetchImpl)));
      sdkRuns.push(await measure(() => sdk(client)));
    } else {
      sdkRuns.push(await measure(() => sdk(client)));
      bareRuns.push(await measure(() => bare(server.url, fetchImpl)));
    }
  }
  observer.disconnect();
  await server.close();

  const pick = (runs: Sample[], key: keyof Sample) => runs.map((r) => r[key]);
  const ratios = bareRuns.map((b, i) => b.ms / (sdkRuns[i] as Sample).ms);
  const cpuRatios = bareRuns.map((b, i) => b.cpuMs / (sdkRuns[i] as Sample).cpuMs);
  const ratio = median(ratios);
  const bareMs = median(pick(bareRuns, 'ms'));
  const sdkMs = median(pick(sdkRuns, 'ms'));
  const sdkEvents = (sdkRuns[0] as Sample).events;
  const bareEvents = (bareRuns[0] as Sample).events;
  const line = (label: string, runs: Sample[], count: string) => {
    const ms = median(pick(runs, 'ms'));
    const cpu = median(pick(runs, 'cpuMs'));
    const g = median(pick(runs, 'gcMs'));
    const n = median(pick(runs, 'gcs'));
    console.log(
      `${label} median ${ms.toFixed(0)} ms (${(mb / (ms / 1000)).toFixed(1)} MB/s), CPU ${cpu.toFixed(0)} ms, GC ${g.toFixed(0)} ms in ${n} pauses, ${count}`,
    );
  };
  line('bare fetch + eventsource-parser + JSON.parse:', bareRuns, `${bareEvents} payloads`);
  line('session.chat() for await:                    ', sdkRuns, `${sdkEvents} ChatEvents`);
  console.log(
    `throughput ratio sdk/bare, median of ${ROUNDS} paired rounds: ${ratio.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(' ')}); CPU-time ratio ${median(cpuRatios).toFixed(2)} (goal >= 0.80)`,
  );
  const gcPer1k = (runs: Sample[], events: number) =>
    round2((median(pick(runs, 'gcMs')) / events) * 1000);
  emit([
    result({
      id: 'sse-throughput',
      title: `SSE throughput, ${Math.round(mb)} MB of ADK events through session.chat()`,
      unit: 'MB/s',
      sdk: round1(mb / (sdkMs / 1000)),
      baseline: round1(mb / (bareMs / 1000)),
      baselineLabel: 'fetch + eventsource-parser + JSON.parse',
      // The paired median, not the quotient of the two medians: each pair shares its moment's load.
      ratio,
      goal: { op: '>=', value: 0.8, on: 'ratio', label: '≥ 0.8×' },
      details: {
        streamMB: round1(mb),
        payloads,
        chatEvents: sdkEvents,
        rounds: ROUNDS,
        transport: MEMORY ? 'in-memory fetch' : 'loopback HTTP, server in a child process',
        keepEvents: KEEP_EVENTS ?? 'default',
        roundRatios: ratios.map(round2),
        cpuTimeRatio: round2(median(cpuRatios)),
        bareMs: pick(bareRuns, 'ms').map(Math.round),
        sdkMs: pick(sdkRuns, 'ms').map(Math.round),
        bareCpuMs: Math.round(median(pick(bareRuns, 'cpuMs'))),
        sdkCpuMs: Math.round(median(pick(sdkRuns, 'cpuMs'))),
        bareGcMs: Math.round(median(pick(bareRuns, 'gcMs'))),
        sdkGcMs: Math.round(median(pick(sdkRuns, 'gcMs'))),
        bareGcMsPer1kPayloads: gcPer1k(bareRuns, bareEvents),
        sdkGcMsPer1kPayloads: gcPer1k(sdkRuns, bareEvents),
      },
    }),
  ]);
}

if (isMain(import.meta.url)) await main();
