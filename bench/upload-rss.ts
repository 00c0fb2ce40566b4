/**
 * Uploads of a 500 MB file to loopback servers, each in a child process so only
 * the uploader's memory is measured: a bare `node:http` server that reads and
 * discards the body (the client's own speed), and the emulator's `listen()`
 * server (`nemovideo/testing`, which parses the multipart body and hashes it).
 *
 * - Peak RSS growth of the uploading process during `session.upload(path)`
 *   (Linux `VmHWM` after resetting it, cross-checked by sampling). Goal < 64 MB.
 * - Throughput versus `curl -F files=@file` to the same server. Goal ≥ 0.7×.
 *
 * A bare streamed `fetch` of the file is timed too, as the platform's ceiling.
 * Rounds alternate SDK and curl; the throughput ratio is the median of the
 * per-round ratios (each SDK upload against the curl upload next to it), which
 * keeps a busy machine's drift out of the figure. Options (env):
 * `UPLOAD_BENCH_MB` (default 500), `UPLOAD_BENCH_ROUNDS` (default 5),
 * `UPLOAD_BENCH_SOURCE` = `path` (default) | `stream` (a Node `Readable` of the
 * file through `toUpload`, size unknown), `UPLOAD_BENCH_SERVER` = `both`
 * (default) | `discard` | `emulator`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NemoClient, toUpload, type UploadInput } from '../src/index.js';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { gc, median, round } from './lib/stats.js';

const MB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A loopback upload endpoint in a child process. */
interface Target {
  kind: 'discard' | 'emulator';
  /** API origin. */
  url: string;
  token: string;
  sessionId: string;
  child: ChildProcess;
}

/** The bare server: count the body's bytes, answer the contract's upload response. */
const DISCARD_SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (c) => { bytes += c.length; });
  req.on('end', () => {
    const body = JSON.stringify({ code: 0, data: { files: [{ filename: 'big.mp4', file_type: 'video',
      cdn_url: 'https://cdn.example/big.mp4', duration: 1 }], session_state_applied: true, received: bytes } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port,
  token: 'nmv_usr_bench_upload_token_0123456789', sessionId: '5529798706024415232' })));
`;

/** The emulator's own HTTP server, with a token and a session ready. */
const EMULATOR_SERVER = `
const { createEmulator } = await import(process.argv[1]);
const emulator = createEmulator();
const server = await emulator.listen({ port: 0 });
const { token } = emulator.issueToken('upload-bench');
const res = await fetch(server.url + '/api/tasks/me/with-session/nemo_agent', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
  body: JSON.stringify({ task_name: 'bench', language: 'en' }),
});
const { data } = await res.json();
console.log(JSON.stringify({ url: server.url, token, sessionId: data.session_id }));
`;

async function startTarget(kind: Target['kind']): Promise<Target> {
  const args =
    kind === 'discard'
      ? ['-e', DISCARD_SERVER]
      : [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          EMULATOR_SERVER,
          join(ROOT, 'src/testing/index.ts'),
        ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.stdout?.setEncoding('utf8').once('data', (d: string) => resolve(d.trim()));
  });
  const info = JSON.parse(line) as { url: string; token: string; sessionId: string };
  return { kind, ...info, child };
}

/** Write `bytes` of pseudo-random data (not held in memory). */
async function makeFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w');
  const block = new Uint8Array(8 * MB);
  let state = 0x9e3779b9;
  for (let i = 0; i < block.length; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    new DataView(block.buffer).setUint32(i, state >>> 0);
  }
  for (let written = 0; written < bytes; ) {
    const n = Math.min(block.length, bytes - written);
    await handle.write(block, 0, n);
    block[0] = (block[0] ?? 0) ^ 0xff; // vary blocks a little
    written += n;
  }
  await handle.close();
}

function statusKb(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = readFileSync('/proc/self/status', 'utf8').match(
      new RegExp(`${field}:\\s+(\\d+) kB`),
    );
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Reset the kernel's peak-RSS counter (Linux); false when unsupported. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * Reference only: the platform's own ceiling, a bare `fetch` of the file as a
 * streamed body (1 MiB reads, no multipart framing, no SDK).
 */
async function rawFetchUpload(
  url: string,
  token: string,
  file: string,
  bytes: number,
): Promise<number> {
  const start = performance.now();
  const handle = await open(file, 'r');
  let position = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const length = Math.min(MB, bytes - position);
        if (length <= 0) {
          await handle.close();
          controller.close();
          return;
        }
        const chunk = Buffer.allocUnsafeSlow(length);
        await handle.read(chunk, 0, length, position);
        position += length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 1 },
  );
  const response = await fetch(url, {
    method: 'POST',
    body,
    duplex: 'half',
    window: null,
    redirect: 'error',
    headers: { 'content-length': String(bytes), authorization: `Bearer ${token}` },
  } as RequestInit);
  await response.text();
  return performance.now() - start;
}

async function curlUpload(url: string, token: string, file: string): Promise<number> {
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      'curl',
      [
        '-sS',
        '-o',
        '/dev/null',
        '-H',
        `authorization: Bearer ${token}`,
        '-F',
        `files=@${file};type=video/mp4`,
        url,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`curl exited ${code}`)),
    );
  });
  return performance.now() - start;
}

async function measure(
  target: Target,
  file: string,
  bytes: number,
  rounds: number,
  sourceKind: 'path' | 'stream',
): Promise<BenchResult[]> {
  const sizeMb = Math.round(bytes / MB);
  const endpoint = `${target.url}/api/upload-video/nemo_agent/me/${target.sessionId}`;
  const client = new NemoClient({
    baseUrl: target.url,
    token: target.token,
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
  });
  const session = client.sessions.open(target.sessionId);
  const input = (): UploadInput =>
    sourceKind === 'path'
      ? file
      : toUpload(createReadStream(file, { highWaterMark: MB }), { filename: 'big.mp4' });

  // Warm-up: page cache, JIT, connection.
  await session.upload(input(), { maxBytes: bytes });
  await curlUpload(endpoint, target.token, file);

  const sdkMs: number[] = [];
  const curlMs: number[] = [];
  const rawMs: number[] = [];
  const growth: number[] = [];
  const sampledGrowth: number[] = [];
  const sdkCpuMs: number[] = [];
  let progressCalls = 0;
  let lastPercent: number | undefined;
  const sdkRound = async () => {
    gc();
    const baseline = process.memoryUsage().rss;
    const peakReset = resetPeak();
    let sampled = baseline;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, process.memoryUsage().rss);
    }, 5);
    const start = performance.now();
    const cpu = process.cpuUsage();
    const uploaded = await session.upload(input(), {
      maxBytes: bytes,
      onProgress: (p) => {
        progressCalls += 1;
        lastPercent = p.percent;
      },
    });
    sdkMs.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    sdkCpuMs.push((used.user + used.system) / 1000);
    clearInterval(sampler);
    if (uploaded.files.length !== 1) throw new Error('unexpected upload result');
    const hwm = peakReset ? statusKb('VmHWM') : undefined;
    sampledGrowth.push(Math.max(sampled, process.memoryUsage().rss) - baseline);
    growth.push((hwm ?? Math.max(sampled, process.memoryUsage().rss)) - baseline);
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await sdkRound();
      curlMs.push(await curlUpload(endpoint, target.token, file));
    } else {
      curlMs.push(await curlUpload(endpoint, target.token, file));
      await sdkRound();
    }
  }
  // The bare-fetch ceiling needs a server that takes any body (the emulator wants multipart).
  for (let r = 0; r < rounds && target.kind === 'discard'; r++) {
    rawMs.push(await rawFetchUpload(endpoint, target.token, file, bytes));
  }

  const sdkRate = bytes / MB / (median(sdkMs) / 1000);
  const curlRate = bytes / MB / (median(curlMs) / 1000);
  const pairRatio = median(sdkMs.map((ms, i) => (curlMs[i] as number) / ms));
  const where = target.kind === 'emulator' ? 'emulator' : 'discarding server';
  const suffix = target.kind === 'emulator' ? '-emulator' : '';
  return [
    result({
      id: `upload-rss-${sourceKind}${suffix}`,
      title: `Peak RSS growth, ${sizeMb} MB upload (${sourceKind}, ${where})`,
      unit: 'MB',
      sdk: round(Math.max(...growth) / MB, 1),
      baseline: sizeMb,
      baselineLabel: 'file size (what buffering would cost)',
      goal: { op: '<=', value: 64, on: 'sdk', label: '< 64 MB' },
      details: {
        perRoundMB: growth.map((g) => round(g / MB, 1)),
        sampledPerRoundMB: sampledGrowth.map((g) => round(g / MB, 1)),
        method: resetPeak() ? 'VmHWM after clear_refs' : 'sampled rss every 5 ms',
        progressCallsPerUpload: Math.round(progressCalls / rounds),
        lastPercent,
      },
    }),
    result({
      id: `upload-throughput-${sourceKind}${suffix}`,
      title: `Upload throughput, ${sizeMb} MB to loopback (${sourceKind}, ${where})`,
      unit: 'MB/s',
      sdk: round(sdkRate, 1),
      baseline: round(curlRate, 1),
      baselineLabel: 'curl -F files=@file',
      ratio: round(pairRatio, 3),
      goal: { op: '>=', value: 0.7, on: 'ratio', label: '≥ 0.7×' },
      details: {
        ratioOfMedians: round(sdkRate / curlRate, 3),
        ...(rawMs.length > 0
          ? { rawFetchMBps: round(bytes / MB / (median(rawMs) / 1000), 1) }
          : {}),
        sdkMs: sdkMs.map((m) => round(m, 0)),
        curlMs: curlMs.map((m) => round(m, 0)),
        rawFetchMs: rawMs.map((m) => round(m, 0)),
        sdkCpuMs: sdkCpuMs.map((m) => round(m, 0)),
        loadAverage: loadavg().map((l) => round(l, 2)),
      },
    }),
  ];
}

export async function run(): Promise<BenchResult[]> {
  const sizeMb = Number(process.env.UPLOAD_BENCH_MB ?? 500);
  const rounds = Number(process.env.UPLOAD_BENCH_ROUNDS ?? 5);
  const sourceKind = process.env.UPLOAD_BENCH_SOURCE === 'stream' ? 'stream' : 'path';
  const servers = process.env.UPLOAD_BENCH_SERVER ?? 'both';
  const kinds: Target['kind'][] =
    servers === 'discard'
      ? ['discard']
      : servers === 'emulator'
        ? ['emulator']
        : ['discard', 'emulator'];
  const bytes = sizeMb * MB;
  const dir = await mkdtemp(join(tmpdir(), 'nemovideo-upload-bench-'));
  const file = join(dir, 'big.mp4');
  const results: BenchResult[] = [];
  try {
    await makeFile(file, bytes);
    for (const kind of kinds) {
      const target = await startTarget(kind);
      try {
        results.push(...(await measure(target, file, bytes, rounds, sourceKind)));
      } finally {
        target.child.kill();
      }
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) emit(await run());
