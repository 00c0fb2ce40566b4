import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ResponseValidationError,
  SessionNotFoundError,
  toUpload,
} from '../../src/index.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { clientFor, UPLOAD_ROUTE, uploadRequests, uploadUrlOf, useEmulator } from './helpers.js';

const { emulator, server } = useEmulator();

describe('session.uploadUrl()', () => {
  it('sends the documented JSON body and decodes the files', async () => {
    const session = await clientFor(emulator).sessions.create();
    const result = await session.uploadUrl('https://example.com/media/city%20night.mp4');
    const [request] = uploadRequests(emulator);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    expect(request?.body).toEqual({
      type: 'json',
      value: { urls: ['https://example.com/media/city%20night.mp4'], source_type: 'url' },
    });
    expect(result.files).toHaveLength(1);
    expect(result.files[0]).toMatchObject({
      filename: 'city night.mp4',
      fileType: 'video',
      durationSec: 30,
    });
    expect(result.files[0]?.url).toMatch(/^https:\/\/cdn\.emulator\.nemovideo\.test\//);
    expect(result.sessionStateApplied).toBe(true);
  });

  it('takes several URLs (strings or URL objects) in one request', async () => {
    const session = await clientFor(emulator).sessions.create();
    const result = await session.uploadUrl([
      'https://example.com/a.mp3',
      new URL('https://www.youtube.com/watch?v=abc123'),
    ]);
    expect(uploadRequests(emulator)).toHaveLength(1);
    expect(result.files.map((f) => [f.filename, f.fileType])).toEqual([
      ['a.mp3', 'audio'],
      ['youtube_abc123.mp4', 'video'],
    ]);
  });

  it('refuses what the service could not download, before any request', async () => {
    const session = clientFor(emulator).sessions.open('1');
    const cases: [unknown, RegExp][] = [
      ['not a url', /not a valid URL/],
      ['ftp://example.com/a.mp4', /must be an http\(s\) URL.*ftp:/],
      ['file:///tmp/a.mp4', /For a local file use session\.upload\(path\)/],
      ['http://localhost:8080/a.mp4', /points at this machine.*cannot reach/],
      ['http://127.0.0.1/a.mp4', /points at this machine/],
      [42, /must be a string or URL/],
    ];
    for (const [url, message] of cases) {
      await expect(session.uploadUrl(url as string)).rejects.toThrow(message);
      await expect(session.uploadUrl(url as string)).rejects.toBeInstanceOf(ConfigError);
    }
    await expect(session.uploadUrl([])).rejects.toThrow(/at least one URL/);
    expect(emulator.requests).toEqual([]);
  });

  it('is retried after a transient failure (the request can be replayed safely)', async () => {
    const clock = new ManualClock();
    const session = await clientFor(emulator, { clock }).sessions.create();
    emulator.fail(UPLOAD_ROUTE, { status: 502, headers: { 'retry-after-ms': '40' } });
    const upload = session.uploadUrl('https://example.com/a.mp4');
    await clock.waitForSleep(40, 5000);
    await clock.advance(40);
    await expect(upload).resolves.toMatchObject({ files: [{ filename: 'a.mp4' }] });
    expect(uploadRequests(emulator).map((r) => r.status)).toEqual([502, 200]);
  });

  it('surfaces the service’s errors as typed errors', async () => {
    const session = clientFor(emulator).sessions.open('999');
    await expect(session.uploadUrl('https://example.com/a.mp4')).rejects.toBeInstanceOf(
      SessionNotFoundError,
    );
  });
});

describe('decoding the upload response (tolerant where the contract is)', () => {
  const sid = '42';
  const answer = (data: unknown) =>
    server.use(http.post(uploadUrlOf(sid), () => HttpResponse.json({ code: 0, data })));
  const upload = () =>
    clientFor(emulator)
      .sessions.open(sid)
      .upload([
        toUpload(new Uint8Array(3), { filename: 'a.mp4' }),
        toUpload(new Uint8Array(3), { filename: 'b.png' }),
      ]);

  it('numbers as strings, nulls, missing optional fields, a numeric hash, extra keys kept in raw', async () => {
    answer({
      files: [
        {
          filename: 'a.mp4',
          file_type: 'video',
          cdn_url: 'https://cdn.x/a.mp4',
          duration: '12.5',
          width: 1280,
          height: '720',
          fps: null,
          hash: 1234,
          extra: { kept: true },
        },
        { cdn_url: 'https://cdn.x/b.png' },
      ],
    });
    const result = await upload();
    expect(result.files[0]).toEqual({
      filename: 'a.mp4',
      fileType: 'video',
      url: 'https://cdn.x/a.mp4',
      durationSec: 12.5,
      width: 1280,
      height: 720,
      hash: '1234',
      raw: {
        filename: 'a.mp4',
        file_type: 'video',
        cdn_url: 'https://cdn.x/a.mp4',
        duration: '12.5',
        width: 1280,
        height: '720',
        fps: null,
        hash: 1234,
        extra: { kept: true },
      },
    });
    // a file entry without filename / file_type: filled from what was sent
    expect(result.files[1]).toEqual({
      filename: 'b.png',
      fileType: 'image',
      url: 'https://cdn.x/b.png',
      raw: { cdn_url: 'https://cdn.x/b.png' },
    });
    expect(result.sessionStateApplied).toBeUndefined();
    expect(result.raw).toMatchObject({ files: expect.any(Array) });
  });

  it('a file entry without cdn_url: ResponseValidationError pointing at it', async () => {
    answer({
      files: [
        { filename: 'a.mp4', file_type: 'video', cdn_url: 'https://cdn.x/a' },
        { filename: 'b.png' },
      ],
    });
    const error = await upload().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).path).toBe('data.files[1].cdn_url');
  });

  it('no files array: ResponseValidationError', async () => {
    answer({ uploaded: true });
    const error = await upload().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseValidationError);
    expect((error as ResponseValidationError).path).toBe('data.files');
  });
});
