/**
 * Bounded memory (issue 6, point 4) as a test: while an upload runs, the chunks
 * already sent must be garbage. If the transport cloned the request (ky clones
 * every request for retries; undici clones one unless it has `window: null` and
 * `redirect: 'error'`), the clone's unread tee branch would keep every chunk:
 * a 500 MB upload would sit in memory. See `Transport#fetchBody`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NemoClient, toUpload } from '../../src/index.js';

// No msw in this file: the real fetch (undici) must send the body, to a real loopback socket.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let url = '';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        code: 0,
        data: {
          files: [{ filename: 'm.mp4', file_type: 'video', cdn_url: 'https://cdn.x/m.mp4' }],
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

it('sent chunks are not retained while the upload runs (the body is never cloned/teed)', async () => {
  const chunks = 64;
  const refs: WeakRef<Uint8Array>[] = [];
  let aliveAtEnd = -1;
  async function* source() {
    for (let i = 0; i < chunks; i++) {
      const chunk = new Uint8Array(256 * 1024).fill(i);
      refs.push(new WeakRef(chunk));
      yield chunk;
    }
    // Every chunk but the last few has been written to the socket by now.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    aliveAtEnd = refs.filter((r) => r.deref() !== undefined).length;
  }
  const client = new NemoClient({
    baseUrl: url,
    token: 'nmv_usr_memory_test',
    clientIdFile: false,
    logLevel: 'off',
  });
  const result = await client.sessions.open('1').upload(toUpload(source(), { filename: 'm.mp4' }));
  expect(result.files).toHaveLength(1);
  expect(aliveAtEnd).toBeGreaterThanOrEqual(0);
  // A clone of the request would keep all 64 chunks (16 MiB) alive in the unread tee branch.
  expect(aliveAtEnd).toBeLessThan(8);
});
