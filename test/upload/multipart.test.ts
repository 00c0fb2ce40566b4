import busboy from 'busboy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKEND } from '../../src/core/backend.js';
import { MultipartPlan } from '../../src/resources/uploads/body.js';
import { escapeQuoted } from '../../src/resources/uploads/multipart.js';
import { prepareSources } from '../../src/resources/uploads/sources.js';

const BOUNDARY = '----nemovideo-0123456789abcdef01234567';

interface Part {
  filename: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** The SDK's body for these parts, read to the end. */
async function encode(
  parts: Part[],
): Promise<{ body: Uint8Array<ArrayBuffer>; length: number | undefined }> {
  const sources = await prepareSources(
    parts.map((p) => ({ data: p.bytes, filename: p.filename })),
    { backend: DEFAULT_BACKEND, maxBytes: 1e9 },
  );
  const plan = new MultipartPlan(sources, 'files', BOUNDARY, 1e9);
  const body = plan.open({ onBytes() {}, onEnd() {}, onFatal() {} });
  return {
    body: new Uint8Array(await new Response(body.stream).arrayBuffer()),
    length: plan.length,
  };
}

/** What undici's own FormData serialisation produces, with our boundary. */
async function platform(parts: Part[]): Promise<Uint8Array> {
  const form = new FormData();
  for (const p of parts)
    form.append('files', new Blob([p.bytes], { type: 'video/mp4' }), p.filename);
  const response = new Response(form);
  const theirs = /boundary=(.+)$/.exec(response.headers.get('content-type') ?? '')?.[1] ?? '';
  const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
  return Buffer.from(text.split(theirs).join(BOUNDARY), 'latin1');
}

function parseWithBusboy(body: Uint8Array): Promise<{ filename: string; bytes: Buffer }[]> {
  return new Promise((resolve, reject) => {
    const files: { filename: string; bytes: Buffer }[] = [];
    const bb = busboy({
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      defParamCharset: 'utf8',
    });
    bb.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        files.push({ filename: info.filename ?? '', bytes: Buffer.concat(chunks) }),
      );
    });
    bb.on('close', () => resolve(files));
    bb.on('error', reject);
    bb.end(body);
  });
}

const plainName = fc
  .stringMatching(/^[A-Za-z0-9 _.,;:=!#$&'()+@[\]^`{}~-]{1,30}$/)
  .map((s) => `${s}.mp4`);
const anyName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((s) => !/[\\/]/.test(s))
  .map((s) => `${s}.mp4`);
const content = fc.uint8Array({ maxLength: 3000 }).map((b) => new Uint8Array(b));

describe('multipart encoding', () => {
  it('is byte-identical to the platform FormData (what browsers send), whatever the names', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ filename: fc.oneof(plainName, anyName), bytes: content }), {
          minLength: 1,
          maxLength: 3,
        }),
        async (parts) => {
          const ours = await encode(parts);
          expect(Buffer.from(ours.body).equals(Buffer.from(await platform(parts)))).toBe(true);
          expect(ours.length).toBe(ours.body.byteLength);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names and content survive undici exactly, and busboy (utf8) as browsers send them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ filename: anyName, bytes: content }), { minLength: 1, maxLength: 3 }),
        async (parts) => {
          const { body, length } = await encode(parts);
          expect(length).toBe(body.byteLength);
          const viaBusboy = await parseWithBusboy(body);
          expect(viaBusboy.map((f) => f.filename)).toEqual(
            parts.map((p) => escapeQuoted(p.filename)),
          );
          viaBusboy.forEach((f, i) => {
            expect(f.bytes.equals(Buffer.from(parts[i]?.bytes ?? []))).toBe(true);
          });
          const form = await new Response(body, {
            headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
          }).formData();
          const files = form.getAll('files') as File[];
          expect(files.map((f) => f.name)).toEqual(parts.map((p) => p.filename));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('frames parts as RFC 7578 says: CRLF lines, quoted UTF-8 names, no filename*', async () => {
    const { body } = await encode([
      { filename: 'a.mp4', bytes: new Uint8Array([1, 2]) },
      { filename: 'é "x".mov', bytes: new Uint8Array([]) },
    ]);
    const text = Buffer.from(body).toString('utf8');
    expect(text).toBe(
      `--${BOUNDARY}\r\n` +
        'Content-Disposition: form-data; name="files"; filename="a.mp4"\r\n' +
        'Content-Type: video/mp4\r\n\r\n\u0001\u0002\r\n' +
        `--${BOUNDARY}\r\n` +
        'Content-Disposition: form-data; name="files"; filename="é %22x%22.mov"\r\n' +
        'Content-Type: video/quicktime\r\n\r\n\r\n' +
        `--${BOUNDARY}--\r\n`,
    );
  });

  it('the Blob body used where streamed request bodies are unsupported has the same bytes', async () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array(5000).fill(7);
    const streamed = await encode([
      { filename: 'a.mp4', bytes: a },
      { filename: 'b.png', bytes: b },
    ]);
    const sources = await prepareSources([{ data: a, filename: 'a.mp4' }, new File([b], 'b.png')], {
      backend: DEFAULT_BACKEND,
      maxBytes: 1e9,
    });
    const blob = new MultipartPlan(sources, 'files', BOUNDARY, 1e9).blob();
    expect(blob).toBeDefined();
    const bytes = new Uint8Array(await (blob as Blob).arrayBuffer());
    expect(Buffer.from(bytes).equals(Buffer.from(streamed.body))).toBe(true);

    const withStream = await prepareSources([{ data: new ReadableStream(), filename: 'c.mp4' }], {
      backend: DEFAULT_BACKEND,
      maxBytes: 1e9,
    });
    expect(new MultipartPlan(withStream, 'files', BOUNDARY, 1e9).blob()).toBeUndefined();
  });
});
