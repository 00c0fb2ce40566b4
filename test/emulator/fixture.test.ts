import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { resultMp4 } from '../../src/testing/index.js';

const fixture = new Uint8Array(readFileSync(new URL('../../fixtures/result.mp4', import.meta.url)));

function hasFfprobe(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Top-level MP4 boxes: [type, size]. */
function boxes(bytes: Uint8Array): [string, number][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [string, number][] = [];
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    let size = view.getUint32(pos);
    const type = new TextDecoder().decode(bytes.subarray(pos + 4, pos + 8));
    if (size === 1) size = Number(view.getBigUint64(pos + 8));
    out.push([type, size]);
    if (size < 8) break;
    pos += size;
  }
  expect(pos).toBe(bytes.length);
  return out;
}

describe('the shipped result MP4', () => {
  test('the embedded copy is byte-identical to fixtures/result.mp4, and small', () => {
    expect(resultMp4()).toEqual(fixture);
    expect(fixture.length).toBeLessThan(200 * 1024);
  });

  test('is a well-formed MP4: ftyp first, moov before mdat (faststart)', () => {
    const types = boxes(fixture).map(([t]) => t);
    expect(types[0]).toBe('ftyp');
    expect(types.indexOf('moov')).toBeGreaterThan(0);
    expect(types.indexOf('mdat')).toBeGreaterThan(types.indexOf('moov'));
  });

  // CI installs ffmpeg (.ci/run): there the check must run, never skip.
  test.skipIf(!hasFfprobe() && !process.env.CI)('ffprobe: 2 s, 1920x1080 H.264 + AAC', () => {
    const out = JSON.parse(
      execFileSync(
        'ffprobe',
        ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', 'fixtures/result.mp4'],
        {
          cwd: new URL('../../', import.meta.url),
        },
      ).toString(),
    ) as {
      streams: { codec_name: string; width?: number; height?: number }[];
      format: { duration: string };
    };
    expect(out.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac']);
    expect(out.streams[0]).toMatchObject({ width: 1920, height: 1080 });
    expect(Number(out.format.duration)).toBeCloseTo(2, 1);
  });
});
