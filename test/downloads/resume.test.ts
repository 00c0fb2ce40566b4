/**
 * #15.3: resumable downloads, against the emulator's CDN over loopback (port 0):
 * a cut at 90 % resumed with `Range` + `If-Range`, a changed file or a server
 * without ranges restarting, 416, expired URLs renewed, exact final bytes.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortError, DownloadError, NemoClient, type TransferProgress } from '../../src/index.js';
import { createEmulator, type EmulatorServer } from '../../src/testing/index.js';
import { READY_DRAFT } from '../render/helpers.js';

const SIZE = 8 * 1024 * 1024 + 12_345;
/** One chunk: what a resume may fetch beyond the missing bytes (the writer's uncertain tail). */
const CHUNK = 256 * 1024;

const emulator = createEmulator({ renderDurationMs: 0, resultSizeBytes: SIZE, heartbeatMs: 0 });
let server: EmulatorServer;
let dir: string;

beforeAll(async () => {
  server = await emulator.listen({ port: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-resume-'));
});
afterEach(async () => {
  emulator.reset();
  await rm(dir, { recursive: true, force: true });
});

function newClient() {
  return new NemoClient({
    baseUrl: server.url,
    clientId: 'resume-tests',
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
    backend: { render: { pollIntervalMs: 0 } },
  });
}

/** A completed render, its result URL and the exact bytes the CDN serves for it. */
async function rendered(client = newClient()) {
  const session = await client.sessions.create();
  const job = await session.render({ draft: READY_DRAFT });
  const result = await job.wait();
  const reference = new Uint8Array(await (await fetch(result.url)).arrayBuffer());
  expect(reference.byteLength).toBe(SIZE);
  return { client, job, result, reference, mark: emulator.requests.length };
}

/** Bytes the CDN and the fallback endpoint handed out since `mark` (request log index). */
function bytesSentSince(mark: number): number {
  return emulator.requests.slice(mark).reduce((n, r) => n + (r.bytesSent ?? 0), 0);
}

function fileRequestsSince(mark: number) {
  return emulator.requests
    .slice(mark)
    .filter((r) => r.route.startsWith('GET /renders') || r.path.endsWith('/download'));
}

async function expectExact(path: string, reference: Uint8Array) {
  const bytes = await readFile(path);
  expect(bytes.byteLength).toBe(reference.byteLength);
  expect(Buffer.compare(bytes, Buffer.from(reference))).toBe(0);
}

describe('a download cut at 90 %', () => {
  it('keeps <name>.part and its sidecar, and the next call fetches at most the missing bytes plus one chunk', async () => {
    const { client, result, reference, mark } = await rendered();
    const cutAt = Math.floor(SIZE * 0.9);
    emulator.fail('GET /renders/*', { cutAfterBytes: cutAt });
    const target = join(dir, 'out.mp4');

    const error = await client.download(result.url, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    const cut = error as DownloadError;
    expect(cut.partialPath).toBe(join(dir, 'out.mp4.part'));
    expect(cut.partialBytes).toBeGreaterThan(0);
    expect(cut.partialBytes).toBeLessThanOrEqual(cutAt);
    expect(cut.message).toMatch(
      /kept in .*out\.mp4\.part: download to the same path again to resume/,
    );
    expect((await readdir(dir)).sort()).toEqual(['out.mp4.part', 'out.mp4.part.json']);
    expect((await stat(join(dir, 'out.mp4.part'))).size).toBe(cut.partialBytes);
    const sidecar = JSON.parse(await readFile(join(dir, 'out.mp4.part.json'), 'utf8'));
    expect(sidecar).toMatchObject({
      nemovideoPartial: 1,
      url: result.url.split('?')[0],
      totalBytes: SIZE,
      bytes: cut.partialBytes,
    });
    expect(sidecar.etag).toBe(emulator.render(result.renderId)?.etag);
    expect(JSON.stringify(sidecar)).not.toMatch(/nmv_usr_|Bearer/);

    const second = emulator.requests.length;
    const progress: TransferProgress[] = [];
    const done = await client.download(result.url, target, { onProgress: (p) => progress.push(p) });
    await expectExact(target, reference);
    expect(await readdir(dir)).toEqual(['out.mp4']);
    const missing = SIZE - (cut.partialBytes ?? 0);
    expect(done).toMatchObject({ path: target, bytes: SIZE, transferredBytes: missing });
    expect(bytesSentSince(second)).toBeLessThanOrEqual(missing + CHUNK);
    const [request] = fileRequestsSince(second);
    expect(request?.headers.range).toBe(`bytes=${cut.partialBytes}-`);
    expect(request?.headers['if-range']).toBe(sidecar.etag);
    expect(request?.status).toBe(206);
    // Progress starts from the bytes already held, and ends at 100 %.
    expect(progress[0]?.loadedBytes).toBe(cut.partialBytes);
    expect(progress.at(-1)).toEqual({ loadedBytes: SIZE, totalBytes: SIZE, percent: 100 });
    expect(mark).toBeGreaterThanOrEqual(0);
  });

  it('after an unclean stop (no byte count in the sidecar: a killed process) refetches one chunk more', async () => {
    const { client, result, reference } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'killed.mp4');
    const cut = (await client
      .download(result.url, target)
      .catch((e: unknown) => e)) as DownloadError;
    // What a kill -9 leaves: the sidecar written at the start, without `bytes`.
    const sidecarPath = join(dir, 'killed.mp4.part.json');
    const { bytes: _bytes, ...started } = JSON.parse(await readFile(sidecarPath, 'utf8'));
    await writeFile(sidecarPath, JSON.stringify({ ...started, pid: 999_999_999 }));
    const second = emulator.requests.length;
    const done = await client.download(result.url, target);
    await expectExact(target, reference);
    const held = cut.partialBytes ?? 0;
    expect(fileRequestsSince(second)[0]?.headers.range).toBe(`bytes=${Math.max(0, held - CHUNK)}-`);
    expect(done.transferredBytes).toBe(SIZE - Math.max(0, held - CHUNK));
  });

  it('an abort keeps the partial file too (the CLI’s Ctrl-C), and the next call resumes', async () => {
    const { client, result, reference } = await rendered();
    emulator.fail('GET /renders/*', { stallAfterBytes: Math.floor(SIZE / 2) });
    const target = join(dir, 'aborted.mp4');
    const controller = new AbortController();
    const pending = client.download(result.url, target, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loadedBytes >= SIZE / 4) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect((await readdir(dir)).sort()).toEqual(['aborted.mp4.part', 'aborted.mp4.part.json']);
    const held = (await stat(join(dir, 'aborted.mp4.part'))).size;
    expect(held).toBeGreaterThan(0);
    const done = await client.download(result.url, target);
    await expectExact(target, reference);
    expect(done.transferredBytes).toBe(SIZE - held);
  });

  it('with resume: false leaves nothing and starts over', async () => {
    const { client, result, reference } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'fresh.mp4');
    const error = await client
      .download(result.url, target, { resume: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).partialPath).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    const second = emulator.requests.length;
    const done = await client.download(result.url, target, { resume: false });
    await expectExact(target, reference);
    expect(done.transferredBytes).toBe(SIZE);
    expect(fileRequestsSince(second)[0]?.headers.range).toBeUndefined();
  });
});

describe('what cannot be resumed starts over', () => {
  it('a changed file (If-Range does not match): the whole new file, exact', async () => {
    const { client, result, job } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'changed.mp4');
    await client.download(result.url, target).catch(() => {});
    const newSize = SIZE - 1000;
    emulator.changeResult({ renderId: job.renderId, sizeBytes: newSize });
    const fresh = new Uint8Array(await (await fetch(result.url)).arrayBuffer());
    expect(fresh.byteLength).toBe(newSize);
    const second = emulator.requests.length;
    const done = await client.download(result.url, target);
    await expectExact(target, fresh);
    const [request] = fileRequestsSince(second);
    expect(request?.headers['if-range']).toBeDefined();
    expect(request?.status).toBe(200);
    expect(done.transferredBytes).toBe(newSize);
    expect(await readdir(dir)).toEqual(['changed.mp4']);
  });

  it('a server that ignores ranges (200): the whole file, exact', async () => {
    const { client, result, reference } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'norange.mp4');
    await client.download(result.url, target).catch(() => {});
    emulator.fail('GET /renders/*', { ignoreRange: true });
    const second = emulator.requests.length;
    const done = await client.download(result.url, target);
    await expectExact(target, reference);
    expect(fileRequestsSince(second)[0]?.status).toBe(200);
    expect(done.transferredBytes).toBe(SIZE);
  });

  it('416 to a part that is already whole: committed without a byte more', async () => {
    const { client, result, reference } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'whole.mp4');
    await client.download(result.url, target).catch(() => {});
    // The process wrote every byte but stopped before the rename.
    const sidecarPath = join(dir, 'whole.mp4.part.json');
    await writeFile(join(dir, 'whole.mp4.part'), reference);
    const sidecar = JSON.parse(await readFile(sidecarPath, 'utf8'));
    await writeFile(sidecarPath, JSON.stringify({ ...sidecar, bytes: SIZE }));
    const second = emulator.requests.length;
    const done = await client.download(result.url, target);
    await expectExact(target, reference);
    expect(fileRequestsSince(second).map((r) => r.status)).toEqual([416]);
    expect(done).toMatchObject({ bytes: SIZE, transferredBytes: 0 });
    expect(await readdir(dir)).toEqual(['whole.mp4']);
  });

  it('a sidecar for another file, or not ours, is ignored', async () => {
    const { client, result, reference } = await rendered();
    const target = join(dir, 'other.mp4');
    await writeFile(join(dir, 'other.mp4.part'), 'not the same file at all');
    await writeFile(
      join(dir, 'other.mp4.part.json'),
      JSON.stringify({
        nemovideoPartial: 1,
        url: 'https://elsewhere.test/x.mp4',
        etag: '"x"',
        bytes: 24,
      }),
    );
    const second = emulator.requests.length;
    await client.download(result.url, target);
    await expectExact(target, reference);
    expect(fileRequestsSince(second)[0]?.headers.range).toBeUndefined();
  });
});

describe('with a render id', () => {
  it('a cut CDN download continues from the API download endpoint in the same call, with a range', async () => {
    const { client, result, reference, job } = await rendered();
    emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.9) });
    const target = join(dir, 'fallback.mp4');
    const start = emulator.requests.length;
    const done = await client.download(result.url, target, { renderId: job.renderId });
    await expectExact(target, reference);
    const [cdn, fallback] = fileRequestsSince(start);
    expect(cdn?.route).toBe('GET /renders/:file');
    expect(fallback?.path).toBe(`/api/render/proxy/${job.renderId}/download`);
    expect(fallback?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(fallback?.status).toBe(206);
    expect(done.transferredBytes).toBe(SIZE);
    expect(bytesSentSince(start)).toBeLessThanOrEqual(SIZE + CHUNK);
  });

  for (const status of [403, 404, 410] as const) {
    it(`an expired URL (HTTP ${status} from the CDN) is renewed by polling the render, and the download resumes there`, async () => {
      const { client, result, reference, job } = await rendered();
      emulator.fail('GET /renders/*', { cutAfterBytes: Math.floor(SIZE * 0.5) });
      const target = join(dir, `expired-${status}.mp4`);
      const cut = (await client
        .download(result.url, target)
        .catch((e: unknown) => e)) as DownloadError;
      expect(cut).toBeInstanceOf(DownloadError);
      const held = cut.partialBytes ?? 0;
      expect(held).toBeGreaterThan(0);

      emulator.expireResultUrls({ renderId: job.renderId, status });
      const second = emulator.requests.length;
      const done = await client.download(result.url, target, { renderId: job.renderId });
      await expectExact(target, reference);
      expect(emulator.requests.slice(second).map((r) => `${r.route} ${r.status}`)).toEqual([
        `GET /renders/:file ${status}`,
        'GET /api/render/proxy/lambda/:id 200',
        'GET /renders/:file 206',
      ]);
      expect(done.url).not.toBe(result.url);
      expect(done.transferredBytes).toBe(SIZE - held);
    });
  }

  it('without a render id, an expired URL is a DownloadError with its status', async () => {
    const { client, result, job } = await rendered();
    emulator.expireResultUrls({ renderId: job.renderId, status: 410 });
    const target = join(dir, 'no-id.mp4');
    const error = await client.download(result.url, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).httpStatus).toBe(410);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('one download per path', () => {
  it('a second download to the same path in this process is refused before any request', async () => {
    const { client, result } = await rendered();
    emulator.fail('GET /renders/*', { stallAfterBytes: 1024 * 1024 });
    const target = join(dir, 'twice.mp4');
    const controller = new AbortController();
    let receiving: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      receiving = resolve;
    });
    const first = client.download(result.url, target, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.loadedBytes > 0) receiving();
      },
    });
    first.catch(() => {});
    await started;
    const before = emulator.requests.length;
    const error = await client.download(result.url, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toMatch(/Another download in this process is writing/);
    expect(emulator.requests.length).toBe(before);
    controller.abort();
    await expect(first).rejects.toBeInstanceOf(AbortError);
  });
});
