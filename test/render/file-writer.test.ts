import { describe, expect, it } from 'vitest';
import {
  MAX_IN_FLIGHT_BYTES,
  MAX_WRITES_IN_FLIGHT,
  openFileWriter,
  WRITE_PIECE_BYTES,
} from '../../src/resources/downloads/file-writer.js';

type Callback = (error: NodeJS.ErrnoException | null, written: number) => void;

/** A fake `node:fs` whose writes complete when the test says so. */
function fakeFs(options: { shortBy?: number; failAt?: number } = {}) {
  const file = new Uint8Array(8 * 1024 * 1024);
  let size = 0;
  const pending: (() => void)[] = [];
  const sizes: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let closed = 0;
  let calls = 0;
  const truncations: number[] = [];
  const opens: string[] = [];
  const fs = {
    open: (_path: string, flags: string, cb: (e: null, fd: number) => void) => {
      opens.push(flags);
      cb(null, 7);
    },
    ftruncate: (_fd: number, length: number, cb: (e: null) => void) => {
      truncations.push(length);
      size = length;
      cb(null);
    },
    close: (_fd: number, cb: (e: null) => void) => {
      closed++;
      cb(null);
    },
    writev: (_fd: number, pieces: Uint8Array[], at: number, cb: Callback) => {
      calls++;
      const call = calls;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const total = pieces.reduce((n, p) => n + p.byteLength, 0);
      sizes.push(total);
      pending.push(() => {
        inFlight--;
        if (options.failAt === call) {
          cb(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 0);
          return;
        }
        // A short write: the writer must send the rest itself.
        const written =
          options.shortBy && total > options.shortBy ? total - options.shortBy : total;
        let offset = at;
        let left = written;
        for (const piece of pieces) {
          const n = Math.min(left, piece.byteLength);
          file.set(piece.subarray(0, n), offset);
          offset += n;
          left -= n;
        }
        size = Math.max(size, at + written);
        cb(null, written);
      });
    },
  };
  const completeAll = async () => {
    while (pending.length > 0) {
      pending.shift()?.();
      await Promise.resolve();
    }
  };
  return {
    fs: fs as unknown as typeof import('node:fs'),
    completeOne: () => pending.shift()?.(),
    completeAll,
    bytes: () => file.subarray(0, size),
    sizes,
    stats: () => ({ maxInFlight, closed, pending: pending.length }),
    truncations,
    opens,
    /** Complete the write issued `n`-th from now (0: the oldest pending). */
    completeAt: (n: number) => pending.splice(n, 1)[0]?.(),
    size: () => size,
    seed: (bytes: Uint8Array) => {
      file.set(bytes, 0);
      size = bytes.byteLength;
    },
  };
}

const pattern = (n: number, seed = 0) => new Uint8Array(n).map((_, i) => (i * 7 + seed) % 251);

/** Feed `data` in `chunk`-sized pieces, completing writes whenever the writer asks to wait. */
async function feed(
  fake: ReturnType<typeof fakeFs>,
  writer: Awaited<ReturnType<typeof openFileWriter>>,
  data: Uint8Array,
  chunk: number,
) {
  for (let i = 0; i < data.byteLength; i += chunk) {
    const wait = writer.write(data.subarray(i, i + chunk));
    if (wait) {
      let done = false;
      void wait.then(() => {
        done = true;
      });
      while (!done) {
        fake.completeOne();
        await Promise.resolve();
        await Promise.resolve();
      }
    }
  }
}

describe('openFileWriter (download files)', () => {
  it('writes every byte in order, in pieces of at most WRITE_PIECE_BYTES, two at a time', async () => {
    const fake = fakeFs();
    const writer = await openFileWriter(fake.fs, '/x');
    const data = pattern(3 * 1024 * 1024 + 4321);
    await feed(fake, writer, data, 64 * 1024 + 17);
    const finished = writer.finish();
    await fake.completeAll();
    await finished;
    expect(Buffer.compare(Buffer.from(fake.bytes()), Buffer.from(data))).toBe(0);
    expect(Math.max(...fake.sizes)).toBeLessThanOrEqual(WRITE_PIECE_BYTES);
    expect(fake.stats().maxInFlight).toBe(MAX_WRITES_IN_FLIGHT);
    expect(fake.stats().closed).toBe(1);
  });

  it('splits a chunk larger than a piece', async () => {
    const fake = fakeFs();
    const writer = await openFileWriter(fake.fs, '/x');
    const data = pattern(WRITE_PIECE_BYTES * 3 + 5, 3);
    const wait = writer.write(data);
    expect(wait).toBeUndefined(); // under MAX_IN_FLIGHT_BYTES: no need to wait
    const finished = writer.finish();
    await fake.completeAll();
    await finished;
    expect(fake.sizes).toEqual([WRITE_PIECE_BYTES, WRITE_PIECE_BYTES, WRITE_PIECE_BYTES, 5]);
    expect(Buffer.compare(Buffer.from(fake.bytes()), Buffer.from(data))).toBe(0);
  });

  it('asks the caller to wait once MAX_IN_FLIGHT_BYTES are queued', async () => {
    const fake = fakeFs();
    const writer = await openFileWriter(fake.fs, '/x');
    let waits = 0;
    let i = 0;
    for (; i * 65536 <= MAX_IN_FLIGHT_BYTES; i++) {
      if (writer.write(pattern(65536)) !== undefined) waits++;
    }
    expect(waits).toBe(1); // the chunk that crossed the limit
    expect(i).toBe(MAX_IN_FLIGHT_BYTES / 65536 + 1);
  });

  it('continues after a short write', async () => {
    const fake = fakeFs({ shortBy: 1000 });
    const writer = await openFileWriter(fake.fs, '/x');
    const data = pattern(700 * 1024, 9);
    await feed(fake, writer, data, 64 * 1024);
    const finished = writer.finish();
    await fake.completeAll();
    await finished;
    expect(Buffer.compare(Buffer.from(fake.bytes()), Buffer.from(data))).toBe(0);
  });

  it('rejects the next write and finish() with the first write error, and still closes', async () => {
    const fake = fakeFs({ failAt: 2 });
    const writer = await openFileWriter(fake.fs, '/x');
    await feed(fake, writer, pattern(512 * 1024), 64 * 1024);
    const finished = writer.finish();
    await fake.completeAll();
    await expect(finished).rejects.toThrow(/ENOSPC/);
    await expect(writer.write(pattern(10)) ?? Promise.resolve()).rejects.toThrow(/ENOSPC/);
    expect(fake.stats().closed).toBe(1);
  });

  it('destroy() waits for writes in flight, then closes once', async () => {
    const fake = fakeFs();
    const writer = await openFileWriter(fake.fs, '/x');
    writer.write(pattern(WRITE_PIECE_BYTES * 2));
    let destroyed = false;
    const destroying = writer.destroy().then(() => {
      destroyed = true;
    });
    await Promise.resolve();
    expect(destroyed).toBe(false);
    await fake.completeAll();
    await destroying;
    expect(fake.stats()).toMatchObject({ closed: 1, pending: 0 });
  });

  it('with an offset, continues an existing file there, after cutting it to that length', async () => {
    const fake = fakeFs();
    const head = pattern(300_000, 1);
    fake.seed(pattern(400_000, 1)); // the part file, with a tail to drop
    const writer = await openFileWriter(fake.fs, '/x', head.byteLength);
    expect(fake.opens).toEqual(['r+']);
    expect(fake.truncations).toEqual([head.byteLength]);
    expect(writer.committed).toBe(head.byteLength);
    const rest = pattern(500_000, 2);
    await feed(fake, writer, rest, 64 * 1024);
    const finished = writer.finish();
    await fake.completeAll();
    await finished;
    expect(writer.committed).toBe(head.byteLength + rest.byteLength);
    expect(Buffer.compare(Buffer.from(fake.bytes()), Buffer.concat([head, rest]))).toBe(0);
  });

  it('stop() writes what is queued, keeps every byte received, and says how many', async () => {
    const fake = fakeFs();
    const writer = await openFileWriter(fake.fs, '/x');
    const data = pattern(WRITE_PIECE_BYTES * 2 + 1000, 4);
    writer.write(data); // two pieces in flight, 1000 bytes still filling
    const stopping = writer.stop();
    await fake.completeAll();
    await Promise.resolve();
    await fake.completeAll();
    expect(await stopping).toBe(data.byteLength);
    expect(Buffer.compare(Buffer.from(fake.bytes()), Buffer.from(data))).toBe(0);
    expect(fake.stats().closed).toBe(1);
  });

  it('stop() after a failed write keeps only the bytes written without a gap', async () => {
    // Two writes in flight: the second lands, the first fails. The file must not keep a hole.
    const fake = fakeFs({ failAt: 1 });
    const writer = await openFileWriter(fake.fs, '/x');
    writer.write(pattern(WRITE_PIECE_BYTES * 2, 5));
    fake.completeAt(1); // the second piece, at WRITE_PIECE_BYTES
    await Promise.resolve();
    fake.completeAt(0); // the first fails (ENOSPC)
    expect(await writer.stop()).toBe(0);
    expect(fake.truncations.at(-1)).toBe(0);

    const ok = fakeFs({ failAt: 2 });
    const second = await openFileWriter(ok.fs, '/y');
    second.write(pattern(WRITE_PIECE_BYTES * 2, 6));
    await ok.completeAll();
    expect(await second.stop()).toBe(WRITE_PIECE_BYTES);
    expect(ok.truncations.at(-1)).toBe(WRITE_PIECE_BYTES);
  });
});
