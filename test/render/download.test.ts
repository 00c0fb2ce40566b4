import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  DownloadError,
  NemoClient,
  TimeoutError,
  type TransferProgress,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

const TOKEN = 'nmv_usr_download_test_token';
const PAYLOAD = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 31 + 7) % 251);

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

type Route = (res: ServerResponse, seen: Seen) => void;

async function listen(routes: Record<string, Route>, log: Seen[]) {
  const open = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const seen = { url: req.url ?? '', headers: req.headers };
    log.push(seen);
    const route = routes[(req.url ?? '').split('?')[0] ?? ''];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here');
      return;
    }
    route(res, seen);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function sendAll(res: ServerResponse, withLength = true) {
  res.writeHead(200, {
    'content-type': 'video/mp4',
    ...(withLength ? { 'content-length': String(PAYLOAD.byteLength) } : {}),
  });
  // several writes, so the client sees several chunks
  const step = 256 * 1024;
  for (let i = 0; i < PAYLOAD.byteLength; i += step) res.write(PAYLOAD.subarray(i, i + step));
  res.end();
}

/** The socket of the last `/renders/corrupt-gzip.mp4` response, to see the client release it. */
let corruptSocketClosed: Promise<void> | undefined;

const apiLog: Seen[] = [];
const cdnLog: Seen[] = [];
let api: Awaited<ReturnType<typeof listen>>;
let cdn: Awaited<ReturnType<typeof listen>>;
let dir: string;

beforeAll(async () => {
  cdn = await listen(
    {
      '/renders/ok.mp4': (res) => sendAll(res),
      '/renders/chunked.mp4': (res) => sendAll(res, false),
      '/renders/cut.mp4': (res) => {
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-length': String(PAYLOAD.byteLength),
        });
        res.write(PAYLOAD.subarray(0, 1024 * 1024), () => {
          setTimeout(() => res.socket?.destroy(), 20);
        });
      },
      '/renders/stall.mp4': (res) => {
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-length': String(PAYLOAD.byteLength),
        });
        res.write(PAYLOAD.subarray(0, 512 * 1024));
      },
      '/renders/gzip.mp4': (res) => {
        const body = gzipSync(PAYLOAD);
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-encoding': 'gzip',
          'content-length': String(body.byteLength),
        });
        res.end(body);
      },
      '/renders/gzip-br.mp4': (res) => {
        // "gzip, br": gzip applied first, then br; the client undoes br first.
        const body = brotliCompressSync(gzipSync(PAYLOAD));
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-encoding': 'gzip, br',
          'content-length': String(body.byteLength),
        });
        res.end(body);
      },
      '/renders/zstd.mp4': (res) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-encoding': 'zstd' });
        res.end(PAYLOAD.subarray(0, 1000));
      },
      '/renders/reset-gzip.mp4': (res) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-encoding': 'gzip' });
        res.flushHeaders();
        setImmediate(() => res.socket?.destroy());
      },
      '/renders/corrupt-gzip.mp4': (res) => {
        // Not gzip at all, and the connection stays open: only the client can end it.
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-encoding': 'gzip' });
        const socket = res.socket;
        corruptSocketClosed = new Promise((resolve) => socket?.once('close', () => resolve()));
        res.write(PAYLOAD.subarray(0, 64 * 1024));
      },
      '/renders/broken.mp4': (res) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('cdn exploded');
      },
    },
    cdnLog,
  );
  api = await listen(
    {
      '/api/render/proxy/render_1/download': (res, seen) => {
        if (seen.headers.authorization !== `Bearer ${TOKEN}`) {
          res.writeHead(401).end();
          return;
        }
        sendAll(res);
      },
      '/api/render/proxy/render_3/download': (res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 0, data: { url: `${cdn.url}/renders/ok.mp4` } }));
      },
      '/api/render/proxy/render_2/download': (res) => {
        res.writeHead(302, { location: `${cdn.url}/renders/ok.mp4?sig=abc` }).end();
      },
    },
    apiLog,
  );
});

afterAll(async () => {
  await Promise.all([api.close(), cdn.close()]);
});

beforeEach(async () => {
  apiLog.length = 0;
  cdnLog.length = 0;
  dir = await mkdtemp(join(tmpdir(), 'nemo-dl-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function client(extra: ConstructorParameters<typeof NemoClient>[0] = {}) {
  return new NemoClient({
    token: TOKEN,
    baseUrl: api.url,
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
    ...extra,
  });
}

/** Compare bytes without a slow element-by-element diff. */
function expectPayload(bytes: Uint8Array) {
  expect(bytes.byteLength).toBe(PAYLOAD.byteLength);
  expect(Buffer.compare(Buffer.from(bytes), Buffer.from(PAYLOAD))).toBe(0);
}

function expectNoCredentials(log: Seen[]) {
  expect(log.length).toBeGreaterThan(0);
  for (const { headers } of log) {
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-skill-source']).toBeUndefined();
    expect(headers['x-skill-version']).toBeUndefined();
    expect(headers['x-skill-platform']).toBeUndefined();
  }
}

describe('client.download()', () => {
  it('streams a CDN result to disk without sending credentials there', async () => {
    const target = join(dir, 'out.mp4');
    const result = await client().download(`${cdn.url}/renders/ok.mp4`, target);
    expect(result).toEqual({
      path: target,
      bytes: PAYLOAD.byteLength,
      transferredBytes: PAYLOAD.byteLength,
      url: `${cdn.url}/renders/ok.mp4`,
    });
    expectPayload(await readFile(target));
    expect(await readdir(dir)).toEqual(['out.mp4']); // no temp file left
    expectNoCredentials(cdnLog);
    expect(apiLog).toEqual([]);
  });

  it('reports monotonic progress ending at 100 %, with and without Content-Length', async () => {
    for (const name of ['ok.mp4', 'chunked.mp4']) {
      const events: TransferProgress[] = [];
      await client().download(`${cdn.url}/renders/${name}`, join(dir, name), {
        onProgress: (p) => events.push(p),
      });
      expect(events.length).toBeGreaterThan(1);
      const percents = events.map((e) => e.percent ?? -1);
      const bytes = events.map((e) => e.loadedBytes);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      if (name === 'ok.mp4') expect(new Set(percents).size).toBe(percents.length);
      else expect(percents.slice(0, -1).every((p) => p === -1)).toBe(true); // unknown until done
      expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
      expect(events.at(-1)).toEqual({
        loadedBytes: PAYLOAD.byteLength,
        totalBytes: PAYLOAD.byteLength,
        percent: 100,
      });
      if (name === 'ok.mp4') expect(events[0]?.totalBytes).toBe(PAYLOAD.byteLength);
      else expect(events[0]?.totalBytes).toBeUndefined();
    }
  });

  it('sends the bearer to the API, but not across its redirect to the CDN', async () => {
    const target = join(dir, 'redirected.mp4');
    const result = await client().download(`${api.url}/api/render/proxy/render_2/download`, target);
    expectPayload(await readFile(target));
    expect(result.url).toBe(`${cdn.url}/renders/ok.mp4?sig=abc`);
    expect(apiLog[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(apiLog[0]?.headers['x-skill-source']).toBe('nemovideo');
    expectNoCredentials(cdnLog);
  });

  it('follows a JSON answer naming the file URL from the API download endpoint', async () => {
    const target = join(dir, 'json.mp4');
    const result = await client().download(`${api.url}/api/render/proxy/render_3/download`, target);
    expectPayload(await readFile(target));
    expect(result.url).toBe(`${cdn.url}/renders/ok.mp4`);
    expect(apiLog[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expectNoCredentials(cdnLog);
  });

  it('leaves no file when the connection is cut mid-way', async () => {
    const target = join(dir, 'cut.mp4');
    const error = await client()
      .download(`${cdn.url}/renders/cut.mp4`, target)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves an existing file untouched when the download fails, and replaces it when it succeeds', async () => {
    const target = join(dir, 'keep.mp4');
    await writeFile(target, 'previous');
    await expect(client().download(`${cdn.url}/renders/cut.mp4`, target)).rejects.toBeInstanceOf(
      DownloadError,
    );
    expect(await readFile(target, 'utf8')).toBe('previous');
    expect(await readdir(dir)).toEqual(['keep.mp4']);
    await client().download(`${cdn.url}/renders/ok.mp4`, target);
    expect((await readFile(target)).byteLength).toBe(PAYLOAD.byteLength);
  });

  it('falls back to the API download endpoint (with the bearer) when the result URL fails', async () => {
    for (const name of ['cut.mp4', 'broken.mp4', 'missing.mp4']) {
      apiLog.length = 0;
      const target = join(dir, `fb-${name}`);
      const events: TransferProgress[] = [];
      const result = await client().download(`${cdn.url}/renders/${name}`, target, {
        renderId: 'render_1',
        onProgress: (p) => events.push(p),
      });
      expect(result.url).toBe(`${api.url}/api/render/proxy/render_1/download`);
      expectPayload(await readFile(target));
      // A 404 from the CDN may be an expired URL: the render is polled for a fresh one first.
      const polls = apiLog.filter((s) => s.url === '/api/render/proxy/lambda/render_1');
      expect(polls).toHaveLength(name === 'missing.mp4' ? 1 : 0);
      const downloads = apiLog.filter((s) => s.url.endsWith('/download'));
      expect(downloads.map((s) => s.headers.authorization)).toEqual([`Bearer ${TOKEN}`]);
      expect(downloads[0]?.headers['accept-encoding']).toBe('identity');
      const percents = events.map((e) => e.percent ?? -1);
      expect(percents).toEqual([...percents].sort((a, b) => a - b));
      expect(events.at(-1)?.percent).toBe(100);
    }
    expect((await readdir(dir)).sort()).toEqual(['fb-broken.mp4', 'fb-cut.mp4', 'fb-missing.mp4']);
    expectNoCredentials(cdnLog);
  });

  it('names the HTTP failure when there is no fallback', async () => {
    const error = await client()
      .download(`${cdn.url}/renders/broken.mp4`, join(dir, 'x.mp4'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/HTTP 500: cdn exploded/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops on abort mid-download and leaves nothing behind', async () => {
    const controller = new AbortController();
    const events: TransferProgress[] = [];
    const clock = new ManualClock();
    const pending = client({ clock }).download(`${cdn.url}/renders/stall.mp4`, join(dir, 'a.mp4'), {
      signal: controller.signal,
      idleTimeout: 5000,
      onProgress: (p) => {
        events.push(p);
        // Progress comes per whole percent: abort at the first report with bytes in hand.
        if (p.loadedBytes > 0) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(events.at(-1)?.loadedBytes).toBeGreaterThan(0);
    expect(events.at(-1)?.loadedBytes).toBeLessThanOrEqual(512 * 1024);
    expect(await readdir(dir)).toEqual([]);
    expect(clock.pending()).toEqual([]); // the stall watchdog is gone too
  });

  it('abandons a stalled download after idleTimeout (injected clock)', async () => {
    const clock = new ManualClock();
    let received = 0;
    let someBytes: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      someBytes = resolve;
    });
    const pending = client({ clock }).download(`${cdn.url}/renders/stall.mp4`, join(dir, 's.mp4'), {
      idleTimeout: 5000,
      onProgress: (p) => {
        // Progress is reported per whole percent, so it need not show every byte received.
        received = p.loadedBytes;
        if (p.loadedBytes > 0) someBytes();
      },
    });
    let settled = false;
    void pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await Promise.race([
      started,
      pending.then(() => Promise.reject(new Error('the download finished before the stall'))),
    ]);
    // The server sent 512 KB and went silent. Late chunks may still re-arm the watchdog, so move
    // the clock until it fires.
    for (let i = 0; i < 200 && !settled; i++) {
      await clock.advance(5000);
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(512 * 1024);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).kind).toBe('download');
    expect(await readdir(dir)).toEqual([]);
    expect(clock.pending()).toEqual([]);
  });

  it('lets the runtime follow a CDN redirect it hides (browsers), since no credentials are involved', async () => {
    const modes: (RequestRedirect | undefined)[] = [];
    const browserLikeFetch: typeof fetch = async (input, init) => {
      modes.push(init?.redirect);
      const real = await fetch(input, init);
      if (init?.redirect !== 'manual') return real;
      // what a browser gives for a manual redirect: an opaque response without status or headers
      return new Proxy(real, {
        get: (target, key) =>
          key === 'type'
            ? 'opaqueredirect'
            : key === 'status'
              ? 0
              : key === 'ok'
                ? false
                : Reflect.get(target, key),
      });
    };
    const target = join(dir, 'browser.mp4');
    await client({ fetch: browserLikeFetch }).download(`${cdn.url}/renders/ok.mp4`, target);
    expectPayload(await readFile(target));
    expect(modes).toEqual(['manual', 'follow']);
    expectNoCredentials(cdnLog);
  });

  it('writes into a WritableStream', async () => {
    const chunks: Uint8Array[] = [];
    let closed = false;
    const sink = new WritableStream<Uint8Array>({
      write: (chunk) => {
        chunks.push(chunk);
      },
      close: () => {
        closed = true;
      },
    });
    const result = await client().download(`${cdn.url}/renders/ok.mp4`, sink);
    expect(result).toEqual({
      bytes: PAYLOAD.byteLength,
      transferredBytes: PAYLOAD.byteLength,
      url: `${cdn.url}/renders/ok.mp4`,
    });
    expect(closed).toBe(true);
    expectPayload(Buffer.concat(chunks));
  });

  it('aborts a WritableStream target on failure', async () => {
    let aborted: unknown;
    const sink = new WritableStream<Uint8Array>({
      abort: (reason) => {
        aborted = reason;
      },
    });
    await expect(client().download(`${cdn.url}/renders/cut.mp4`, sink)).rejects.toBeInstanceOf(
      DownloadError,
    );
    expect(aborted).toBeInstanceOf(DownloadError);
  });

  it('rejects a bad URL, target or missing folder before any request', async () => {
    await expect(client().download('ftp://x/y', join(dir, 'a'))).rejects.toThrow(/http\(s\)/);
    await expect(
      client().download(`${cdn.url}/renders/ok.mp4`, join(dir, 'no', 'a')),
    ).rejects.toThrow(/does not exist/);
    expect(cdnLog).toEqual([]);
  });
});

describe('client.download() transports', () => {
  const DISPATCHER = Symbol.for('undici.globalDispatcher.1');
  const globals = globalThis as unknown as Record<symbol, unknown>;

  it('on Node, fetches a CDN file with node:http, not fetch', async () => {
    const spy = vi.spyOn(globalThis, 'fetch');
    try {
      const target = join(dir, 'node-http.mp4');
      await client().download(`${cdn.url}/renders/ok.mp4`, target);
      expectPayload(await readFile(target));
      expect(spy).not.toHaveBeenCalled();
      expectNoCredentials(cdnLog);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a compressed body (the SDK asked for identity) before writing a byte: gzip, "gzip, br", zstd', async () => {
    for (const name of ['gzip.mp4', 'gzip-br.mp4', 'zstd.mp4']) {
      const target = join(dir, name);
      const error = await client()
        .download(`${cdn.url}/renders/${name}`, target)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect((error as Error).message).toMatch(
        /compressed \(Content-Encoding: (gzip|gzip, br|zstd)\)/,
      );
      expect(await readdir(dir)).toEqual([]);
    }
    expect(cdnLog.every((s) => s.headers['accept-encoding'] === 'identity')).toBe(true);
  });

  it('fails at once when a compressed response is reset right after its headers', async () => {
    const target = join(dir, 'reset.mp4');
    // No idle watchdog: only the reset itself can end this download.
    await expect(
      client().download(`${cdn.url}/renders/reset-gzip.mp4`, target, { idleTimeout: 0 }),
    ).rejects.toBeInstanceOf(DownloadError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('releases the connection when a compressed body is refused', async () => {
    const target = join(dir, 'corrupt.mp4');
    await expect(
      client().download(`${cdn.url}/renders/corrupt-gzip.mp4`, target),
    ).rejects.toBeInstanceOf(DownloadError);
    await corruptSocketClosed; // hangs (test timeout) if the client kept the socket open
    expect(await readdir(dir)).toEqual([]);
  });

  it('goes through a user fetch when one is given', async () => {
    const seen: string[] = [];
    const userFetch: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    const target = join(dir, 'user-fetch.mp4');
    await client({ fetch: userFetch }).download(`${cdn.url}/renders/ok.mp4`, target);
    expectPayload(await readFile(target));
    expect(seen).toEqual([`${cdn.url}/renders/ok.mp4`]);
    expect(cdnLog[0]?.headers['accept-encoding']).toBe('identity');
    expectNoCredentials(cdnLog);
  });

  it('uses fetch when a proxy or mock dispatcher is installed for it', async () => {
    const previous = globals[DISPATCHER];
    class ProxyAgent {}
    globals[DISPATCHER] = new ProxyAgent();
    const spy = vi
      .spyOn(globalThis, 'fetch')
      .mockImplementation(async () => new Response(PAYLOAD, { status: 200 }));
    try {
      const target = join(dir, 'proxied.mp4');
      await client().download(`${cdn.url}/renders/ok.mp4`, target);
      expectPayload(await readFile(target));
      expect(spy).toHaveBeenCalledTimes(1);
      expect(cdnLog).toEqual([]); // the (mocked) proxy answered, not the CDN directly
    } finally {
      spy.mockRestore();
      globals[DISPATCHER] = previous;
    }
  });

  for (const via of ['node:http', 'a user fetch'] as const) {
    const options =
      via === 'node:http' ? {} : { fetch: (...a: Parameters<typeof fetch>) => fetch(...a) };

    it(`through ${via}: a cut connection leaves no file and a typed error`, async () => {
      const target = join(dir, 'cut.mp4');
      await expect(
        client(options).download(`${cdn.url}/renders/cut.mp4`, target),
      ).rejects.toBeInstanceOf(DownloadError);
      expect(await readdir(dir)).toEqual([]);
    });

    it(`through ${via}: a body without Content-Length is written whole, in order`, async () => {
      const target = join(dir, 'chunked.mp4');
      const result = await client(options).download(`${cdn.url}/renders/chunked.mp4`, target);
      expect(result.bytes).toBe(PAYLOAD.byteLength);
      expectPayload(await readFile(target));
    });

    it(`through ${via}: an abort mid-body stops and leaves nothing`, async () => {
      const controller = new AbortController();
      const target = join(dir, 'aborted.mp4');
      const pending = client(options).download(`${cdn.url}/renders/stall.mp4`, target, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.loadedBytes > 0) controller.abort();
        },
      });
      await expect(pending).rejects.toBeInstanceOf(AbortError);
      expect(await readdir(dir)).toEqual([]);
    });
  }
});
