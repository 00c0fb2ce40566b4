import { open } from 'node:fs/promises';

/** What {@link probeMp4} found in a file. */
export interface Mp4Probe {
  /** True when the file starts with an `ftyp` box and has a `moov` box with a readable `mvhd`. */
  valid: boolean;
  /** Why the file is not a valid MP4 (when `valid` is false). */
  problem: string | undefined;
  /** Major brand of the `ftyp` box, e.g. `isom`. */
  majorBrand: string | undefined;
  /** Compatible brands of the `ftyp` box. */
  compatibleBrands: string[];
  /** Top-level box types in file order, e.g. `['ftyp', 'moov', 'mdat']`. */
  boxes: string[];
  /** Duration from `moov/mvhd`, in seconds. */
  durationSec: number | undefined;
  /** Number of `trak` boxes in `moov`. */
  tracks: number;
  /** File size in bytes. */
  sizeBytes: number;
}

const BOX_TYPE = /^[\x20-\x7e]{4}$/;

function fourcc(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at] ?? 0, buf[at + 1] ?? 0, buf[at + 2] ?? 0, buf[at + 3] ?? 0);
}

/** Children of a container box held in memory: `[type, start, end]` of each. */
function children(buf: Buffer, start: number, end: number): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  let at = start;
  while (at + 8 <= end) {
    let size = buf.readUInt32BE(at);
    const type = fourcc(buf, at + 4);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end || !BOX_TYPE.test(type)) break;
    out.push([type, at + header, at + size]);
    at += size;
  }
  return out;
}

/**
 * Checks that a file is a structurally valid ISO-BMFF / MP4 file by walking its
 * top-level boxes (without reading `mdat`): an `ftyp` box first, a `moov` box with
 * an `mvhd` header, and box sizes that add up to the file size.
 *
 * @example
 * ```ts
 * const probe = await probeMp4('demo-output/video.mp4');
 * if (!probe.valid) throw new Error(probe.problem);
 * console.log(probe.durationSec);
 * ```
 */
export async function probeMp4(path: string): Promise<Mp4Probe> {
  const result: Mp4Probe = {
    valid: false,
    problem: undefined,
    majorBrand: undefined,
    compatibleBrands: [],
    boxes: [],
    durationSec: undefined,
    tracks: 0,
    sizeBytes: 0,
  };
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    result.sizeBytes = size;
    const header = Buffer.alloc(16);
    let at = 0;
    let moov: Buffer | undefined;
    while (at < size) {
      const { bytesRead } = await file.read(header, 0, 16, at);
      if (bytesRead < 8) {
        result.problem = `truncated box header at byte ${at}`;
        return result;
      }
      let boxSize = header.readUInt32BE(0);
      const type = fourcc(header, 4);
      let headerSize = 8;
      if (boxSize === 1) {
        if (bytesRead < 16) {
          result.problem = `truncated 64-bit box header at byte ${at}`;
          return result;
        }
        boxSize = Number(header.readBigUInt64BE(8));
        headerSize = 16;
      } else if (boxSize === 0) {
        boxSize = size - at;
      }
      if (!BOX_TYPE.test(type) || boxSize < headerSize || at + boxSize > size) {
        result.problem = `bad box "${type.replace(/[^\x20-\x7e]/g, '?')}" (size ${boxSize}) at byte ${at}`;
        return result;
      }
      result.boxes.push(type);
      if (result.boxes.length === 1 && type !== 'ftyp') {
        result.problem = `the first box is "${type}", not "ftyp"`;
        return result;
      }
      if (type === 'ftyp') {
        const body = Buffer.alloc(Math.min(boxSize - headerSize, 256));
        await file.read(body, 0, body.length, at + headerSize);
        result.majorBrand = fourcc(body, 0);
        for (let i = 8; i + 4 <= body.length; i += 4) result.compatibleBrands.push(fourcc(body, i));
      } else if (type === 'moov' && boxSize <= 64 * 1024 * 1024) {
        moov = Buffer.alloc(boxSize - headerSize);
        await file.read(moov, 0, moov.length, at + headerSize);
      }
      at += boxSize;
    }
    if (!moov) {
      result.problem = 'no "moov" box';
      return result;
    }
    const inner = children(moov, 0, moov.length);
    result.tracks = inner.filter(([type]) => type === 'trak').length;
    const mvhd = inner.find(([type]) => type === 'mvhd');
    if (!mvhd) {
      result.problem = 'no "mvhd" box in "moov"';
      return result;
    }
    const [, start, end] = mvhd;
    const version = moov[start] ?? 0;
    const need = version === 1 ? 32 : 20;
    if (end - start < need) {
      result.problem = 'truncated "mvhd" box';
      return result;
    }
    const timescale = moov.readUInt32BE(start + (version === 1 ? 20 : 12));
    const duration =
      version === 1 ? Number(moov.readBigUInt64BE(start + 24)) : moov.readUInt32BE(start + 16);
    if (timescale > 0) result.durationSec = duration / timescale;
    result.valid = true;
    return result;
  } finally {
    await file.close();
  }
}
