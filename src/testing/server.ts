/**
 * `listen()`: serve the emulator over HTTP on loopback with node:http — the API on one port,
 * the CDN on another — with CORS (preflight included). Bodies stream in both directions:
 * an upload is handed to the emulator as a ReadableStream with backpressure (never
 * buffered), and response bodies are written chunk by chunk as the socket drains.
 * `node:http` is imported lazily so that the emulator core stays loadable in a browser.
 *
 * @module
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { EmulatorServer, ListenOptions } from './types.js';

/** What the server needs from the emulator. */
export interface Servable {
  handleApi(request: Request): Promise<Response>;
  handleCdn(request: Request): Promise<Response>;
}

/** Hooks to point the emulator's CDN URLs at the CDN server while it runs. */
export interface ServerHooks {
  attach(cdnUrl: string): void;
  detach(cdnUrl: string): void;
}

const EXPOSED = [
  'Retry-After',
  'Content-Length',
  'Content-Range',
  'Content-Disposition',
  'Accept-Ranges',
  'ETag',
  'Last-Modified',
].join(', ');
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'Range',
  'If-Range',
  'If-None-Match',
  'X-Client-Id',
  'X-Skill-Source',
  'X-Skill-Version',
  'X-Skill-Platform',
].join(', ');
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);

function corsHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': EXPOSED,
  };
  if (req.method === 'OPTIONS') {
    headers['access-control-allow-methods'] = 'GET, POST, HEAD, DELETE, OPTIONS';
    headers['access-control-allow-headers'] =
      req.headers['access-control-request-headers'] ?? ALLOWED_HEADERS;
    headers['access-control-max-age'] = '600';
  }
  return headers;
}

/** The request body as a web stream with backpressure; `discard()` drains the rest unread. */
function requestBody(req: IncomingMessage): {
  stream: ReadableStream<Uint8Array>;
  discard(): void;
} {
  let discarding = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const safe = (fn: () => void) => {
    try {
      fn();
    } catch {
      // stream already closed or errored
    }
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        req.on('data', (chunk: Buffer) => {
          if (discarding) return;
          safe(() => c.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
          if ((c.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => safe(() => c.close()));
        req.on('close', () => {
          if (!req.complete) safe(() => c.error(new Error('client closed the request')));
        });
        req.on('error', (error) => safe(() => c.error(error)));
      },
      pull() {
        req.resume();
      },
      cancel() {
        discarding = true;
        req.resume();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1024 * 1024 }),
  );
  return {
    stream,
    discard() {
      discarding = true;
      safe(() => controller.close());
      req.resume();
    },
  };
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
  handler: (request: Request) => Promise<Response>,
): Promise<void> {
  const cors = corsHeaders(req);
  if (req.method === 'OPTIONS') {
    res.writeHead(204, cors);
    res.end();
    return;
  }
  const method = req.method ?? 'GET';
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.append(name, req.rawHeaders[i + 1] ?? '');
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? requestBody(req) : undefined;
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: abort.signal };
  if (body) {
    init.body = body.stream;
    init.duplex = 'half';
  }
  let response: Response;
  try {
    response = await handler(new Request(new URL(req.url ?? '/', origin), init));
  } catch (error) {
    response = new Response(
      JSON.stringify({
        message: `emulator server error: ${error instanceof Error ? error.message : String(error)}`,
      }),
      { status: 500, headers: { 'content-type': 'application/json' } },
    );
  }
  const out: Record<string, string> = { ...cors };
  response.headers.forEach((value, key) => {
    out[key] = value;
  });
  res.writeHead(response.status, out);
  // Whatever the handler did not read of the upload is drained, never buffered.
  if (body && !body.stream.locked) body.discard();
  if (!response.body || method === 'HEAD') {
    res.end();
    return;
  }
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const reader = response.body.getReader();
  res.on('close', () => {
    reader.cancel().catch(() => undefined);
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!res.write(value)) await waitDrain(res);
    }
    res.end();
  } catch {
    // A cut stream (fault injection) or a broken body: drop the connection.
    res.destroy();
  }
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Start the API and CDN servers. */
export async function startServer(
  emulator: Servable,
  options: ListenOptions,
  hooks: ServerHooks,
): Promise<EmulatorServer> {
  const http = await import('node:http');
  const host = options.host ?? '127.0.0.1';
  let apiOrigin = '';
  let cdnOrigin = '';
  const api = http.createServer((req, res) => {
    void serve(req, res, apiOrigin, (r) => emulator.handleApi(r));
  });
  const cdn = http.createServer((req, res) => {
    void serve(req, res, cdnOrigin, (r) => emulator.handleCdn(r));
  });
  // Uploads may take a while; node's default request timeout (5 min) is kept.
  const port = await listenOn(api, options.port ?? 0, host);
  let cdnPort: number;
  try {
    cdnPort = await listenOn(cdn, options.cdnPort ?? 0, host);
  } catch (error) {
    await closeServer(api);
    throw error;
  }
  apiOrigin = `http://${urlHost(host)}:${port}`;
  cdnOrigin = `http://${urlHost(host)}:${cdnPort}`;
  hooks.attach(cdnOrigin);
  let closed: Promise<void> | undefined;
  return {
    url: apiOrigin,
    cdnUrl: cdnOrigin,
    port,
    cdnPort,
    close() {
      closed ??= (async () => {
        hooks.detach(cdnOrigin);
        await Promise.all([closeServer(api), closeServer(cdn)]);
      })();
      return closed;
    },
  };
}
