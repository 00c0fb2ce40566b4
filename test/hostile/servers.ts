/**
 * Hostile `node:http` servers on loopback (port 0), written from the wire
 * contract (/work/shared/protocol.md), not from the SDK or the emulator. Used
 * by the tests in this folder and by the child-process probes (no vitest here).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip } from 'node:zlib';

/** A request as the server saw it (body kept up to 1 MiB). */
export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse, raw: IncomingMessage) => unknown;

export interface Hostile {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: Recorded[];
  /** Bytes written by {@link pump} / {@link trickle} on this server, and when last. */
  stats: { sent: number; lastWriteAt: number; finished: boolean };
  count(method: string, path?: string | RegExp): number;
  close(): Promise<void>;
}

const open = new Set<Hostile>();

/** Close every server still open (call from afterEach). */
export async function closeAll(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((s) => s.close()));
}

const statsOf = new WeakMap<ServerResponse, Hostile['stats']>();

/** Start a server on 127.0.0.1, port 0. */
export async function hostile(handler: Handler): Promise<Hostile> {
  const requests: Recorded[] = [];
  const stats = { sent: 0, lastWriteAt: Date.now(), finished: false };
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    raw.on('data', (chunk: Buffer) => {
      if (kept < 1 << 20) chunks.push(chunk);
      kept += chunk.length;
    });
    raw.on('end', () => {
      const url = new URL(raw.url ?? '/', 'http://x');
      const recorded: Recorded = {
        method: raw.method ?? 'GET',
        path: url.pathname,
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      statsOf.set(res, stats);
      Promise.resolve()
        .then(() => handler(recorded, res, raw))
        .catch((error: unknown) => {
          if (!res.headersSent) {
            res.writeHead(599, { 'content-type': 'text/plain' });
            res.end(`hostile server handler failed: ${String(error)}`);
          } else res.destroy();
        });
    });
  });
  // A slow reader must not lose the end of a body to the keep-alive timer.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const self: Hostile = {
    origin: `http://127.0.0.1:${port}`,
    requests,
    stats,
    count(method, path) {
      return requests.filter(
        (r) =>
          r.method === method &&
          (path === undefined || (typeof path === 'string' ? r.path === path : path.test(r.path))),
      ).length;
    },
    close() {
      open.delete(self);
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
  open.add(self);
  return self;
}

// ── answers ──

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The success envelope of protocol §1.1. */
export const ok = (data: unknown) => ({ code: 0, data });

/** Never answer (the socket stays open until the server closes). */
export const hang: Handler = () => new Promise<void>(() => {});

/**
 * Write `prefix`, then `unit` over and over up to `maxBytes` in all (or until
 * the client goes away), then `suffix`, honouring backpressure: the server
 * itself never buffers more than a chunk. Resolves with the bytes written.
 */
export async function pump(
  res: ServerResponse,
  unit: Buffer | string,
  maxBytes: number,
  prefix: Buffer | string = '',
  suffix: Buffer | string = '',
): Promise<number> {
  const stats = statsOf.get(res);
  const chunk = typeof unit === 'string' ? Buffer.from(unit) : unit;
  const size = 1 << 20;
  const block = Buffer.alloc(Math.max(chunk.length, size - (size % chunk.length)));
  for (let i = 0; i < block.length; i += chunk.length) chunk.copy(block, i);
  let sent = 0;
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  const write = async (data: Buffer | string) => {
    if (gone || data.length === 0) return;
    const more = res.write(data);
    sent += data.length;
    if (stats) {
      stats.sent += data.length;
      stats.lastWriteAt = Date.now();
    }
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  };
  await write(prefix);
  while (!gone && sent < maxBytes) {
    await write(sent + block.length <= maxBytes ? block : block.subarray(0, maxBytes - sent));
  }
  await write(suffix);
  if (!gone) res.end();
  if (stats) stats.finished = true;
  return sent;
}

/** Write `byte` every `everyMs` until the client goes away or `maxTicks` ran out. */
export async function trickle(
  res: ServerResponse,
  everyMs: number,
  maxTicks = Number.POSITIVE_INFINITY,
): Promise<number> {
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  let sent = 0;
  while (!gone && sent < maxTicks) {
    res.write('x');
    sent += 1;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  if (!gone) res.end();
  return sent;
}

/** gzip of `prefix + unit × count + suffix`, built chunk by chunk (small memory). */
export async function gzipOf(
  unit: string,
  count: number,
  prefix = '',
  suffix = '',
): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const per = Math.max(1, Math.floor((1 << 20) / Math.max(1, unit.length)));
  const block = Buffer.from(unit.repeat(per));
  const write = (data: Buffer | string) =>
    gzip.write(data) ? undefined : new Promise<void>((r) => gzip.once('drain', r));
  await write(prefix);
  let left = unit === '' ? 0 : count;
  while (left > 0) {
    const n = Math.min(per, left);
    await write(n === per ? block : unit.repeat(n));
    left -= n;
  }
  await write(suffix);
  gzip.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * A gzip stream that inflates to `prefix + unit × count + suffix`, made of
 * concatenated gzip members (valid gzip; every decoder must read them all):
 * one member for a 16 MiB block, repeated, so a 1 GiB bomb costs milliseconds.
 */
export async function gzipBomb(
  unit: string,
  count: number,
  prefix = '',
  suffix = '',
): Promise<Buffer> {
  const per = Math.max(1, Math.floor((16 << 20) / unit.length));
  const block = await gzipOf(unit, per);
  const parts = [await gzipOf('', 0, prefix)];
  let left = count;
  for (; left >= per; left -= per) parts.push(block);
  if (left > 0) parts.push(await gzipOf(unit, left));
  parts.push(await gzipOf('', 0, '', suffix));
  return Buffer.concat(parts);
}

// ── a backend that follows the contract, each route overridable ──

export const SESSION_ID = '5529798706024415232';

/** A draft that is ready to export (one video track with one segment). */
export const READY_DRAFT = {
  t: [{ tt: 0, sg: [{ id: 'seg1', d: 3000, src: 'https://cdn.example/a.mp4' }] }],
  d: 3000,
  m: { title: 'hostile', width: 1080, height: 1920 },
};

export function stateBody(draft: unknown = READY_DRAFT) {
  return ok({
    session_id: SESSION_ID,
    state: { draft, video_infos: [], generated_media: [] },
  });
}

export type RouteName =
  | 'token'
  | 'createSession'
  | 'credits'
  | 'state'
  | 'upload'
  | 'runSse'
  | 'renderStart'
  | 'renderPoll'
  | 'renderDownload'
  | 'file';

const ROUTES: ReadonlyArray<[RouteName, string, RegExp]> = [
  ['token', 'POST', /^\/api\/auth\/anonymous-token$/],
  ['createSession', 'POST', /^\/api\/tasks\/me\/with-session\/nemo_agent$/],
  ['credits', 'GET', /^\/api\/credits\/balance\/simple$/],
  ['state', 'GET', /^\/api\/state\/nemo_agent\/me\/[^/]+\/latest$/],
  ['upload', 'POST', /^\/api\/upload-video\/nemo_agent\/me\/[^/]+$/],
  ['runSse', 'POST', /^\/run_sse$/],
  ['renderStart', 'POST', /^\/api\/render\/proxy\/lambda$/],
  ['renderPoll', 'GET', /^\/api\/render\/proxy\/lambda\/[^/]+$/],
  ['renderDownload', 'GET', /^\/api\/render\/proxy\/[^/]+\/download$/],
  ['file', 'GET', /^\/files\/.+$/],
];

/** Paths of the routes above, for counting requests. */
export const PATHS = Object.fromEntries(ROUTES.map(([name, , re]) => [name, re])) as Record<
  RouteName,
  RegExp
>;

/** A short MP4-ish payload served by the default `file` route. */
export const FILE_BYTES = Buffer.from('\0\0\0\x18ftypmp42hostile-test-file-bytes');

/**
 * A contract-following backend on one origin; `overrides` replace routes.
 * The render result URL points at `/files/out.mp4` on the same server
 * unless the poll route is overridden.
 */
export function backend(overrides: Partial<Record<RouteName, Handler>> = {}): Handler {
  const defaults: Record<RouteName, Handler> = {
    token: (_req, res) =>
      sendJson(res, 200, ok({ token: 'usr-anon-granted-token', credits: 100, user_id: 'anon_1' })),
    createSession: (_req, res) =>
      sendJson(res, 200, ok({ session_id: SESSION_ID, task_id: 'task_1' })),
    credits: (_req, res) => sendJson(res, 200, ok({ available: 100, frozen: 0, total: 100 })),
    state: (_req, res) => sendJson(res, 200, stateBody()),
    upload: (_req, res) =>
      sendJson(
        res,
        200,
        ok({
          files: [{ filename: 'a.mp4', file_type: 'video', cdn_url: 'https://cdn.example/a.mp4' }],
        }),
      ),
    runSse: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        `data: ${JSON.stringify({ author: 'nemo_agent', content: { role: 'model', parts: [{ text: 'done' }] } })}\n\n`,
      );
    },
    renderStart: (req, res) => {
      const id = (JSON.parse(req.body || '{}') as { id?: string }).id;
      sendJson(res, 200, { success: true, data: { id, status: 'pending' } });
    },
    renderPoll: (req, res) =>
      sendJson(res, 200, {
        status: 'completed',
        progress: 100,
        output: { url: `http://${req.headers.host}/files/out.mp4` },
      }),
    renderDownload: (_req, res) => sendJson(res, 404, { code: 404, message: 'not found' }),
    file: (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': FILE_BYTES.length });
      res.end(FILE_BYTES);
    },
  };
  return (req, res, raw) => {
    for (const [name, method, re] of ROUTES) {
      if (req.method === method && re.test(req.path)) {
        return (overrides[name] ?? defaults[name])(req, res, raw);
      }
    }
    sendJson(res, 404, { code: 404, message: `no route ${req.method} ${req.path}` });
  };
}

/** One SSE text event (an ADK model event). */
export function sseText(text: string): string {
  return `data: ${JSON.stringify({ author: 'nemo_agent', content: { role: 'model', parts: [{ text }] } })}\n\n`;
}
