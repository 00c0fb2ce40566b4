import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createEmulator } from '../../src/testing/index.js';
import { bootstrap, call, uploadUrl } from './helpers.js';

function form(
  ...files: [
    field: string,
    name: string,
    content: string | Uint8Array<ArrayBuffer>,
    type?: string,
  ][]
) {
  const f = new FormData();
  for (const [field, name, content, type] of files) {
    f.append(field, new Blob([content], type ? { type } : {}), name);
  }
  return f;
}

async function setup(maxUploadBytes?: number) {
  const emulator = createEmulator(maxUploadBytes === undefined ? {} : { maxUploadBytes });
  const { token, sid } = await bootstrap(emulator);
  const upload = (body: FormData | string | object, headers: Record<string, string> = {}) =>
    call(emulator, 'POST', `/api/upload-video/nemo_agent/me/${sid}`, { token, body, headers });
  return { emulator, token, sid, upload };
}

describe('multipart uploads', () => {
  test('several files in the repeatable field "files": documented shape, md5 hash, video_infos', async () => {
    const { emulator, sid, upload } = await setup();
    const video = new Uint8Array(3000).fill(7);
    const res = await upload(
      form(
        ['files', 'city.mp4', video, 'video/mp4'],
        ['files', 'cover.PNG', 'png'],
        ['files', 'song.mp3', 'mp3'],
      ),
    );
    expect(res.status).toBe(200);
    expect(res.json.code).toBe(0);
    expect(res.json.data.session_state_applied).toBe(true);
    const [v, i, a] = res.json.data.files;
    expect(v).toEqual({
      filename: 'city.mp4',
      file_type: 'video',
      cdn_url: `https://cdn.emulator.nemovideo.test/uploads/${sid}/1-city.mp4`,
      duration: 30,
      width: 1920,
      height: 1080,
      fps: 30,
      hash: createHash('md5').update(video).digest('hex'),
    });
    expect(i).toMatchObject({
      filename: 'cover.PNG',
      file_type: 'image',
      width: 1920,
      height: 1080,
    });
    expect(i.duration).toBeUndefined();
    expect(a).toMatchObject({ filename: 'song.mp3', file_type: 'audio', duration: 30 });
    expect(emulator.session(sid)?.videoInfos).toEqual(res.json.data.files);
    // The request log keeps names and sizes, never bytes.
    const rec = emulator.requests.at(-1)!;
    expect(rec.body).toEqual({
      type: 'multipart',
      fields: {},
      files: [
        { field: 'files', filename: 'city.mp4', mimeType: 'video/mp4', size: 3000 },
        { field: 'files', filename: 'cover.PNG', mimeType: 'application/octet-stream', size: 3 },
        { field: 'files', filename: 'song.mp3', mimeType: 'application/octet-stream', size: 3 },
      ],
    });
  });

  test('a name without extension is typed by its MIME type', async () => {
    const { upload } = await setup();
    const res = await upload(form(['files', 'clip', 'x', 'video/quicktime']));
    expect(res.json.data.files[0].file_type).toBe('video');
  });

  test('unsupported type → 4001 naming the accepted formats', async () => {
    const { upload, emulator, sid } = await setup();
    const res = await upload(form(['files', 'a.mp4', 'ok'], ['files', 'virus.exe', 'MZ']));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      code: 4001,
      message: expect.stringContaining('mp4, mov, avi'),
      data: null,
    });
    expect(res.json.message).toMatch(/virus\.exe/);
    expect(emulator.session(sid)?.videoInfos).toEqual([]);
  });

  test('a file over the limit → 4002 (per file)', async () => {
    const { upload, emulator, sid } = await setup(1000);
    expect((await upload(form(['files', 'a.mp4', new Uint8Array(1000)]))).json.code).toBe(0);
    const res = await upload(form(['files', 'b.mp4', new Uint8Array(1001)]));
    expect(res.json).toEqual({
      code: 4002,
      message: expect.stringMatching(/b\.mp4.*1000/),
      data: null,
    });
    expect(emulator.session(sid)?.videoInfos).toHaveLength(1);
  });

  test('maxUploadBytes can be changed with configure()', async () => {
    const { upload, emulator } = await setup();
    emulator.configure({ maxUploadBytes: 10 });
    expect((await upload(form(['files', 'a.mp4', new Uint8Array(11)]))).json.code).toBe(4002);
  });

  test('a file in another field, no file, or a broken body → HTTP 400 code 4000', async () => {
    const { upload } = await setup();
    const wrong = await upload(form(['file', 'a.mp4', 'x']));
    expect([wrong.status, wrong.json.code, wrong.json.message]).toEqual([
      400,
      4000,
      expect.stringMatching(/"files"/),
    ]);
    const f = new FormData();
    f.append('note', 'hello');
    const none = await upload(f);
    expect([none.status, none.json.code]).toEqual([400, 4000]);
    const broken = await upload(
      '--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.mp4"\r\n\r\nabc',
      {
        'Content-Type': 'multipart/form-data; boundary=xyz',
      },
    );
    expect([broken.status, broken.json.code]).toEqual([400, 4000]);
  });

  test('unknown session → 1002', async () => {
    const { emulator, token } = await setup();
    const res = await call(emulator, 'POST', '/api/upload-video/nemo_agent/me/42', {
      token,
      body: form(['files', 'a.mp4', 'x']),
    });
    expect(res.json.code).toBe(1002);
  });

  test('a large streamed body is counted, not buffered into the answer', async () => {
    const { upload } = await setup();
    const big = new Uint8Array(8 * 1024 * 1024);
    const res = await upload(form(['files', 'big.mov', big]));
    expect(res.json.data.files[0]).toMatchObject({ filename: 'big.mov', file_type: 'video' });
  });
});

describe('URL uploads', () => {
  test('YouTube links become 1920x1080 30 s videos', async () => {
    const { emulator, token, sid } = await setup();
    const res = await uploadUrl(emulator, token, sid, 'https://youtu.be/xyz');
    expect(res.json).toEqual({
      code: 0,
      message: 'success',
      data: {
        files: [
          {
            filename: 'youtube_xyz.mp4',
            file_type: 'video',
            cdn_url: `https://cdn.emulator.nemovideo.test/uploads/${sid}/1-youtube_xyz.mp4`,
            duration: 30,
            width: 1920,
            height: 1080,
            fps: 30,
          },
        ],
        session_state_applied: true,
      },
    });
  });

  test('types from the URL path; no extension → video; unsupported → 4001', async () => {
    const { emulator, token, sid, upload } = await setup();
    expect(
      (await uploadUrl(emulator, token, sid, 'https://x.test/p/photo.jpg?s=1')).json.data.files[0],
    ).toMatchObject({
      filename: 'photo.jpg',
      file_type: 'image',
    });
    expect(
      (await uploadUrl(emulator, token, sid, 'https://x.test/stream')).json.data.files[0],
    ).toMatchObject({
      filename: 'stream.mp4',
      file_type: 'video',
    });
    expect((await uploadUrl(emulator, token, sid, 'https://x.test/doc.pdf')).json.code).toBe(4001);
    const two = await upload({
      urls: ['https://x.test/a.mp4', 'https://x.test/b.wav'],
      source_type: 'url',
    });
    expect(two.json.data.files.map((f: { file_type: string }) => f.file_type)).toEqual([
      'video',
      'audio',
    ]);
  });

  test('malformed URL bodies → HTTP 400 code 4000', async () => {
    const { upload } = await setup();
    for (const body of [
      { urls: [], source_type: 'url' },
      { urls: ['https://x.test/a.mp4'] },
      { urls: ['ftp://x.test/a.mp4'], source_type: 'url' },
      { urls: [42], source_type: 'url' },
    ]) {
      const res = await upload(body);
      expect([res.status, res.json.code]).toEqual([400, 4000]);
    }
    const text = await upload('hello', { 'Content-Type': 'text/plain' });
    expect(text.status).toBe(400);
  });
});
