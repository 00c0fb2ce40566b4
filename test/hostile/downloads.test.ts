/**
 * #13 item 8: a download is not inflated without a cap. The SDK asks for
 * `accept-encoding: identity`; a hostile server answers gzip anyway.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describe as describeError, expectCleanNemoError, outcome } from './expect.js';
import { NemoClient } from './sdk.js';
import { backend, closeAll, gzipBomb, gzipOf, hostile } from './servers.js';

const TOKEN = 'usr-download-S3CRET-token';
const MiB = 1 << 20;

let dir: string;
beforeEach(async () => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
  dir = await mkdtemp(join(tmpdir(), 'nemo-hostile-dl-'));
});
afterEach(async () => {
  await closeAll();
  await rm(dir, { recursive: true, force: true });
});

/** 256 MiB of zeros as gzip: about 260 KB on the wire. */
let bomb: Buffer | undefined;
async function gzip256MiB(): Promise<Buffer> {
  bomb ??= await gzipBomb('\0', 256 * MiB);
  return bomb;
}

/** Where the file comes from: another origin (a CDN, plain GET) or the API's own origin (the transport). */
const origins = ['a CDN (another origin)', 'the API origin'] as const;

async function serve(where: (typeof origins)[number], handler: Parameters<typeof hostile>[0]) {
  if (where === 'the API origin') {
    const api = await hostile(backend({ file: handler }));
    return { api, url: `${api.origin}/files/out.mp4` };
  }
  const api = await hostile(backend());
  const cdn = await hostile(handler);
  return { api, url: `${cdn.origin}/files/out.mp4` };
}

describe('item 8: a compressed download', () => {
  for (const where of origins) {
    it(`from ${where}: 260 KB of gzip does not silently become a 256 MiB file`, async () => {
      const gz = await gzip256MiB();
      expect(gz.length).toBeLessThan(300_000);
      const { api, url } = await serve(where, (_req, res) => {
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-encoding': 'gzip',
          'content-length': gz.length,
        });
        res.end(gz);
      });
      const client = new NemoClient({ token: TOKEN, baseUrl: api.origin, logLevel: 'off' });
      const target = join(dir, 'out.mp4');
      const result = await outcome(client.download(url, target));
      if (result.ok) {
        const size = (await stat(target)).size;
        expect(
          { size: size < 16 * MiB, reported: result.value.bytes === size },
          `the download wrote ${size} bytes from ${gz.length} on the wire`,
        ).toEqual({ size: true, reported: true });
      } else {
        expectCleanNemoError(result.error, ['S3CRET']);
        expect(await readdir(dir), 'nothing left behind').toEqual([]);
      }
    }, 20_000);

    it(`from ${where}: a gzip body cut short of its Content-Length is an error, not a file`, async () => {
      // Two complete gzip members, so the cut falls where a decoder sees a clean end.
      const first = await gzipOf('a', 64 * 1024);
      const second = await gzipOf('b', 64 * 1024);
      const { api, url } = await serve(where, (_req, res) => {
        res.writeHead(200, {
          'content-type': 'video/mp4',
          'content-encoding': 'gzip',
          'content-length': first.length + second.length,
        });
        res.write(first, () => setTimeout(() => res.socket?.destroy(), 50));
      });
      const client = new NemoClient({
        token: TOKEN,
        baseUrl: api.origin,
        maxRetries: 0,
        logLevel: 'off',
      });
      const target = join(dir, 'out.mp4');
      const result = await outcome(client.download(url, target));
      expect(
        result.ok,
        result.ok ? `saved ${result.value.bytes} bytes` : describeError(result.error),
      ).toBe(false);
      if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
      expect(await readdir(dir)).toEqual([]);
    });

    it(`from ${where}: a gzip body longer than its Content-Length is an error, not a file`, async () => {
      const body = await gzipOf('c', 256 * 1024);
      const { api, url } = await serve(where, (_req, res) => {
        // Announce half the encoded bytes, then send them all and close.
        res.socket?.write(
          `HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-encoding: gzip\r\ncontent-length: ${Math.floor(body.length / 2)}\r\nconnection: close\r\n\r\n`,
        );
        res.socket?.end(body);
      });
      const client = new NemoClient({
        token: TOKEN,
        baseUrl: api.origin,
        maxRetries: 0,
        logLevel: 'off',
      });
      const target = join(dir, 'out.mp4');
      const result = await outcome(client.download(url, target));
      expect(
        result.ok,
        result.ok ? `saved ${result.value.bytes} bytes` : describeError(result.error),
      ).toBe(false);
      if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
      expect(await readdir(dir)).toEqual([]);
    });
  }
});
