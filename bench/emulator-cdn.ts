/**
 * Emulator benchmarks: what the emulator costs the tests and benchmarks that run on it.
 *
 * - CDN throughput: `curl -o /dev/null` of an N MB render result from the emulator's CDN
 *   (`listen()`, in a child process) versus the same size from a bare `node:http` server
 *   streaming one reused buffer (another child). Rounds alternate; medians.
 * - Resume: the last 10 % of the file with `Range` + `If-Range` (the durable download's
 *   second request), same comparison.
 * - Per request: a render poll through `emulator.handle()` in process (routing, request log,
 *   counters, auth, the job's state from the clock) versus building the same JSON response
 *   directly, per request.
 *
 *   node --import tsx bench/emulator-cdn.ts
 *
 * Env: `EMULATOR_BENCH_MB` (default 500), `EMULATOR_BENCH_ROUNDS` (default 5),
 * `EMULATOR_SRC` (the emulator entry to measure; default this repository's src/testing).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchResult, emit, isMain, result } from './lib/result.js';
import { median, round } from './lib/stats.js';

const MB = 1024 * 1024;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = process.env.EMULATOR_SRC ?? `${ROOT}src/testing/index.ts`;

/** A completed render of `size` bytes, made through raw requests; prints its URLs. */
const EMULATOR_SERVER = `
const { createEmulator } = await import(${JSON.stringify(SRC)});
const size = Number(process.argv[1]);
const emulator = createEmulator({ resultSizeBytes: size, renderDurationMs: 0, heartbeatMs: 0 });
const server = await emulator.listen({ port: 0 });
const api = async (method, path, init = {}) => {
  const res = await fetch(server.url + path, { method, ...init });
  return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
};
const token = (await api('POST', '/api/auth/anonymous-token', { headers: { 'X-Client-Id': 'bench' } })).data.token;
const json = { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' };
const sid = (await api('POST', '/api/tasks/me/with-session/nemo_agent', { headers: json, body: '{}' })).data.session_id;
await api('POST', '/api/upload-video/nemo_agent/me/' + sid, { headers: json, body: JSON.stringify({ urls: ['https://youtu.be/b'], source_type: 'url' }) });
await api('POST', '/run_sse', { headers: json, body: JSON.stringify({ app_name: 'nemo_agent', user_id: 'me', session_id: sid, new_message: { parts: [{ text: 'download this video in MP4' }] } }) });
const draft = (await api('GET', '/api/state/nemo_agent/me/' + sid + '/latest', { headers: json })).data.state.draft;
await api('POST', '/api/render/proxy/lambda', { headers: { ...json, 'X-Skill-Source': 'bench', 'X-Skill-Version': '1', 'X-Skill-Platform': 'linux' },
  body: JSON.stringify({ id: 'bench', sessionId: sid, draft, output: { format: 'mp4' } }) });
const poll = await api('GET', '/api/render/proxy/lambda/bench', { headers: json });
process.stdout.write(JSON.stringify({ url: poll.output.url }) + '\\n');
`;

const PLAIN_SERVER = `
const http = require('node:http');
const size = Number(process.argv[1]);
const block = Buffer.alloc(1024 * 1024, 7);
const server = http.createServer((req, res) => {
  const m = /^bytes=(\\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, { 'content-type': 'video/mp4', 'content-length': String(size - start) });
  let sent = start;
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
  process.stdout.write(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port + '/renders/bench.mp4' }) + '\\n'));
`;

async function startChild(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready`)));
  });
  return { url: (JSON.parse(line) as { url: string }).url, child };
}

/** Download speed in MB/s measured by curl. */
function curl(url: string, headers: string[] = []): number {
  const out = spawnSync(
    'curl',
    ['-s', '-o', '/dev/null', '-w', '%{speed_download} %{http_code}', ...headers, url],
    { encoding: 'utf8' },
  );
  const [speed, code] = out.stdout.trim().split(' ');
  if (code !== '200' && code !== '206') throw new Error(`curl ${url}: HTTP ${code}`);
  return Number(speed) / MB;
}

async function perRequest(): Promise<{ emulatorUs: number; directUs: number }> {
  const { createEmulator } = (await import(SRC)) as typeof import('../src/testing/index.js');
  const emulator = createEmulator({ renderDurationMs: 60_000 });
  const { token } = emulator.issueToken('bench');
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const base = emulator.baseUrl;
  const sid = (
    (await (
      await emulator.handle(
        new Request(`${base}/api/tasks/me/with-session/nemo_agent`, {
          method: 'POST',
          headers,
          body: '{}',
        }),
      )
    ).json()) as { data: { session_id: string } }
  ).data.session_id;
  const draft = { t: [{ tt: 0, sg: [{ id: 's', st: 0, du: 1000 }] }], d: 1000, m: {} };
  await emulator.handle(
    new Request(`${base}/api/render/proxy/lambda`, {
      method: 'POST',
      headers: {
        ...headers,
        'X-Skill-Source': 'b',
        'X-Skill-Version': '1',
        'X-Skill-Platform': 'l',
      },
      body: JSON.stringify({ id: 'r', sessionId: sid, draft }),
    }),
  );
  const pollUrl = `${base}/api/render/proxy/lambda/r`;
  const body = { id: 'r', status: 'processing', progress: 10 };
  const direct = async (_request: Request) =>
    new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  const n = 20_000;
  const measure = async (fn: (r: Request) => Promise<Response>) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await (await fn(new Request(pollUrl, { headers }))).text();
    return ((performance.now() - t0) * 1000) / n;
  };
  const e: number[] = [];
  const d: number[] = [];
  for (let round = 0; round < 5; round++) {
    emulator.reset();
    e.push(await measure((r) => emulator.handle(r)));
    d.push(await measure(direct));
  }
  return { emulatorUs: median(e), directUs: median(d) };
}

export async function run(): Promise<BenchResult[]> {
  const sizeMb = Number(process.env.EMULATOR_BENCH_MB ?? 500);
  const rounds = Number(process.env.EMULATOR_BENCH_ROUNDS ?? 5);
  const size = sizeMb * MB;
  const emu = await startChild([
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    EMULATOR_SERVER,
    String(size),
  ]);
  const plain = await startChild(['-e', PLAIN_SERVER, String(size)]);
  const from = Math.floor(size * 0.9);
  const resume = (etag: string) => ['-H', `Range: bytes=${from}-`, '-H', `If-Range: ${etag}`];
  try {
    const etag =
      /etag: (\S+)/i.exec(
        spawnSync('curl', ['-s', '-I', emu.url], { encoding: 'utf8' }).stdout,
      )?.[1] ?? '""';
    curl(emu.url);
    curl(plain.url);
    const full = { emulator: [] as number[], plain: [] as number[] };
    const tail = { emulator: [] as number[], plain: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const order =
        i % 2 === 0 ? (['emulator', 'plain'] as const) : (['plain', 'emulator'] as const);
      for (const which of order) {
        const url = which === 'emulator' ? emu.url : plain.url;
        full[which].push(curl(url));
        tail[which].push(
          curl(url, which === 'emulator' ? resume(etag) : ['-H', `Range: bytes=${from}-`]),
        );
      }
    }
    const calls = await perRequest();
    return [
      result({
        id: 'emulator-cdn-throughput',
        title: `Emulator CDN, ${sizeMb} MB result (curl -o /dev/null, loopback)`,
        unit: 'MB/s',
        sdk: round(median(full.emulator), 1),
        baseline: round(median(full.plain), 1),
        baselineLabel: 'bare node:http server, one reused buffer',
        details: {
          emulator: full.emulator.map((v) => round(v, 1)),
          plain: full.plain.map((v) => round(v, 1)),
        },
      }),
      result({
        id: 'emulator-cdn-resume',
        title: `Emulator CDN, last 10 % with Range + If-Range (${sizeMb} MB result)`,
        unit: 'MB/s',
        sdk: round(median(tail.emulator), 1),
        baseline: round(median(tail.plain), 1),
        baselineLabel: 'bare node:http server, Range only',
      }),
      result({
        id: 'emulator-poll-cost',
        title: 'Emulator render poll in process, per request',
        unit: 'µs',
        sdk: round(calls.emulatorUs, 1),
        baseline: round(calls.directUs, 1),
        baselineLabel: 'the same JSON Response built directly',
      }),
    ];
  } finally {
    emu.child.kill('SIGTERM');
    plain.child.kill('SIGTERM');
  }
}

if (isMain(import.meta.url)) emit(await run());
