import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/helpers.js';
import {
  AbortError,
  ConfigError,
  FileTooLargeError,
  NemoClient,
  type Session,
  toUpload,
  UnsupportedFileTypeError,
  UploadError,
  type UploadInput,
} from '../../src/index.js';
import { bytesOf, clientFor, uploadRequests, useEmulator, useTempDir } from './helpers.js';

const { emulator } = useEmulator();
const tmp = useTempDir();

/**
 * A session on a client WITHOUT a token: had validation come after any network
 * activity, the emulator would log at least the anonymous-token request.
 */
function anonymousSession(extra: ConstructorParameters<typeof NemoClient>[0] = {}): Session {
  const client = new NemoClient({
    clientId: 'upload-validation-test',
    clientIdFile: false,
    logLevel: 'off',
    ...extra,
  });
  return client.sessions.open('5529798706024415232');
}

/** `upload()` rejects with `type` and the emulator received nothing at all. */
async function rejectsSilently<E extends Error>(
  call: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await call.then(
    () => {
      throw new Error('expected the upload to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(emulator.requests).toEqual([]);
  return error as E;
}

describe('validation happens before any request', () => {
  it('an extension the service does not accept: UnsupportedFileTypeError listing the formats', async () => {
    const path = await tmp.file('notes.txt', bytesOf(10));
    const error = await rejectsSilently(anonymousSession().upload(path), UnsupportedFileTypeError);
    expect(error.message).toContain(path);
    expect(error.message).toContain('.txt');
    expect(error.message).toContain(
      'mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac',
    );
    expect(error.acceptedFormats).toContain('mp4');
    expect(error.code).toBe(ErrorCode.UnsupportedFileType);
    expect(error.httpStatus).toBe(0);
  });

  it('checks every input of a list, and a bad one stops the whole request', async () => {
    const good = await tmp.file('good.mp4', bytesOf(10));
    await rejectsSilently(
      anonymousSession().upload([good, toUpload(bytesOf(5), { filename: 'doc.pdf' })]),
      UnsupportedFileTypeError,
    );
  });

  it('a name without extension is refused with a hint to name it', async () => {
    const error = await rejectsSilently(
      anonymousSession().upload(toUpload(bytesOf(5), { filename: 'clip' })),
      UnsupportedFileTypeError,
    );
    expect(error.message).toMatch(/no file extension/);
    expect(error.message).toMatch(/toUpload\(data, \{ filename \}\)/);
  });

  it('extensions match case-insensitively, and the accepted list comes from the backend profile', async () => {
    const upper = await tmp.file('LOUD.MP4', bytesOf(10));
    const session = await clientFor(emulator).sessions.create();
    await expect(session.upload(upper)).resolves.toMatchObject({
      files: [{ filename: 'LOUD.MP4' }],
    });

    emulator.reset();
    const narrow = anonymousSession({ backend: { acceptedFormats: ['mov'] } });
    const error = await rejectsSilently(narrow.upload(upper), UnsupportedFileTypeError);
    expect(error.acceptedFormats).toEqual(['mov']);
  });

  it('a known size over maxBytes: FileTooLargeError, for paths, Blobs, bytes and sized streams', async () => {
    const path = await tmp.file('big.mp4', bytesOf(2048));
    const inputs: UploadInput[] = [
      path,
      new File([bytesOf(2048)], 'big.mov'),
      toUpload(bytesOf(2048), { filename: 'big.webm' }),
      toUpload(new ReadableStream(), { filename: 'big.mkv', size: 2048 }),
    ];
    for (const input of inputs) {
      const error = await rejectsSilently(
        anonymousSession().upload(input, { maxBytes: 2047 }),
        FileTooLargeError,
      );
      expect(error.maxBytes).toBe(2047);
      expect(error.code).toBe(ErrorCode.FileTooLarge);
      expect(error.message).toMatch(/\(2048 bytes\), over the upload limit of 2 KB \(2047 bytes\)/);
    }
  });

  it('the default limit is the backend profile’s maxUploadBytes (500 MB unless overridden)', async () => {
    const session = anonymousSession({ backend: { maxUploadBytes: 1024 } });
    const error = await rejectsSilently(
      session.upload(toUpload(bytesOf(1025), { filename: 'a.mp4' })),
      FileTooLargeError,
    );
    expect(error.maxBytes).toBe(1024);
    await rejectsSilently(
      anonymousSession().upload(toUpload(bytesOf(1), { filename: 'a.mp4' }), { maxBytes: 0 }),
      ConfigError,
    );
  });

  it('a missing path: UploadError naming the path', async () => {
    const missing = join(tmp.dir(), 'nope', 'missing.mp4');
    const error = await rejectsSilently(anonymousSession().upload(missing), UploadError);
    expect(error.message).toContain(`No file at ${missing}`);
  });

  it('a directory: UploadError', async () => {
    const dir = join(tmp.dir(), 'folder.mp4');
    await mkdir(dir, { recursive: true });
    const error = await rejectsSilently(anonymousSession().upload(dir), UploadError);
    expect(error.message).toMatch(/is a directory/);
  });

  it('inputs the SDK cannot name or read: ConfigError saying what to do', async () => {
    const cases: [unknown, RegExp][] = [
      [new Blob(['x']), /Blob without a file name.*toUpload\(blob/],
      [new Uint8Array(3), /bytes without a file name.*toUpload\(bytes/],
      [new ReadableStream(), /stream without a file name.*toUpload\(stream/],
      ['https://example.com/a.mp4', /web URL.*uploadUrl/],
      [new URL('https://example.com/a.mp4'), /web URL.*uploadUrl/],
      [new URL('ftp://example.com/a.mp4'), /only file: URLs/],
      ['', /empty path/],
      [42, /is a number/],
      [{ data: new Uint8Array(1), filename: '' }, /non-empty filename/],
      [{ data: new Uint8Array(1), filename: 'dir/a.mp4' }, /bare file name/],
      [{ data: new Uint8Array(1), filename: 'a.mp4', size: 2 }, /size 2 does not match/],
      [{ data: 'x.mp4', filename: 'a.mp4', size: -1 }, /size must be a whole number/],
      [{ data: { nope: true }, filename: 'a.mp4' }, /data must be bytes/],
    ];
    for (const [input, message] of cases) {
      const error = await rejectsSilently(
        anonymousSession().upload(input as UploadInput),
        ConfigError,
      );
      expect(error.message).toMatch(message);
    }
    await rejectsSilently(anonymousSession().upload([]), ConfigError);
  });

  it('a locked stream is refused before anything is sent', async () => {
    const stream = new ReadableStream();
    stream.getReader();
    await rejectsSilently(
      anonymousSession().upload(toUpload(stream, { filename: 'a.mp4' })),
      ConfigError,
    );
  });

  it('toUpload() checks its arguments at once', () => {
    expect(() => toUpload(new Uint8Array(1), { filename: '' })).toThrow(ConfigError);
    expect(() => toUpload(new Uint8Array(1), undefined as never)).toThrow(/needs options/);
    expect(() => toUpload(new ReadableStream(), { filename: 'a.mp4', size: 1.5 })).toThrow(
      /whole number/,
    );
    const source = toUpload(new ReadableStream(), { filename: 'a.mp4', size: 10 });
    expect(source).toMatchObject({ filename: 'a.mp4', size: 10 });
  });

  it('an already aborted signal: AbortError, nothing sent', async () => {
    const controller = new AbortController();
    controller.abort();
    const path = await tmp.file('ok.mp4', bytesOf(10));
    await rejectsSilently(
      anonymousSession().upload(path, { signal: controller.signal }),
      AbortError,
    );
  });
});

describe('the service’s own verdicts map to the same classes', () => {
  it('4001 and 4002 from the server: UnsupportedFileTypeError and FileTooLargeError', async () => {
    const session = await clientFor(emulator).sessions.create();
    emulator.fail('POST /api/upload-video/*', { code: 4001, message: 'bad type' });
    const type = await session.upload(toUpload(bytesOf(10), { filename: 'a.mp4' })).catch((e) => e);
    expect(type).toBeInstanceOf(UnsupportedFileTypeError);
    expect(type.acceptedFormats).toContain('mp4');

    emulator.fail('POST /api/upload-video/*', { code: 4002, message: 'too big' });
    const size = await session.upload(toUpload(bytesOf(10), { filename: 'a.mp4' })).catch((e) => e);
    expect(size).toBeInstanceOf(FileTooLargeError);
    expect(size.message).toContain('too big');
    expect(uploadRequests(emulator)).toHaveLength(2); // not retried
  });

  it('the emulator’s own limit (a larger maxBytes locally) comes back as FileTooLargeError', async () => {
    emulator.configure({ maxUploadBytes: 1000 });
    const session = await clientFor(emulator).sessions.create();
    const error = await session
      .upload(toUpload(bytesOf(5000), { filename: 'a.mp4' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileTooLargeError);
    expect((error as FileTooLargeError).httpStatus).toBe(200);
  });
});
