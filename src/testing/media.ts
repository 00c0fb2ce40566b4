/**
 * The render result: the shipped MP4 (fixtures/result.mp4, embedded), optionally padded with
 * an MP4 `free` box to any size, generated on the fly. Supports byte ranges.
 *
 * @module
 */

import { RESULT_MP4_BASE64 } from './result-mp4.js';

let cached: Uint8Array | undefined;

/** The bytes of the shipped result MP4 (2 s, 1920x1080, H.264 + AAC). */
export function resultMp4(): Uint8Array {
  if (!cached) {
    const bin = atob(RESULT_MP4_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    cached = bytes;
  }
  return cached;
}

/** Total size of the result body for the requested size (never smaller than the MP4 + a box header). */
export function resultSize(requested: number | undefined): number {
  const base = resultMp4().length;
  if (requested === undefined || requested <= base) return base;
  // A `free` box needs 8 bytes (16 with a 64-bit size); below that, serve the plain MP4.
  return requested - base < 16 ? base : requested;
}

/** The header of the padding box that fills `total - base` bytes. */
function paddingHeader(padding: number): Uint8Array {
  if (padding <= 0xffffffff) {
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, padding);
    h.set([0x66, 0x72, 0x65, 0x65], 4); // 'free'
    return h;
  }
  const h = new Uint8Array(16);
  const view = new DataView(h.buffer);
  view.setUint32(0, 1); // size 1 → 64-bit largesize follows the type
  h.set([0x66, 0x72, 0x65, 0x65], 4);
  view.setBigUint64(8, BigInt(padding));
  return h;
}

const CHUNK = 256 * 1024;
/** Padding is all zeros and never mutated, so one buffer serves every padding chunk. */
const ZEROS = new Uint8Array(CHUNK);

/**
 * A stream of bytes `[start, end)` of the result of `total` bytes. Memory use is one chunk at
 * a time, whatever the size.
 */
export function resultStream(total: number, start = 0, end = total): ReadableStream<Uint8Array> {
  const mp4 = resultMp4();
  const padding = total - mp4.length;
  const header = padding > 0 ? paddingHeader(padding) : new Uint8Array(0);
  const headerEnd = mp4.length + header.length;
  let pos = start;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pos >= end) {
          controller.close();
          return;
        }
        const size = Math.min(CHUNK, end - pos);
        if (pos >= headerEnd) {
          pos += size;
          controller.enqueue(ZEROS.subarray(0, size));
          return;
        }
        const chunk = new Uint8Array(size);
        // Copy whatever part of [pos, pos+size) lies in the MP4 or the box header; the rest stays 0.
        if (pos < mp4.length) chunk.set(mp4.subarray(pos, Math.min(mp4.length, pos + size)), 0);
        if (pos + size > mp4.length && pos < headerEnd) {
          const from = Math.max(pos, mp4.length);
          const to = Math.min(headerEnd, pos + size);
          chunk.set(header.subarray(from - mp4.length, to - mp4.length), from - pos);
        }
        pos += size;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Parse a single `Range: bytes=a-b` header against `total`. `undefined`: no/invalid range; `null`: unsatisfiable. */
export function parseRange(
  header: string | null,
  total: number,
): { start: number; end: number } | null | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    start = Math.max(0, total - suffix);
    end = total;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? total : Math.min(total, Number(m[2]) + 1);
  }
  if (start >= total || start >= end) return null;
  return { start, end };
}

/** A response serving the result (200 or 206 with a range; HEAD without body). */
export function resultResponse(request: Request, total: number, name: string): Response {
  const headers: Record<string, string> = {
    'content-type': 'video/mp4',
    'accept-ranges': 'bytes',
    'content-disposition': `attachment; filename="${name}"`,
    etag: `"nemo-emulator-${total}"`,
  };
  const range = parseRange(request.headers.get('range'), total);
  if (range === null) {
    return new Response(null, {
      status: 416,
      headers: { ...headers, 'content-range': `bytes */${total}` },
    });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? total;
  headers['content-length'] = String(end - start);
  if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${total}`;
  const body = request.method === 'HEAD' ? null : resultStream(total, start, end);
  return new Response(body, { status: range ? 206 : 200, headers });
}
