/**
 * Uploads on Node go through node:http with file chunks read into two reused
 * buffers (#14.6: no allocation per chunk). The bytes on the wire must be
 * exactly those of the fetch path, for any file size around the chunk size,
 * with the file read while the previous chunk is being written.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { NemoClient, UploadError } from '../../src/index.js';

const CHUNK = 1024 * 1024;

interface Received {
  body: Buffer;
  headers: IncomingMessage['headers'];
}

let url = '';
const received: Received[] = [];
let onRequest: ((req: IncomingMessage) => void) | undefined;
const server = createServer((req, res) => {
  onRequest?.(req);
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    received.push({ body: Buffer.concat(parts), headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        code: 0,
        data: {
          files: [{ filename: 'f.mp4', file_type: 'video', cdn_url: 'https://cdn.x/f.mp4' }],
        },
      }),
    );
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-upload-reuse-'));
  received.length = 0;
  onRequest = undefined;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fetchCalls = 0;

function client(viaFetch: boolean) {
  return new NemoClient({
    baseUrl: url,
    token: 'nmv_usr_reuse_test',
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
    // A user fetch keeps every request on fetch: the baseline to compare with.
    ...(viaFetch
      ? {
          fetch: (...args: Parameters<typeof fetch>) => {
            fetchCalls++;
            return fetch(...args);
          },
        }
      : {}),
  });
}

/** Distinct bytes per chunk, so a chunk written from a reused buffer too late or too early shows. */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (Math.floor(i / 4096) * 31 + i + seed) % 251;
  return out;
}

/** The file's bytes inside a one-part multipart body. */
function filePart(body: Buffer): Buffer {
  const start = body.indexOf('\r\n\r\n') + 4;
  const end = body.lastIndexOf('\r\n--');
  return body.subarray(start, end);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('uploads from a path on Node: node:http, two reused buffers', () => {
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345]) {
    it(`${size} bytes: the same body as the fetch path, and the file exactly`, async () => {
      const file = join(dir, 'f.mp4');
      const bytes = pattern(size, size % 7);
      await writeFile(file, bytes);
      const spy = vi.spyOn(globalThis, 'fetch');
      try {
        await client(false).sessions.open('1').upload(file);
        expect(spy).not.toHaveBeenCalled(); // node:http, not undici
      } finally {
        spy.mockRestore();
      }
      fetchCalls = 0;
      await client(true).sessions.open('1').upload(file);
      expect(fetchCalls).toBe(1);
      const [viaNode, viaFetch] = received;
      expect(sha(filePart(viaNode?.body ?? Buffer.alloc(0)))).toBe(sha(bytes));
      // Same framing, whatever the path (the boundaries differ per upload).
      const boundary = (h: Received | undefined) =>
        /boundary=(.+)$/.exec(String(h?.headers['content-type']))?.[1] ?? '';
      const normalised = (r: Received | undefined) =>
        r?.body.toString('latin1').split(boundary(r)).join('BOUNDARY');
      expect(normalised(viaNode)).toBe(normalised(viaFetch));
      expect(Number(viaNode?.headers['content-length'])).toBe(viaNode?.body.length);
    });
  }

  it('several files in one request, each exact', async () => {
    const files = [pattern(CHUNK + 5, 1), pattern(2 * CHUNK, 2), pattern(17, 3)];
    const paths = await Promise.all(
      files.map(async (b, i) => {
        const p = join(dir, `f${i}.mp4`);
        await writeFile(p, b);
        return p;
      }),
    );
    await client(false).sessions.open('1').upload(paths);
    const body = received[0]?.body ?? Buffer.alloc(0);
    for (const b of files) expect(body.includes(b)).toBe(true);
    expect(body.length).toBe(Number(received[0]?.headers['content-length']));
  });

  it('a file that shrinks while it is sent: UploadError, nothing half-reported', async () => {
    const file = join(dir, 'shrinks.mp4');
    await writeFile(file, pattern(4 * CHUNK, 9));
    onRequest = () => {
      void truncate(file, CHUNK);
    };
    const error = await client(false)
      .sessions.open('1')
      .upload(file)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as Error).message).toMatch(/changed while it was being uploaded/);
  });
});
