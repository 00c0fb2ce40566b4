import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { NemoClient, type NemoClientOptions } from '../../src/index.js';
import { createEmulator, type Emulator } from '../../src/testing/index.js';
import { mswHandlers } from '../../src/testing/msw.js';

export const BASE = 'https://mega-api-prod.nemovideo.ai';
export const UPLOAD_ROUTE = 'POST /api/upload-video/nemo_agent/me/*';
export const uploadUrlOf = (sid: string) => `${BASE}/api/upload-video/nemo_agent/me/${sid}`;

/** One emulator behind msw for a test file; the request log and faults reset after each test. */
export function useEmulator(): { emulator: Emulator; server: ReturnType<typeof setupServer> } {
  const emulator = createEmulator();
  const server = setupServer(...mswHandlers(emulator));
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    server.resetHandlers();
    emulator.reset();
  });
  afterAll(() => server.close());
  return { emulator, server };
}

/** A client holding a token the emulator issued (so no token request shows up in the log). */
export function clientFor(emulator: Emulator, extra: NemoClientOptions = {}): NemoClient {
  const { token } = emulator.issueToken();
  return new NemoClient({ token, clientIdFile: false, logLevel: 'off', ...extra });
}

/** Requests the emulator received for the upload endpoint. */
export function uploadRequests(emulator: Emulator) {
  return emulator.requests.filter((r) => r.path.startsWith('/api/upload-video/'));
}

export const md5 = (bytes: Uint8Array | string) => createHash('md5').update(bytes).digest('hex');

/** Deterministic pseudo-random bytes. */
export function bytesOf(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A temp directory for the test file, removed after all tests. */
export function useTempDir(): {
  dir: () => string;
  file: (name: string, bytes: Uint8Array) => Promise<string>;
} {
  let dir = '';
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'nemovideo-upload-test-')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    file: async (name, bytes) => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    },
  };
}

/** Whether this platform lets a test see its own open file descriptors. */
export const canSeeFds = existsSync('/proc/self/fd');

/** How many descriptors of this process point at `path` (Linux). */
export function openDescriptors(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Read a request body until `bytes` arrived (or it ended). */
export async function readAtLeast(body: ReadableStream<Uint8Array> | null, bytes: number) {
  const reader = body?.getReader();
  let got = 0;
  while (reader && got < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.byteLength;
  }
  return { reader, got };
}
