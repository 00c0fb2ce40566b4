/**
 * Download benchmark: a 500 MB render result from a loopback server, with
 * `client.download()` versus `curl -o` from the same server.
 *
 * Two servers, each in its own process so this process measures only the
 * downloader:
 * - `emulator`: the emulator (`nemovideo/testing`, `listen()`) with
 *   `resultSizeBytes`; the result URL comes from the real workflow (session,
 *   upload, agent turn, render, poll) and lives on the emulator's CDN origin;
 * - `plain`: a bare `node:http` server streaming the bytes from one reused
 *   buffer, so the server is never the bottleneck.
 *
 * Figures: throughput against `curl -o` (goal ≥ 0.7×) and, from the plain
 * server, against a bare `fetch` piped to a file (`pipeline(Readable.fromWeb(body),
 * createWriteStream(file))`, goal ≥ 1.0×). Each round runs every side in a
 * rotating order, each after a `sync`; a ratio is the median of the per-round
 * ratios (each SDK download against the baseline of the same round). Also the CPU
 * each side and the server used per round (details), and the peak RSS growth of
 * this process during the downloads, over its RSS just before the first one
 * (sampled every 5 ms; goal < 64 MB).
 *
 * `resume` (#15.6): a download cut at 90 % by the emulator, then run again to the
 * same path: the bytes the second run transferred (goal ≤ 11 % of the file) and
 * its wall time against a full download of the same file in the same round.
 *
 *   node --expose-gc --import tsx bench/download-rss.ts
 *
 * Env: `DOWNLOAD_BENCH_MB` (default 500), `DOWNLOAD_BENCH_ROUNDS` (default 5),
 * `DOWNLOAD_BENCH_SERVER` = `all` (default) | `emulator` | `plain` | `emulator-app`
 * (the emulator again, with this process holding an application-sized heap) | `resume`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DownloadError, NemoClient } from '../src/index.js';
import { connectEmulator } from '../src/testing/index.js';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { gc, median, round } from './lib/stats.js';

const MB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const PLAIN_SERVER = `
const http = require('node:http');
const size = Number(process.argv[1]);
const block = Buffer.alloc(1024 * 1024, 7);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(size) });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      const n = Math.min(block.length, size - sent);
      sent += n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port + '/renders/result.mp4' }) + '\\n'));
`;

const EMULATOR_SERVER = `
const { createEmulator } = await import(${JSON.stringify(`${ROOT}src/testing/index.ts`)});
const emulator = createEmulator({ resultSizeBytes: Number(process.argv[1]), renderDurationMs: 0, heartbeatMs: 0 });
const server = await emulator.listen({ port: 0 });
process.stdout.write(JSON.stringify({ url: server.url, cdnUrl: server.cdnUrl }) + '\\n');
`;

type Kind = 'emulator' | 'plain' | 'emulator-app' | 'resume';

/**
 * The heap an application brings. In a bare script (a V8 old generation of
 * 8–12 MB) V8 keeps incremental marking running through a long download, since
 * every 64 KB socket read allocates a fresh buffer: about a quarter of the main
 * thread goes to GC. An application's larger heap gives V8 more room, and
 * the same download costs a fraction of the CPU. Both cases are measured.
 */
const APP_HEAP_MB = 40;

function applicationHeap(mb: number): unknown[] {
  // ~135 bytes per record (object, string, array), like parsed JSON.
  return Array.from({ length: mb * 7_500 }, (_, i) => ({ id: i, name: `item-${i}`, tags: [i] }));
}

interface Child {
  info: { url: string; cdnUrl?: string };
  pid: number;
  stop: () => void;
}

/** CPU ms used so far by process `pid` (`self` for this one), and by its waited-for children. */
function cpuMs(pid: number | 'self'): { own: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const tick = 10; // USER_HZ is 100 on Linux
  const at = (i: number) => Number(fields[i] ?? 0) * tick;
  return { own: at(11) + at(12), children: at(13) + at(14) };
}

async function startChild(kind: 'plain' | 'emulator', size: number): Promise<Child> {
  const args =
    kind === 'plain'
      ? ['-e', PLAIN_SERVER, String(size)]
      : ['--import', 'tsx', '--input-type=module', '-e', EMULATOR_SERVER, String(size)];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    info: JSON.parse(line) as Child['info'],
    pid: child.pid ?? 0,
    stop: () => child.kill(),
  };
}

/** The result URL of a real render on the emulator (session → upload → turn → render → poll). */
async function emulatorResultUrl(client: NemoClient, apiUrl: string): Promise<string> {
  const session = await client.sessions.create();
  const headers = {
    authorization: `Bearer ${await client.getToken()}`,
    'content-type': 'application/json',
  };
  const upload = await fetch(`${apiUrl}/api/upload-video/nemo_agent/me/${session.id}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ urls: ['https://example.com/city.mp4'], source_type: 'url' }),
  });
  if (!upload.ok) throw new Error(`upload: HTTP ${upload.status}`);
  await upload.text();
  const turn = await fetch(`${apiUrl}/run_sse`, {
    method: 'POST',
    headers: { ...headers, accept: 'text/event-stream' },
    body: JSON.stringify({
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: session.id,
      new_message: { parts: [{ text: 'download this video in MP4 at 1080p' }] },
    }),
  });
  await turn.text();
  const job = await session.render();
  const done = await job.wait({ pollInterval: 50, maxPolls: 100 });
  return done.url;
}

function curlSeconds(url: string, file: string): number {
  const started = process.hrtime.bigint();
  const out = spawnSync('curl', ['-sS', '-o', file, url], { stdio: 'inherit' });
  if (out.status !== 0) throw new Error(`curl failed with ${out.status}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface Measured {
  sdkSeconds: number[];
  curlSeconds: number[];
  /** A bare `fetch` piped to a file (plain server only). */
  fetchSeconds: number[];
  /** CPU ms per round: the downloader's own (user + system) and the server's. */
  sdkUserMs: number[];
  sdkSystemMs: number[];
  curlCpuMs: number[];
  fetchCpuMs: number[];
  serverCpuMsDuringSdk: number[];
  serverCpuMsDuringCurl: number[];
  peakGrowthMb: number;
}

/** The baseline a reader would write by hand: `fetch`, its body piped to a file. */
async function bareFetch(url: string, file: string): Promise<number> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`fetch: HTTP ${response.status}`);
  await pipeline(
    Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
    createWriteStream(file),
  );
  return Number(response.headers.get('content-length'));
}

async function measure(
  client: NemoClient,
  url: string,
  size: number,
  rounds: number,
  dir: string,
  serverPid: number,
  withFetch: boolean,
): Promise<Measured> {
  gc();
  const base = process.memoryUsage.rss();
  let peak = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const m: Omit<Measured, 'peakGrowthMb'> = {
    sdkSeconds: [],
    curlSeconds: [],
    fetchSeconds: [],
    sdkUserMs: [],
    sdkSystemMs: [],
    curlCpuMs: [],
    fetchCpuMs: [],
    serverCpuMsDuringSdk: [],
    serverCpuMsDuringCurl: [],
  };
  const sdkRound = async (i: number) => {
    const file = join(dir, `sdk-${i}.mp4`);
    const server0 = cpuMs(serverPid).own;
    const cpu0 = process.cpuUsage();
    const started = process.hrtime.bigint();
    const { bytes } = await client.download(url, file);
    m.sdkSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    const cpu = process.cpuUsage(cpu0);
    m.sdkUserMs.push(cpu.user / 1000);
    m.sdkSystemMs.push(cpu.system / 1000);
    m.serverCpuMsDuringSdk.push(cpuMs(serverPid).own - server0);
    peak = Math.max(peak, process.memoryUsage.rss());
    if (bytes !== size || (await stat(file)).size !== size) throw new Error('wrong size');
    await rm(file);
  };
  const curlRound = async (i: number) => {
    const file = join(dir, `curl-${i}.mp4`);
    const server0 = cpuMs(serverPid).own;
    const children0 = cpuMs('self').children;
    m.curlSeconds.push(curlSeconds(url, file));
    m.curlCpuMs.push(cpuMs('self').children - children0);
    m.serverCpuMsDuringCurl.push(cpuMs(serverPid).own - server0);
    await rm(file);
  };
  const fetchRound = async (i: number) => {
    const file = join(dir, `fetch-${i}.mp4`);
    const cpu0 = process.cpuUsage();
    const started = process.hrtime.bigint();
    const bytes = await bareFetch(url, file);
    m.fetchSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    const cpu = process.cpuUsage(cpu0);
    m.fetchCpuMs.push((cpu.user + cpu.system) / 1000);
    if (bytes !== size || (await stat(file)).size !== size) throw new Error('wrong size');
    await rm(file);
  };
  const sides = withFetch ? [sdkRound, curlRound, fetchRound] : [sdkRound, curlRound];
  try {
    for (let i = 0; i < rounds; i++) {
      // Rotate who goes first, and start each transfer with the previous file's dirty
      // pages written back, so no side pays for another's writeback.
      const order = sides.map((_, k) => sides[(k + i) % sides.length] as typeof sdkRound);
      for (const side of order) {
        spawnSync('sync');
        await side(i);
      }
    }
  } finally {
    clearInterval(sampler);
  }
  return { ...m, peakGrowthMb: (peak - base) / MB };
}

/** The median of per-round ratios `baseline / sdk` (a throughput ratio; > 1: the SDK is faster). */
function pairedRatio(sdk: number[], baseline: number[]): number {
  return median(sdk.map((s, i) => (baseline[i] as number) / s));
}

interface ResumeMeasured {
  /** Bytes the second (resuming) run transferred, per round. */
  resumedBytes: number[];
  /** Bytes the first run left in the part file, per round. */
  keptBytes: number[];
  resumeSeconds: number[];
  fullSeconds: number[];
}

/**
 * #15.6: per round, a download of the emulator's result cut at 90 % (a fault
 * armed over the emulator's control API), run again to the same path; and a
 * full download of the same file, in alternating order.
 */
async function measureResume(
  client: NemoClient,
  apiUrl: string,
  url: string,
  size: number,
  rounds: number,
  dir: string,
): Promise<ResumeMeasured> {
  const remote = connectEmulator(apiUrl);
  const m: ResumeMeasured = { resumedBytes: [], keptBytes: [], resumeSeconds: [], fullSeconds: [] };
  const resumeRound = async (i: number) => {
    const file = join(dir, `resume-${i}.mp4`);
    await remote.fail('GET /renders/*', { cutAfterBytes: Math.floor(size * 0.9) });
    const cut = await client.download(url, file).catch((e: unknown) => e);
    if (!(cut instanceof DownloadError) || cut.partialBytes === undefined) {
      throw new Error(`the cut download did not keep a part: ${String(cut)}`);
    }
    m.keptBytes.push(cut.partialBytes);
    spawnSync('sync');
    const started = process.hrtime.bigint();
    const done = await client.download(url, file);
    m.resumeSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (done.bytes !== size || (await stat(file)).size !== size) throw new Error('wrong size');
    m.resumedBytes.push(done.transferredBytes);
    await rm(file);
  };
  const fullRound = async (i: number) => {
    const file = join(dir, `full-${i}.mp4`);
    spawnSync('sync');
    const started = process.hrtime.bigint();
    const done = await client.download(url, file);
    m.fullSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (done.transferredBytes !== size) throw new Error('a full download transferred less');
    await rm(file);
  };
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 === 0 ? [resumeRound, fullRound] : [fullRound, resumeRound]) {
      await side(i);
    }
  }
  return m;
}

export async function run(): Promise<BenchResult[]> {
  const sizeMb = Number(process.env.DOWNLOAD_BENCH_MB ?? 500);
  const rounds = Number(process.env.DOWNLOAD_BENCH_ROUNDS ?? 5);
  const which = process.env.DOWNLOAD_BENCH_SERVER ?? 'all';
  const kinds = (
    which === 'all' ? ['emulator', 'plain', 'emulator-app', 'resume'] : [which]
  ) as Kind[];
  const size = sizeMb * MB;
  const dir = await mkdtemp(join(tmpdir(), 'nemo-bench-dl-'));
  const results: BenchResult[] = [];
  try {
    for (const kind of kinds) {
      const emulator = kind !== 'plain';
      const child = await startChild(emulator ? 'emulator' : 'plain', size);
      let ballast: unknown[] | undefined;
      try {
        const client = new NemoClient({
          baseUrl: emulator ? child.info.url : 'http://127.0.0.1:9',
          ...(emulator ? { clientId: `bench-download-${kind}` } : { token: 'nmv_usr_bench' }),
          clientIdFile: false,
          logLevel: 'off',
        });
        const url = emulator ? await emulatorResultUrl(client, child.info.url) : child.info.url;
        if (kind === 'resume') {
          const r = await measureResume(client, child.info.url, url, size, rounds, dir);
          const share = median(r.resumedBytes) / size;
          results.push(
            result({
              id: 'download-resume-bytes',
              title: `Resume after a cut at 90 % of ${sizeMb} MB: bytes the second run transferred`,
              unit: '% of file',
              sdk: round(share * 100, 2),
              baseline: 100,
              baselineLabel: 'a download from zero',
              goal: { op: '<=', value: 11, on: 'sdk', label: '≤ 11 %' },
              details: {
                resumedBytes: r.resumedBytes,
                keptBytes: r.keptBytes,
                fileBytes: size,
              },
            }),
            result({
              id: 'download-resume-time',
              title: `Resume after a cut at 90 % of ${sizeMb} MB: wall time of the second run`,
              unit: 's',
              sdk: round(median(r.resumeSeconds), 3),
              baseline: round(median(r.fullSeconds), 3),
              baselineLabel: 'a full download of the same file',
              ratio: round(
                median(r.resumeSeconds.map((s, i) => s / (r.fullSeconds[i] as number))),
                3,
              ),
              details: {
                resumeSeconds: r.resumeSeconds.map((v) => round(v, 3)),
                fullSeconds: r.fullSeconds.map((v) => round(v, 3)),
              },
            }),
          );
          continue;
        }
        if (kind === 'emulator-app') ballast = applicationHeap(APP_HEAP_MB);
        const m = await measure(client, url, size, rounds, dir, child.pid, kind === 'plain');
        const sdkMBs = sizeMb / median(m.sdkSeconds);
        const curlMBs = sizeMb / median(m.curlSeconds);
        const from = emulator ? 'the emulator CDN' : 'a plain node:http server';
        const where =
          kind === 'emulator-app'
            ? `, in a process holding a ${APP_HEAP_MB} MB application heap`
            : ', in a bare script';
        results.push(
          result({
            id: `download-throughput-${kind}`,
            title: `Download ${sizeMb} MB from ${from} (loopback${where})`,
            unit: 'MB/s',
            sdk: round(sdkMBs, 1),
            baseline: round(curlMBs, 1),
            baselineLabel: 'curl -o',
            ratio: round(pairedRatio(m.sdkSeconds, m.curlSeconds), 3),
            goal: { op: '>=', value: 0.7, on: 'ratio', label: '≥ 0.7×' },
            details: {
              url: new URL(url).origin,
              ratioOfMedians: round(sdkMBs / curlMBs, 3),
              sdkSeconds: m.sdkSeconds.map((s) => round(s, 3)),
              curlSeconds: m.curlSeconds.map((s) => round(s, 3)),
              sdkUserMs: m.sdkUserMs.map((v) => Math.round(v)),
              sdkSystemMs: m.sdkSystemMs.map((v) => Math.round(v)),
              curlCpuMs: m.curlCpuMs.map((v) => Math.round(v)),
              serverCpuMsDuringSdk: m.serverCpuMsDuringSdk.map((v) => Math.round(v)),
              serverCpuMsDuringCurl: m.serverCpuMsDuringCurl.map((v) => Math.round(v)),
            },
          }),
        );
        if (m.fetchSeconds.length > 0) {
          results.push(
            result({
              id: `download-vs-fetch-${kind}`,
              title: `Download ${sizeMb} MB from ${from}: SDK versus a bare fetch piped to a file`,
              unit: 'MB/s',
              sdk: round(sdkMBs, 1),
              baseline: round(sizeMb / median(m.fetchSeconds), 1),
              baselineLabel: 'fetch + pipeline(Readable.fromWeb(body), createWriteStream)',
              ratio: round(pairedRatio(m.sdkSeconds, m.fetchSeconds), 3),
              goal: { op: '>=', value: 1, on: 'ratio', label: '≥ 1.0×' },
              details: {
                fetchSeconds: m.fetchSeconds.map((s) => round(s, 3)),
                fetchCpuMs: m.fetchCpuMs.map((v) => Math.round(v)),
              },
            }),
          );
        }
        if (kind === 'emulator-app') continue; // its RSS includes the ballast
        results.push(
          result({
            id: `download-rss-${kind}`,
            title: `Peak RSS growth downloading ${sizeMb} MB from ${from} (${rounds}×)`,
            unit: 'MB',
            sdk: round(m.peakGrowthMb, 1),
            baseline: sizeMb,
            baselineLabel: 'file size',
            goal: { op: '<=', value: 64, on: 'sdk', label: '< 64 MB' },
          }),
        );
      } finally {
        child.stop();
        if (ballast) ballast.length = 0;
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (isMain(import.meta.url)) emit(await run());
