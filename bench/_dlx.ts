import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NemoClient } from '../src/index.js';
const size = 500 * 1024 * 1024;
const child = spawn(process.execPath, ['/tmp/dlx/server.cjs', String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
const url: string = await new Promise((r) => child.stdout!.once('data', (d) => r(String(d).trim())));
const client = new NemoClient({ baseUrl: 'http://127.0.0.1:9', token: 'nmv_usr_x', clientIdFile: false, logLevel: 'off' });
const file = '/tmp/dlx/out.mp4';
const ways: Record<string, () => Promise<void>> = {
  sdk: async () => { await client.download(url, file, { resume: process.env.RESUME !== '0' }); },
  fetch: async () => { const r = await fetch(url); await pipeline(Readable.fromWeb(r.body as any), createWriteStream(file)); },
  curl: async () => { spawnSync('curl', ['-sS', '-o', file, url]); },
  sock: async () => {
    const net = await import('node:net');
    const fs = await import('node:fs');
    const u = new URL(url);
    const fd = fs.openSync(file, 'w');
    const PIECE = 128 * 1024;
    const pool: Buffer[] = Array.from({ length: 16 }, () => Buffer.allocUnsafeSlow(PIECE));
    let free = pool.slice();
    let cur: Buffer | undefined = free.pop(); let fill = 0; let pos = 0; let inflight = 0;
    let head = true; let headBuf = Buffer.alloc(0); let remaining = -1; let done: () => void; let fail: (e: unknown) => void;
    const finished = new Promise<void>((r, j) => { done = r; fail = j; });
    let sock: import('node:net').Socket;
    let paused = false; let ended = false;
    const flush = (buf: Buffer, len: number) => {
      inflight++;
      const at = pos; pos += len;
      fs.write(fd, buf, 0, len, at, (err) => { inflight--; if (err) return fail(err); free.push(buf); if (paused) { paused = false; sock.resume(); } if (ended && inflight === 0) done(); });
    };
    const body = (src: Buffer, from: number, to: number) => {
      while (from < to) {
        if (!cur) { cur = free.pop() ?? Buffer.allocUnsafeSlow(PIECE); }
        const n = Math.min(PIECE - fill, to - from);
        src.copy(cur, fill, from, from + n); fill += n; from += n; remaining -= n;
        if (fill === PIECE) { flush(cur, fill); cur = undefined; fill = 0; }
      }
      if (remaining === 0) { if (fill) { flush(cur!, fill); cur = undefined; fill = 0; } ended = true; sock.destroy(); if (inflight === 0) done(); }
      else if (free.length < 6 && !paused) { paused = true; sock.pause(); }
    };
    sock = net.connect({ host: u.hostname, port: Number(u.port), onread: { buffer: Buffer.allocUnsafeSlow(256 * 1024), callback: (n: number, buf: Buffer) => {
      if (head) {
        headBuf = Buffer.concat([headBuf, buf.subarray(0, n)]);
        const i = headBuf.indexOf('\r\n\r\n'); if (i < 0) return;
        const text = headBuf.subarray(0, i).toString('latin1');
        remaining = Number(/content-length:\s*(\d+)/i.exec(text)![1]); head = false;
        body(headBuf, i + 4, headBuf.length); return;
      }
      body(buf, 0, n);
    } } } as any);
    sock.on('connect', () => sock.write(`GET ${u.pathname} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: close\r\n\r\n`));
    sock.on('error', (e) => { if (!ended) fail(e); });
    await finished; fs.closeSync(fd);
  },
  raw: async () => {
    const { openFileWriter } = await import('../src/resources/downloads/file-writer.ts');
    const fs = await import('node:fs');
    const w = await openFileWriter(fs, file);
    await new Promise<void>((resolve, reject) => get(url, (res) => {
      res.on('data', (c: Buffer) => { const p = w.write(c); if (p) { res.pause(); p.then(() => res.resume(), reject); } });
      res.on('end', () => resolve()); res.on('error', reject);
    }).on('error', reject));
    await w.finish();
  },
};
const which = (process.env.WAYS ?? 'sdk,fetch,curl').split(',');
const res: Record<string, { ms: number[]; cpu: number[] }> = {};
process.on('exit', () => child.kill());
for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  for (const w of round % 2 ? [...which].reverse() : which) {
    spawnSync('sync');
    const c0 = process.cpuUsage(); const t0 = performance.now();
    const ch0 = (process as any).resourceUsage?.();
    await ways[w]!();
    const ms = performance.now() - t0; const c = process.cpuUsage(c0);
    (res[w] ??= { ms: [], cpu: [] }).ms.push(Math.round(ms));
    res[w].cpu.push(Math.round(c.user / 1000) * 10000 + Math.round(c.system / 1000));
    await rm(file, { force: true });
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [w, r] of Object.entries(res)) console.log(w, 'ms', r.ms.join(','), 'median', med(r.ms), 'cpu', r.cpu.join(','));
child.kill();
