import { appendFile, truncate } from 'node:fs/promises';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import type { UploadProgress } from '../../src/helpers.js';
import {
  AbortError,
  ApiError,
  ConnectionError,
  FileTooLargeError,
  toUpload,
  UploadError,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import {
  bytesOf,
  canSeeFds,
  clientFor,
  deferred,
  md5,
  openDescriptors,
  readAtLeast,
  UPLOAD_ROUTE,
  uploadRequests,
  uploadUrlOf,
  useEmulator,
  useTempDir,
} from './helpers.js';

const { emulator, server } = useEmulator();
const tmp = useTempDir();
const MiB = 1024 * 1024;

function expectMonotonicTo100(events: UploadProgress[]) {
  expect(events.length).toBeGreaterThan(0);
  for (let i = 1; i < events.length; i++) {
    expect(events[i]?.loadedBytes).toBeGreaterThan(events[i - 1]?.loadedBytes ?? 0);
    expect(events[i]?.percent ?? 0).toBeGreaterThanOrEqual(events[i - 1]?.percent ?? 0);
  }
  // One progress shape with downloads: whole numbers.
  for (const e of events)
    if (e.percent !== undefined) expect(Number.isInteger(e.percent)).toBe(true);
  expect(events.at(-1)?.percent).toBe(100);
  expect(events.filter((e) => e.percent === 100)).toHaveLength(1);
}

describe('progress', () => {
  it('reports file bytes monotonically across several files, ending at exactly 100 %', async () => {
    const a = bytesOf(2 * MiB + 5, 1);
    const b = bytesOf(1000, 2);
    const path = await tmp.file('p1.mp4', a);
    const events: UploadProgress[] = [];
    const session = await clientFor(emulator).sessions.create();
    await session.upload([path, toUpload(b, { filename: 'p2.png' })], {
      onProgress: (p) => events.push(p),
    });
    expectMonotonicTo100(events);
    const total = a.byteLength + b.byteLength;
    expect(events.every((e) => e.totalBytes === total)).toBe(true);
    expect(events.at(-1)).toEqual({
      loadedBytes: total,
      totalBytes: total,
      percent: 100,
      file: { index: 1, filename: 'p2.png', loadedBytes: 1000, totalBytes: 1000 },
    });
    // the first file is reported while it is sent, chunk by chunk
    const first = events.filter((e) => e.file.index === 0);
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(first.at(-1)?.file).toEqual({
      index: 0,
      filename: 'p1.mp4',
      loadedBytes: a.byteLength,
      totalBytes: a.byteLength,
    });
  });

  it('a stream of unknown size: no percent until it ends, then 100 % with the real total', async () => {
    const content = bytesOf(3000);
    const events: UploadProgress[] = [];
    const session = await clientFor(emulator).sessions.create();
    async function* chunks() {
      yield content.subarray(0, 1000);
      yield content.subarray(1000, 2000);
      yield content.subarray(2000);
    }
    await session.upload(toUpload(chunks(), { filename: 's.mp4' }), {
      onProgress: (p) => events.push(p),
    });
    expect(
      events.slice(0, -1).every((e) => e.percent === undefined && e.totalBytes === undefined),
    ).toBe(true);
    expect(events.map((e) => e.loadedBytes)).toEqual([1000, 2000, 3000, 3000]);
    expect(events.at(-1)).toMatchObject({ loadedBytes: 3000, totalBytes: 3000, percent: 100 });
    expect(events.at(-1)?.file).toMatchObject({ loadedBytes: 3000, totalBytes: 3000 });
  });

  it('an empty file still ends with one 100 % report', async () => {
    const events: UploadProgress[] = [];
    const session = await clientFor(emulator).sessions.create();
    await session.upload(toUpload(new Uint8Array(0), { filename: 'e.mp3' }), {
      onProgress: (p) => events.push(p),
    });
    expect(events).toEqual([
      {
        loadedBytes: 0,
        totalBytes: 0,
        percent: 100,
        file: { index: 0, filename: 'e.mp3', loadedBytes: 0, totalBytes: 0 },
      },
    ]);
  });

  it('an exception thrown by onProgress aborts the upload with that exception and closes the file', async () => {
    const path = await tmp.file('throws.mp4', bytesOf(3 * MiB));
    const session = await clientFor(emulator).sessions.create();
    const oops = new Error('progress bar crashed');
    await expect(
      session.upload(path, {
        onProgress: () => {
          throw oops;
        },
      }),
    ).rejects.toBe(oops);
    if (canSeeFds) expect(openDescriptors(path)).toBe(0);
  });
});

describe('retries', () => {
  it('a path is read again after an injected 503, and progress stays monotonic', async () => {
    const content = bytesOf(2 * MiB + 3);
    const path = await tmp.file('retry.mp4', content);
    const clock = new ManualClock();
    const session = await clientFor(emulator, { clock }).sessions.create();
    // The first attempt consumes the whole body, then fails: the retry must re-read the file.
    let firstBytes = 0;
    server.use(
      http.post(
        uploadUrlOf(session.id),
        async ({ request }) => {
          firstBytes = (await request.arrayBuffer()).byteLength;
          return HttpResponse.json(
            { message: 'busy' },
            { status: 503, headers: { 'retry-after-ms': '250' } },
          );
        },
        { once: true },
      ),
    );
    const events: UploadProgress[] = [];
    const upload = session.upload(path, { onProgress: (p) => events.push(p) });
    await clock.waitForSleep(250, 20_000);
    expect(firstBytes).toBeGreaterThan(content.byteLength);
    const beforeRetry = events.length;
    await clock.advance(250);
    const result = await upload;

    expect(result.files[0]?.hash).toBe(md5(content));
    expect(uploadRequests(emulator)).toHaveLength(1); // the 503 came from the msw override
    expectMonotonicTo100(events);
    // the first attempt had reported 100 %; the re-read was silent instead of going back to 0
    expect(events.length).toBe(beforeRetry);
    if (canSeeFds) expect(openDescriptors(path)).toBe(0);
  });

  it('paths, Blobs and bytes in one request are all re-read after an emulator 503 fault', async () => {
    const a = bytesOf(1.5 * MiB, 5);
    const b = bytesOf(4000, 6);
    const c = bytesOf(7000, 7);
    const path = await tmp.file('multi.mov', a);
    const clock = new ManualClock();
    const session = await clientFor(emulator, { clock }).sessions.create();
    emulator.fail(UPLOAD_ROUTE, { status: 503, headers: { 'retry-after-ms': '100' } });
    const events: UploadProgress[] = [];
    const upload = session.upload(
      [path, new File([b], 'b.jpg'), toUpload(c, { filename: 'c.wav' })],
      { onProgress: (p) => events.push(p) },
    );
    await clock.waitForSleep(100, 20_000);
    await clock.advance(100);
    const result = await upload;
    expect(result.files.map((f) => f.hash)).toEqual([md5(a), md5(b), md5(c)]);
    expect(uploadRequests(emulator).map((r) => r.status)).toEqual([503, 200]);
    expectMonotonicTo100(events);
  });

  it('a stream is not retried, and the error says why', async () => {
    const session = await clientFor(emulator).sessions.create();
    emulator.fail(UPLOAD_ROUTE, { status: 503, message: 'try later' });
    let cancelled = false;
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(bytesOf(1000, pulls));
        if (pulls === 5) controller.close();
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await session
      .upload(toUpload(stream, { filename: 'live.mp4' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    const message = (error as UploadError).message;
    expect(message).toMatch(/not retried/);
    expect(message).toMatch(
      /the stream "live\.mp4" can be read only once, so the SDK cannot send it again/,
    );
    expect(message).toMatch(/upload from a path, a Blob or bytes/);
    expect(message).toContain('HTTP 503');
    const cause = (error as UploadError).cause;
    expect(cause).toBeInstanceOf(ApiError);
    expect((cause as ApiError).httpStatus).toBe(503);
    expect(uploadRequests(emulator)).toHaveLength(1);
    // the SDK owned the stream: it was consumed or cancelled, never left half-read and open
    expect(cancelled || pulls === 5).toBe(true);
  });

  it('a connection failure with a stream is not retried either', async () => {
    const session = await clientFor(emulator).sessions.create();
    server.use(http.post(uploadUrlOf(session.id), () => HttpResponse.error()));
    const error = await session
      .upload(toUpload(new Blob([bytesOf(10)]).stream(), { filename: 'x.mp4' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as UploadError).cause).toBeInstanceOf(ConnectionError);
  });
});

describe('abort and cleanup', () => {
  it.runIf(canSeeFds)(
    'the signal aborts the request mid-body and closes the file handle',
    async () => {
      const path = await tmp.file('abort.mp4', bytesOf(16 * MiB));
      const session = await clientFor(emulator).sessions.create();
      const reading = deferred();
      server.use(
        http.post(uploadUrlOf(session.id), async ({ request }) => {
          await readAtLeast(request.body, 2 * MiB);
          reading.resolve();
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
          return HttpResponse.json({}, { status: 499 });
        }),
      );
      const controller = new AbortController();
      const events: UploadProgress[] = [];
      const upload = session.upload(path, {
        signal: controller.signal,
        onProgress: (p) => events.push(p),
      });
      await reading.promise;
      expect(openDescriptors(path)).toBe(1); // open while the body streams
      controller.abort();
      await expect(upload).rejects.toBeInstanceOf(AbortError);
      expect(openDescriptors(path)).toBe(0);
      expect(events.at(-1)?.percent).toBeLessThan(100);
    },
  );

  it.runIf(canSeeFds)(
    'the file handle is closed after a successful upload and after a failure',
    async () => {
      const path = await tmp.file('closed.mp4', bytesOf(3 * MiB));
      const session = await clientFor(emulator).sessions.create();
      await session.upload(path);
      expect(openDescriptors(path)).toBe(0);
      emulator.fail(UPLOAD_ROUTE, { code: 1002, message: 'gone' });
      await expect(session.upload(path)).rejects.toThrow(/Session not found/);
      expect(openDescriptors(path)).toBe(0);
    },
  );

  it('a stream of unknown size is cut off, and cancelled, as soon as it passes maxBytes', async () => {
    const session = await clientFor(emulator).sessions.create();
    let pulls = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls += 1;
        controller.enqueue(new Uint8Array(1000));
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await session
      .upload(toUpload(endless, { filename: 'endless.mp4' }), { maxBytes: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileTooLargeError);
    expect((error as FileTooLargeError).maxBytes).toBe(10_000);
    expect((error as Error).message).toMatch(/passed the upload limit of 9\.8 KB while streaming/);
    expect(cancelled).toBe(true);
    expect(pulls).toBeLessThan(20);
  });

  it('a stream that does not match its declared size fails with UploadError', async () => {
    const session = await clientFor(emulator).sessions.create();
    const short = toUpload(new Blob([bytesOf(100)]).stream(), { filename: 's.mp4', size: 200 });
    await expect(session.upload(short)).rejects.toThrow(
      /ended after 100 bytes but its size was given as 200/,
    );
    const long = toUpload(new Blob([bytesOf(300)]).stream(), { filename: 'l.mp4', size: 200 });
    await expect(session.upload(long)).rejects.toThrow(/more than the 200 bytes given as its size/);
  });

  it('a stream that errors fails with UploadError carrying the cause', async () => {
    const session = await clientFor(emulator).sessions.create();
    const boom = new Error('camera unplugged');
    async function* failing() {
      yield new Uint8Array(10);
      throw boom;
    }
    const error = await session
      .upload(toUpload(failing(), { filename: 'cam.mp4' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as Error).message).toMatch(
      /Reading the stream "cam\.mp4" failed: camera unplugged/,
    );
    expect((error as Error).cause).toBe(boom);
  });

  it('a stream of strings is refused with a hint about encodings', async () => {
    const session = await clientFor(emulator).sessions.create();
    async function* text() {
      yield 'not bytes';
    }
    await expect(
      session.upload(toUpload(text() as AsyncIterable<never>, { filename: 't.mp4' })),
    ).rejects.toThrow(/produced a string chunk.*Do not set an encoding/);
  });

  /** A client whose upload requests run `before()` first: the file changes after validation, before it is read. */
  function changingClient(before: () => Promise<void>) {
    return clientFor(emulator, {
      fetch: async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (url.includes('/api/upload-video/')) await before();
        return fetch(input, init);
      },
    });
  }

  it('a file that shrinks while it is sent fails with UploadError, not a truncated upload', async () => {
    const path = await tmp.file('shrinks.mp4', bytesOf(4 * MiB));
    const session = await changingClient(() => truncate(path, 1.5 * MiB)).sessions.create();
    const error = await session.upload(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as Error).message).toMatch(
      /changed while it was being uploaded \(it shrank from 4194304 bytes\)/,
    );
    if (canSeeFds) expect(openDescriptors(path)).toBe(0);
  });

  it('a file that grows while it is sent fails too (it was still being written)', async () => {
    const path = await tmp.file('grows.mp4', bytesOf(2 * MiB));
    const session = await changingClient(() => appendFile(path, bytesOf(10))).sessions.create();
    const error = await session.upload(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadError);
    expect((error as Error).message).toMatch(
      /changed while it was being uploaded \(it grew from 2097152 bytes\)/,
    );
    if (canSeeFds) expect(openDescriptors(path)).toBe(0);
  });
});
