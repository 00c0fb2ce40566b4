import type { ReusedChunks } from '../../core/transfer.js';
import { UploadError } from '../../errors/errors.js';
import {
  closingDelimiter,
  type MultipartPart,
  multipartContentType,
  multipartLength,
  PART_END,
  partHeader,
} from './multipart.js';
import { CHUNK_BYTES, type ChunkReader, type PreparedSource, tooLargeError } from './sources.js';

/** Per-attempt callbacks of a {@link MultipartBody}. */
export interface BodyHooks {
  /** `bytes` of `source` were handed to the network layer. */
  onBytes(source: PreparedSource, bytes: number): void;
  /** Every source was read to its end. */
  onEnd(): void;
  /** Reading failed for a reason a retry would not fix (the request must stop). */
  onFatal(error: unknown): void;
}

/** How the multipart body of an upload is framed: one part per source. */
export class MultipartPlan {
  readonly sources: readonly PreparedSource[];
  readonly boundary: string;
  readonly contentType: string;
  /** Exact body length, when every size is known. */
  readonly length: number | undefined;
  readonly #headers: Uint8Array<ArrayBuffer>[];
  readonly #maxBytes: number;

  constructor(
    sources: readonly PreparedSource[],
    fieldName: string,
    boundary: string,
    maxBytes: number,
  ) {
    this.sources = sources;
    this.boundary = boundary;
    this.contentType = multipartContentType(boundary);
    const parts: MultipartPart[] = sources.map((s) => ({
      name: fieldName,
      filename: s.filename,
      contentType: s.contentType,
      size: s.size,
    }));
    this.#headers = parts.map((p) => partHeader(boundary, p));
    this.length = multipartLength(boundary, parts);
    this.#maxBytes = maxBytes;
  }

  /**
   * The whole body as one `Blob`, when every source is a Blob or bytes: for
   * browsers, which cannot send a streamed request body over HTTP/1.1. The
   * browser composes the Blob lazily (a File is not copied into memory).
   */
  blob(): Blob | undefined {
    const parts: BlobPart[] = [];
    for (const [i, source] of this.sources.entries()) {
      if (!source.blobPart) return undefined;
      parts.push(this.#headers[i] as Uint8Array<ArrayBuffer>, source.blobPart, PART_END);
    }
    parts.push(closingDelimiter(this.boundary));
    return new Blob(parts);
  }

  /** A fresh body for one attempt: the sources are opened (again) as it is read. */
  open(hooks: BodyHooks): MultipartBody {
    return new MultipartBody(this.sources, this.#headers, this.boundary, this.#maxBytes, hooks);
  }

  /** The same, as chunks from reused buffers, for the `node:http` path of the transport. */
  openReused(hooks: BodyHooks): ReusedMultipartBody {
    return new ReusedMultipartBody(
      this.sources,
      this.#headers,
      this.boundary,
      this.#maxBytes,
      hooks,
    );
  }
}

/**
 * Frames the sources of one attempt: each source's header, its chunks, the
 * part end, and finally the closing delimiter; `undefined` after that. Checks
 * sizes as it goes and reports bytes to the hooks. `read` gets a source's next
 * chunk (a fresh buffer, or a reused one: see {@link ReusedMultipartBody}).
 */
class Framer {
  readonly #sources: readonly PreparedSource[];
  readonly #headers: readonly Uint8Array[];
  readonly #boundary: string;
  readonly #maxBytes: number;
  readonly #hooks: BodyHooks;
  readonly #read: (reader: ChunkReader) => Promise<Uint8Array | undefined>;
  readonly readers: ChunkReader[] = [];
  #index = 0;
  #reader: ChunkReader | undefined;
  #count = 0;
  #ended = false;

  constructor(
    sources: readonly PreparedSource[],
    headers: readonly Uint8Array[],
    boundary: string,
    maxBytes: number,
    hooks: BodyHooks,
    read: (reader: ChunkReader) => Promise<Uint8Array | undefined>,
  ) {
    this.#sources = sources;
    this.#headers = headers;
    this.#boundary = boundary;
    this.#maxBytes = maxBytes;
    this.#hooks = hooks;
    this.#read = read;
  }

  /** The next piece of the body, or `undefined` once it is all out. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.#ended) return undefined;
      const source = this.#sources[this.#index];
      if (!source) {
        this.#ended = true;
        this.#hooks.onEnd();
        return closingDelimiter(this.#boundary);
      }
      if (!this.#reader) {
        this.#reader = source.open();
        this.readers.push(this.#reader);
        this.#count = 0;
        return this.#headers[this.#index] as Uint8Array;
      }
      const chunk = await this.#read(this.#reader);
      if (chunk === undefined) {
        if (source.size !== undefined && this.#count !== source.size) {
          throw new UploadError(
            `${source.label} ended after ${this.#count} bytes but its size was given as ${source.size}. Pass the exact size, or omit it.`,
          );
        }
        this.#reader = undefined;
        this.#index += 1;
        return PART_END;
      }
      if (chunk.byteLength === 0) continue;
      this.#count += chunk.byteLength;
      if (source.size !== undefined && this.#count > source.size) {
        throw new UploadError(
          `${source.label} produced more than the ${source.size} bytes given as its size. Pass the exact size, or omit it.`,
        );
      }
      if (source.size === undefined && this.#count > this.#maxBytes) {
        throw tooLargeError(source.label, this.#maxBytes, this.#maxBytes, true);
      }
      this.#hooks.onBytes(source, chunk.byteLength);
      return chunk;
    }
  }
}

/**
 * One attempt's body: a pull-driven `ReadableStream` that frames each source's
 * chunks as they are requested, so at most a chunk or two is in memory.
 */
export class MultipartBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #framer: Framer;
  #closed = false;

  constructor(
    sources: readonly PreparedSource[],
    headers: readonly Uint8Array[],
    boundary: string,
    maxBytes: number,
    hooks: BodyHooks,
  ) {
    const framer = new Framer(sources, headers, boundary, maxBytes, hooks, (reader) =>
      reader.next(),
    );
    this.#framer = framer;
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (this.#closed) return;
          try {
            const piece = await framer.next();
            if (this.#closed) return;
            if (piece === undefined) controller.close();
            else controller.enqueue(piece);
          } catch (error) {
            if (this.#closed) return;
            await this.close();
            hooks.onFatal(error);
            throw error;
          }
        },
        cancel: async () => {
          await this.close();
        },
      },
      // One chunk of read-ahead: the next disk read overlaps the socket write.
      { highWaterMark: 1 },
    );
  }

  /** Release every source this attempt opened (file handles, streams). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#framer.readers.map((r) => r.close()));
  }
}

/**
 * One attempt's body as {@link ReusedChunks} (the `node:http` upload path):
 * file chunks are read into two buffers used in turn, so a 500 MB upload
 * allocates nothing per chunk. While the transfer writes one buffer, the next
 * chunk is read into the other (the disk read overlaps the socket write); a
 * buffer is read into again only after the transfer asked for the next chunk,
 * that is, once the runtime is done with it.
 */
export class ReusedMultipartBody implements ReusedChunks {
  readonly #framer: Framer;
  readonly #hooks: BodyHooks;
  #closed = false;
  #buffers: [Uint8Array, Uint8Array] | undefined;
  /** Which buffer the chunk handed out last lives in (the transfer may still use it). */
  #held = 1;
  /** The next chunk of the current source, being read into the other buffer. */
  #ahead: { reader: ChunkReader; chunk: Promise<Uint8Array | undefined> } | undefined;

  constructor(
    sources: readonly PreparedSource[],
    headers: readonly Uint8Array[],
    boundary: string,
    maxBytes: number,
    hooks: BodyHooks,
  ) {
    this.#hooks = hooks;
    this.#framer = new Framer(sources, headers, boundary, maxBytes, hooks, (reader) =>
      this.#readReused(reader),
    );
  }

  async #readReused(reader: ChunkReader): Promise<Uint8Array | undefined> {
    this.#buffers ??= [allocate(CHUNK_BYTES), allocate(CHUNK_BYTES)];
    const buffers = this.#buffers;
    let chunk: Uint8Array | undefined;
    if (this.#ahead?.reader === reader) {
      chunk = await this.#ahead.chunk;
      this.#held = 1 - this.#held;
    } else {
      // The first chunk of a source: into the buffer the transfer is not holding.
      const into = buffers[1 - this.#held] as Uint8Array;
      chunk = await reader.next(into);
      this.#held = 1 - this.#held;
    }
    this.#ahead = undefined;
    if (chunk !== undefined && chunk.byteLength > 0) {
      const into = buffers[1 - this.#held] as Uint8Array;
      const ahead = reader.next(into);
      ahead.catch(() => {}); // awaited by the next call; a failure surfaces there
      this.#ahead = { reader, chunk: ahead };
    }
    return chunk;
  }

  async next(): Promise<Uint8Array | undefined> {
    if (this.#closed) return undefined;
    try {
      return await this.#framer.next();
    } catch (error) {
      if (this.#closed) return undefined;
      await this.close();
      this.#hooks.onFatal(error);
      throw error;
    }
  }

  /** Release every source this attempt opened. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ahead?.chunk.catch(() => {});
    await Promise.all(this.#framer.readers.map((r) => r.close()));
  }
}

/** A buffer for file reads: uninitialised in Node (the read overwrites it). */
function allocate(length: number): Uint8Array {
  return typeof Buffer === 'function' ? Buffer.allocUnsafeSlow(length) : new Uint8Array(length);
}
