import { UploadError } from '../../errors/errors.js';
import {
  closingDelimiter,
  type MultipartPart,
  multipartContentType,
  multipartLength,
  PART_END,
  partHeader,
} from './multipart.js';
import { type ChunkReader, type PreparedSource, tooLargeError } from './sources.js';

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
}

/**
 * One attempt's body: a pull-driven `ReadableStream` that frames each source's
 * chunks as they are requested, so at most a chunk or two is in memory.
 */
export class MultipartBody {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #readers: ChunkReader[] = [];
  #closed = false;

  constructor(
    sources: readonly PreparedSource[],
    headers: readonly Uint8Array[],
    boundary: string,
    maxBytes: number,
    hooks: BodyHooks,
  ) {
    let index = 0;
    let reader: ChunkReader | undefined;
    let count = 0;

    const step = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
      for (;;) {
        const source = sources[index];
        if (!source) {
          controller.enqueue(closingDelimiter(boundary));
          controller.close();
          hooks.onEnd();
          return;
        }
        if (!reader) {
          reader = source.open();
          this.#readers.push(reader);
          count = 0;
          controller.enqueue(headers[index] as Uint8Array);
          return;
        }
        const chunk = await reader.next();
        if (this.#closed) return;
        if (chunk === undefined) {
          if (source.size !== undefined && count !== source.size) {
            throw new UploadError(
              `${source.label} ended after ${count} bytes but its size was given as ${source.size}. Pass the exact size, or omit it.`,
            );
          }
          reader = undefined;
          index += 1;
          controller.enqueue(PART_END);
          return;
        }
        if (chunk.byteLength === 0) continue;
        count += chunk.byteLength;
        if (source.size !== undefined && count > source.size) {
          throw new UploadError(
            `${source.label} produced more than the ${source.size} bytes given as its size. Pass the exact size, or omit it.`,
          );
        }
        if (source.size === undefined && count > maxBytes) {
          throw tooLargeError(source.label, maxBytes, maxBytes, true);
        }
        controller.enqueue(chunk);
        hooks.onBytes(source, chunk.byteLength);
        return;
      }
    };

    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (this.#closed) return;
          try {
            await step(controller);
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
    await Promise.all(this.#readers.map((r) => r.close()));
  }
}
