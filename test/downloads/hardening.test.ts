/**
 * #13 items 7, 8, 11, 12 for downloads, against servers of our own on
 * loopback (port 0): bounded error bodies, compressed answers, the overall
 * deadline on an injected clock, and file-system checks before any request.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DownloadError,
  NemoClient,
  type NemoClientOptions,
  TimeoutError,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

const FILE = new Uint8Array(300_000).map((_, i) => (i * 13 + 1) % 251);

interface Served {
  url: string;
  requests: IncomingMessage[];
  closed: Promise<void>[];
  close(): Promise<void>;
}

const servers: Served[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: IncomingMessage[] = [];
  const closed: Promise<void>[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served: Served = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(served);
  return served;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-dl-hard-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

function client(api: string, extra: NemoClientOptions = {}) {
  return new NemoClient({
    token: 'nmv_usr_hardening_token',
    baseUrl: api,
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
    ...extra,
  });
}

describe('an overall deadline (#13 item 11)', () => {
  it('a server sending a byte now and then cannot keep a download alive past totalTimeout', async () => {
    const trickle = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(FILE.length) });
      res.write(FILE.subarray(0, 60_000)); // 20 %, then nothing: only the deadline can end it
    });
    const api = await serve((_req, res) => res.writeHead(404).end());
    const clock = new ManualClock();
    const target = join(dir, 'slow.mp4');
    let receiving: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      receiving = resolve;
    });
    const pending = client(api.url, { clock }).download(`${trickle.url}/f.mp4`, target, {
      idleTimeout: 0, // no stall watchdog: the overall deadline alone
      totalTimeout: 10_000,
      onProgress: (p) => {
        if (p.loadedBytes > 0) receiving();
      },
    });
    pending.catch(() => {});
    await started;
    await clock.advance(9_999);
    await clock.advance(1);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).kind).toBe('download');
    expect((error as TimeoutError).timeoutMs).toBe(10_000);
    expect((error as Error).message).toMatch(/did not finish within totalTimeout \(10000 ms\)/);
    expect(await readdir(dir)).toEqual([]); // no validator: nothing to resume from
    expect(clock.pending()).toEqual([]);
  });

  it('defaults to an hour, and refuses a bad value before any request', async () => {
    const none = await serve((_req, res) => res.writeHead(500).end());
    await expect(
      client(none.url).download(`${none.url}/f.mp4`, join(dir, 'x.mp4'), { totalTimeout: -1 }),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(none.requests).toHaveLength(0);
  });
});

describe('bounded reads (#13 items 7, 8)', () => {
  it('a CDN error with an endless body: DownloadError with an excerpt, the connection released', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const cdn = await serve((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const api = await serve((_req, res) => res.writeHead(404).end());
    const error = await client(api.url)
      .download(`${cdn.url}/f.mp4`, join(dir, 'e.mp4'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).httpStatus).toBe(500);
    expect((error as Error).message).toMatch(/HTTP 500: x{200}\./);
    await Promise.all(cdn.closed);
  });

  it('a compressed file is refused before a byte is written, on a CDN and on the API', async () => {
    const gz = gzipSync(FILE);
    const handler = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, {
        'content-type': 'video/mp4',
        'content-encoding': 'gzip',
        'content-length': String(gz.length),
      });
      res.end(gz);
    };
    const cdn = await serve(handler);
    const api = await serve(handler);
    for (const url of [`${cdn.url}/f.mp4`, `${api.url}/files/f.mp4`]) {
      const error = await client(api.url)
        .download(url, join(dir, 'gz.mp4'))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect((error as Error).message).toMatch(/compressed \(Content-Encoding: gzip\)/);
      expect(await readdir(dir)).toEqual([]);
    }
    expect(cdn.requests[0]?.headers['accept-encoding']).toBe('identity');
    expect(api.requests[0]?.headers['accept-encoding']).toBe('identity');
  });
});

describe('the target is checked before any request (#13 item 12)', () => {
  it('a folder as the target: ConfigError naming a file path to use instead', async () => {
    const cdn = await serve((_req, res) => res.end(FILE));
    const api = await serve((_req, res) => res.writeHead(404).end());
    const target = join(dir, 'a-folder.mp4');
    await mkdir(target);
    const error = await client(api.url)
      .download(`${cdn.url}/f.mp4`, target)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/it is a folder\. Pass a file path/);
    expect(cdn.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual(['a-folder.mp4']);
  });

  it('a name of 255 bytes downloads: the part and sidecar names are shortened, never longer than 255 bytes', async () => {
    const cdn = await serve((_req, res) => {
      res.writeHead(200, {
        'content-type': 'video/mp4',
        'content-length': String(FILE.length),
        etag: '"v1"',
      });
      res.write(FILE.subarray(0, 100_000), () => res.socket?.destroy());
    });
    // Multi-byte characters: the limit is in bytes.
    const name = `${'é'.repeat(125)}.mp4`;
    expect(Buffer.byteLength(name)).toBe(254);
    const target = join(dir, name);
    await writeFile(target, 'old');
    const api = await serve((_req, res) => res.writeHead(404).end());
    const error = await client(api.url)
      .download(`${cdn.url}/f.mp4`, target)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    const left = (await readdir(dir)).filter((n) => n !== name);
    expect(left).toHaveLength(2);
    for (const n of left) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
    expect(left.some((n) => n.endsWith('.part'))).toBe(true);
    expect(left.some((n) => n.endsWith('.part.json'))).toBe(true);
  });

  it('resume: false uses a temporary name within 255 bytes as well', async () => {
    const cdn = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(FILE.length) });
      res.end(FILE);
    });
    const name = `${'v'.repeat(251)}.mp4`;
    const target = join(dir, name);
    const api = await serve((_req, res) => res.writeHead(404).end());
    const result = await client(api.url).download(`${cdn.url}/f.mp4`, target, { resume: false });
    expect(result.bytes).toBe(FILE.length);
    expect(await readdir(dir)).toEqual([name]);
  });
});
