/**
 * Upload memory benchmark of the emulator's standalone server.
 *
 * Starts the server in a child process, streams one multipart upload of N MB (default 400)
 * to it, generated on the fly, and samples the server's RSS (/proc/<pid>/status, VmRSS) every
 * 10 ms. Reports the peak growth over the RSS measured after a warm-up upload. Linux only.
 *
 *   node --import tsx bench/emulator-upload-rss.ts [sizeMB]
 *
 * Acceptance: growth < 64 MB for 400 MB.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sizeMb = Number(process.argv[2] ?? 400);
const LIMIT_MB = 64;
const root = fileURLToPath(new URL('../', import.meta.url));

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m?.[1]) throw new Error('no VmRSS');
  return Number(m[1]);
}

function multipart(size: number): { body: ReadableStream<Uint8Array>; type: string } {
  const boundary = 'nemoEmulatorBench';
  const enc = new TextEncoder();
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
  let sent = 0;
  let stage = 0;
  return {
    type: `multipart/form-data; boundary=${boundary}`,
    body: new ReadableStream<Uint8Array>({
      pull(c) {
        if (stage === 0) {
          c.enqueue(head);
          stage = 1;
          return;
        }
        if (stage === 1) {
          const n = Math.min(chunk.length, size - sent);
          c.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
          sent += n;
          if (sent >= size) stage = 2;
          return;
        }
        c.enqueue(tail);
        c.close();
      },
    }),
  };
}

async function upload(url: string, token: string, sid: string, size: number): Promise<unknown> {
  const { body, type } = multipart(size);
  const res = await fetch(`${url}/api/upload-video/nemo_agent/me/${sid}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
    body,
    duplex: 'half',
  } as RequestInit);
  return res.json();
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/emulator-server-child.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid!;
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error('server exited')));
  });
  try {
    const tokenRes = (await (
      await fetch(`${url}/api/auth/anonymous-token`, {
        method: 'POST',
        headers: { 'X-Client-Id': 'bench' },
      })
    ).json()) as { data: { token: string } };
    const token = tokenRes.data.token;
    const sessionRes = (await (
      await fetch(`${url}/api/tasks/me/with-session/nemo_agent`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{"task_name":"bench","language":"en"}',
      })
    ).json()) as { data: { session_id: string } };
    const sid = sessionRes.data.session_id;

    // Warm-up: loads busboy and node:crypto, JIT-compiles the upload path.
    await upload(url, token, sid, 16 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 200));
    const baseline = rssKb(pid);
    let peak = baseline;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, rssKb(pid));
      } catch {
        // process gone
      }
    }, 10);
    const t0 = performance.now();
    const result = (await upload(url, token, sid, sizeMb * 1024 * 1024)) as {
      code: number;
      data?: { files: { filename: string; hash?: string }[] };
    };
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, rssKb(pid));
    if (result.code !== 0) throw new Error(`upload failed: ${JSON.stringify(result)}`);
    const growthMb = (peak - baseline) / 1024;
    console.log(
      `upload: ${sizeMb} MB multipart in ${seconds.toFixed(2)} s (${(sizeMb / seconds).toFixed(0)} MB/s)`,
    );
    console.log(
      `server RSS: baseline ${(baseline / 1024).toFixed(1)} MB, peak ${(peak / 1024).toFixed(1)} MB`,
    );
    console.log(
      `server RSS growth: ${growthMb.toFixed(1)} MB (limit ${LIMIT_MB} MB): ${growthMb < LIMIT_MB ? 'PASS' : 'FAIL'}`,
    );
    if (growthMb >= LIMIT_MB) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
