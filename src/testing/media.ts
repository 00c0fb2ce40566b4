/**
 * The render result: the shipped MP4 (fixtures/result.mp4, embedded), optionally padded with
 * an MP4 `free` box to any size, generated on the fly, in as many versions as re-renders.
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
/** Padding chunks by fill byte; never mutated, so one buffer serves every chunk of a fill. */
const PADDING = new Map<number, Uint8Array>();

function paddingChunk(fill: number): Uint8Array {
  let chunk = PADDING.get(fill);
  if (!chunk) {
    chunk = new Uint8Array(CHUNK).fill(fill);
    PADDING.set(fill, chunk);
  }
  return chunk;
}

const variants = new Map<number, Uint8Array>();

/**
 * The MP4 of result version `version`: version 0 is the shipped file; a later version (a
 * re-render, `changeResult()`) differs in the movie header's creation time, so its bytes
 * differ and it is still a valid MP4 of the same size.
 */
export function resultMp4Version(version: number): Uint8Array {
  const base = resultMp4();
  if (version === 0) return base;
  let bytes = variants.get(version);
  if (!bytes) {
    bytes = base.slice();
    const at = indexOfBox(bytes, 'mvhd');
    // mvhd: size(4) type(4) version(1) flags(3) creation_time(4 or 8 bytes)
    if (at >= 0) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const v1 = bytes[at + 8] === 1;
      if (v1) view.setBigUint64(at + 12, BigInt(version));
      else view.setUint32(at + 12, version >>> 0);
    }
    variants.set(version, bytes);
  }
  return bytes;
}

/** Offset of the first box of this type (searched by its four-character code). */
function indexOfBox(bytes: Uint8Array, type: string): number {
  const code = [...type].map((ch) => ch.charCodeAt(0));
  for (let i = 4; i + 4 <= bytes.length; i++) {
    if (
      bytes[i] === code[0] &&
      bytes[i + 1] === code[1] &&
      bytes[i + 2] === code[2] &&
      bytes[i + 3] === code[3]
    ) {
      return i - 4;
    }
  }
  return -1;
}

/** The fill byte of the padding of a version: zeros first, then 1–255. */
function fillOf(version: number): number {
  return version === 0 ? 0 : ((version - 1) % 255) + 1;
}

/**
 * A stream of bytes `[start, end)` of the result of `total` bytes, version `version`. Memory
 * use is one chunk at a time, whatever the size. `onBytes` gets the size of each chunk.
 */
export function resultStream(
  total: number,
  start = 0,
  end = total,
  version = 0,
  onBytes?: (bytes: number) => void,
): ReadableStream<Uint8Array> {
  const mp4 = resultMp4Version(version);
  const padding = total - mp4.length;
  const header = padding > 0 ? paddingHeader(padding) : new Uint8Array(0);
  const headerEnd = mp4.length + header.length;
  const fill = paddingChunk(fillOf(version));
  let pos = start;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pos >= end) {
          controller.close();
          return;
        }
        const size = Math.min(CHUNK, end - pos);
        onBytes?.(size);
        if (pos >= headerEnd) {
          pos += size;
          controller.enqueue(fill.subarray(0, size));
          return;
        }
        const chunk = new Uint8Array(size).fill(fill[0] ?? 0);
        // Copy whatever part of [pos, pos+size) lies in the MP4 or the box header; the rest is padding.
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
