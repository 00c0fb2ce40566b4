import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { toUpload, type UploadInput, type UploadResult } from '../../src/index.js';
import {
  bytesOf,
  clientFor,
  md5,
  uploadRequests,
  uploadUrlOf,
  useEmulator,
  useTempDir,
} from './helpers.js';

const { emulator, server } = useEmulator();
const tmp = useTempDir();

async function session() {
  return clientFor(emulator).sessions.create();
}

function webStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** The single file the emulator received in the last upload request. */
function receivedFile() {
  const last = uploadRequests(emulator).at(-1);
  if (last?.body.type !== 'multipart')
    throw new Error(`no multipart upload: ${JSON.stringify(last?.body)}`);
  expect(last.body.files).toHaveLength(1);
  return last.body.files[0];
}

function expectOneFile(result: UploadResult, filename: string, content: Uint8Array) {
  expect(result.files).toHaveLength(1);
  const [file] = result.files;
  expect(file?.filename).toBe(filename);
  expect(file?.hash).toBe(md5(content)); // the emulator hashes what it received
  expect(receivedFile()).toMatchObject({ field: 'files', filename, size: content.byteLength });
}

describe('every input kind reaches the service intact', () => {
  const content = bytesOf(2.5 * 1024 * 1024 + 17); // spans several 1 MiB chunks

  it('a path string: sent under its base name with a content type from the extension', async () => {
    const path = await tmp.file('city.mp4', content);
    const s = await session();
    const result = await s.upload(path);
    expectOneFile(result, 'city.mp4', content);
    expect(receivedFile()?.mimeType).toBe('video/mp4');
    const [file] = result.files;
    expect(file).toMatchObject({
      fileType: 'video',
      durationSec: 30,
      width: 1920,
      height: 1080,
      fps: 30,
    });
    expect(file?.url).toMatch(/^https:\/\/cdn\.emulator\.nemovideo\.test\/uploads\/.*city\.mp4$/);
    expect(file?.raw).toMatchObject({ file_type: 'video', cdn_url: file?.url });
    expect(result.sessionStateApplied).toBe(true);
    expect(emulator.session(s.id)?.videoInfos.map((v) => v.filename)).toEqual(['city.mp4']);
  });

  it('a path with known size goes out with an exact Content-Length', async () => {
    const path = await tmp.file('length.mov', content);
    await (await session()).upload(path);
    const [request] = uploadRequests(emulator);
    const type = request?.headers['content-type'] ?? '';
    expect(type).toMatch(/^multipart\/form-data; boundary=----nemovideo-[0-9a-f]{24}$/);
    const boundary = type.split('boundary=')[1] ?? '';
    const framing =
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="length.mov"\r\nContent-Type: video/quicktime\r\n\r\n`
        .length +
      2 +
      `--${boundary}--\r\n`.length;
    expect(Number(request?.headers['content-length'])).toBe(content.byteLength + framing);
  });

  it('a file: URL, as a URL object or a string', async () => {
    const path = await tmp.file('clip one.webm', content);
    const s = await session();
    expectOneFile(await s.upload(pathToFileURL(path)), 'clip one.webm', content);
    expectOneFile(await s.upload(pathToFileURL(path).href), 'clip one.webm', content);
    expect(receivedFile()?.mimeType).toBe('video/webm');
  });

  it('a File, named by itself', async () => {
    const file = new File([content], 'poster.PNG', { type: 'image/png' });
    const result = await (await session()).upload(file);
    expectOneFile(result, 'poster.PNG', content);
    expect(result.files[0]?.fileType).toBe('image');
    expect(receivedFile()?.mimeType).toBe('image/png');
  });

  it('a Blob named with toUpload()', async () => {
    const result = await (await session()).upload(
      toUpload(new Blob([content]), { filename: 'voice.m4a' }),
    );
    expectOneFile(result, 'voice.m4a', content);
    expect(result.files[0]?.fileType).toBe('audio');
    expect(receivedFile()?.mimeType).toBe('audio/mp4');
  });

  it('Uint8Array, Buffer, ArrayBuffer and a DataView, named with toUpload() or { data, filename }', async () => {
    const s = await session();
    expectOneFile(await s.upload(toUpload(content, { filename: 'a.mp4' })), 'a.mp4', content);
    expectOneFile(
      await s.upload({ data: Buffer.from(content), filename: 'b.mp4' }),
      'b.mp4',
      content,
    );
    const copy = content.slice().buffer;
    expectOneFile(await s.upload({ data: copy, filename: 'c.mp4' }), 'c.mp4', content);
    // a view into a larger buffer: only the viewed bytes are sent
    const big = new Uint8Array(content.byteLength + 20);
    big.set(content, 10);
    const view = new DataView(big.buffer, 10, content.byteLength);
    expectOneFile(await s.upload({ data: view, filename: 'd.mp4' }), 'd.mp4', content);
  });

  it('a web ReadableStream, with or without its size', async () => {
    const s = await session();
    const parts = [
      content.subarray(0, 1000),
      content.subarray(1000, 2_000_000),
      content.subarray(2_000_000),
    ];
    expectOneFile(
      await s.upload(toUpload(webStream(parts), { filename: 'w.mkv' })),
      'w.mkv',
      content,
    );
    expectOneFile(
      await s.upload(toUpload(webStream(parts), { filename: 'w2.mkv', size: content.byteLength })),
      'w2.mkv',
      content,
    );
    expect(receivedFile()?.mimeType).toBe('video/x-matroska');
  });

  it('a Node Readable (fs.createReadStream, Readable.from) and an async generator', async () => {
    const path = await tmp.file('source.avi', content);
    const s = await session();
    expectOneFile(
      await s.upload(toUpload(createReadStream(path), { filename: 'r.avi' })),
      'r.avi',
      content,
    );
    expectOneFile(
      await s.upload(
        toUpload(
          Readable.from([Buffer.from(content.subarray(0, 5)), Buffer.from(content.subarray(5))]),
          {
            filename: 'r2.avi',
          },
        ),
      ),
      'r2.avi',
      content,
    );
    async function* generate() {
      yield content.subarray(0, 3);
      yield content.subarray(3);
    }
    expectOneFile(await s.upload(toUpload(generate(), { filename: 'g.mp3' })), 'g.mp3', content);
    expect(receivedFile()?.mimeType).toBe('audio/mpeg');
  });

  it('a path renamed and retyped with toUpload()', async () => {
    const path = await tmp.file('raw-footage.bin', content);
    const result = await (await session()).upload(
      toUpload(path, { filename: 'footage.mov', contentType: 'video/quicktime' }),
    );
    expectOneFile(result, 'footage.mov', content);
  });

  it('an empty file is sent as an empty part', async () => {
    const result = await (await session()).upload(
      toUpload(new Uint8Array(0), { filename: 'empty.wav' }),
    );
    expect(result.files).toHaveLength(1);
    expect(receivedFile()).toMatchObject({ filename: 'empty.wav', size: 0 });
  });

  it('names that are not plain ASCII arrive exactly at a WHATWG multipart parser', async () => {
    // Encoded as browsers do (UTF-8, `"` as %22). The check uses Request.formData() (undici);
    // the emulator's busboy reads parameters as Latin-1, like busboy's default.
    const s = await session();
    const seen: string[] = [];
    server.use(
      http.post(uploadUrlOf(s.id), async ({ request }) => {
        const file = (await request.formData()).get('files') as File;
        seen.push(file.name);
        return HttpResponse.json({
          code: 0,
          data: {
            files: [{ filename: file.name, file_type: 'video', cdn_url: 'https://cdn.x/f' }],
          },
        });
      }),
    );
    const names = [
      'vidéo d’été.mp4',
      '视频.mov',
      'say "hi".mp4',
      '100%.mp4',
      "it's; x=1.mp4",
      'a\nb.mp4',
    ];
    for (const name of names) {
      const result = await s.upload(toUpload(content.subarray(0, 10), { filename: name }));
      expect(result.files[0]?.filename).toBe(name);
    }
    expect(seen).toEqual(names);
  });
});

describe('several files in one request', () => {
  it('sends every input as a repeated `files` part, in order, and returns them in order', async () => {
    const a = bytesOf(1_500_000, 2);
    const b = bytesOf(300, 3);
    const c = bytesOf(70_000, 4);
    const path = await tmp.file('first.mp4', a);
    const inputs: UploadInput[] = [
      path,
      new File([b], 'second.jpg'),
      toUpload(webStream([c]), { filename: 'third.aac' }),
    ];
    const s = await session();
    const result = await s.upload(inputs);

    const requests = uploadRequests(emulator);
    expect(requests).toHaveLength(1);
    const body = requests[0]?.body;
    expect(body?.type === 'multipart' && body.files).toEqual([
      { field: 'files', filename: 'first.mp4', mimeType: 'video/mp4', size: a.byteLength },
      { field: 'files', filename: 'second.jpg', mimeType: 'image/jpeg', size: b.byteLength },
      { field: 'files', filename: 'third.aac', mimeType: 'audio/aac', size: c.byteLength },
    ]);
    expect(result.files.map((f) => [f.filename, f.fileType, f.hash])).toEqual([
      ['first.mp4', 'video', md5(a)],
      ['second.jpg', 'image', md5(b)],
      ['third.aac', 'audio', md5(c)],
    ]);
    expect(emulator.session(s.id)?.videoInfos).toHaveLength(3);
  });
});
