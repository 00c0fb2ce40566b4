import type { BackendProfile } from '../../core/backend.js';
import { nodeFs, nodeFsSync, nodePath, nodeUrl } from '../../core/node.js';
import {
  ConfigError,
  FileTooLargeError,
  UnsupportedFileTypeError,
  UploadError,
} from '../../errors/errors.js';
import { ErrorCode, formatBytes } from '../../errors/from-response.js';
import { contentTypeFor, extensionOf } from './content-type.js';

/**
 * A one-shot byte stream: a web `ReadableStream`, a Node `Readable`, or any
 * `AsyncIterable` of byte chunks. It can be read once, so an upload from a stream
 * is never retried.
 */
export type ByteStream = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Anything {@link toUpload} can name: bytes, a `Blob`, a stream, or a path (`string` / `file:` URL). */
export type UploadData = Blob | ArrayBuffer | ArrayBufferView | ByteStream | string | URL;

/**
 * A named upload source: what {@link toUpload} returns, or the same object
 * written by hand (`{ data: bytes, filename: 'clip.mp4' }`).
 */
export interface UploadSource {
  /** The bytes, a `Blob`, a stream, or a filesystem path (`string` or `file:` URL, Node only). */
  readonly data: UploadData;
  /** File name sent to the service; its extension decides the accepted format and the content type. */
  readonly filename: string;
  /** Byte length of a stream, when known: checked against `maxBytes` before sending and used for progress. */
  readonly size?: number | undefined;
  /** `Content-Type` of the part. Default: from the file name's extension. */
  readonly contentType?: string | undefined;
}

/**
 * One thing to upload:
 * - a filesystem path, as a `string` or a `file:` `URL` (Node only);
 * - a `File` (its `name` is the file name);
 * - a `Blob`, `Uint8Array`/`Buffer`, `ArrayBuffer` or a stream, named with
 *   {@link toUpload} or as `{ data, filename }`.
 */
export type UploadInput = string | URL | Blob | UploadSource;

/** Options of {@link toUpload}. */
export interface ToUploadOptions {
  /** File name sent to the service (for example `clip.mp4`). Required: it decides the format. */
  filename: string;
  /** Byte length of a stream, when known (enables the size check before sending, and percentages). */
  size?: number | undefined;
  /** `Content-Type` of the part. Default: from the file name's extension. */
  contentType?: string | undefined;
}

/**
 * Name an upload source: a stream (web `ReadableStream`, Node `Readable`, any
 * `AsyncIterable<Uint8Array>`), bytes, a `Blob`, or a path to send under another name.
 *
 * A stream is read once: the upload is not retried, and the SDK cancels the
 * stream if the upload fails after it started reading it.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * import { toUpload } from 'nemovideo';
 *
 * await session.upload(toUpload(createReadStream('take1.mov'), { filename: 'take1.mov', size: 73_400_320 }));
 * await session.upload(toUpload(pngBytes, { filename: 'logo.png' }));
 * ```
 */
export function toUpload(data: UploadData, options: ToUploadOptions): UploadSource {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(
      "toUpload() needs options with a filename, e.g. toUpload(stream, { filename: 'clip.mp4' }).",
    );
  }
  const source: UploadSource = {
    data,
    filename: options.filename,
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
  };
  checkSource(source, 'toUpload()');
  return source;
}

/** How a prepared source is read. */
export type SourceKind = 'path' | 'blob' | 'bytes' | 'stream';

/** Reads one source, chunk by chunk. `close()` releases it (file handle, stream) and is idempotent. */
export interface ChunkReader {
  /**
   * The next chunk, or `undefined` at the end. A file reader reads into `into`
   * when given (at least {@link CHUNK_BYTES} long) instead of a fresh buffer;
   * other readers ignore it.
   */
  next(into?: Uint8Array): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

/** A validated input, ready to be read once per attempt. */
export interface PreparedSource {
  index: number;
  kind: SourceKind;
  filename: string;
  contentType: string;
  /** Byte length, when known before reading. */
  size: number | undefined;
  /** Can be read again for a retry. */
  replayable: boolean;
  /** Names the source in messages (`/videos/a.mp4`, `the stream "a.mp4"`). */
  label: string;
  /** A fresh reader. A one-shot stream throws on the second call. */
  open(): ChunkReader;
  /** The data itself, for Blobs and bytes (to build a `Blob` body where streamed bodies are unsupported). */
  blobPart?: Blob | Uint8Array<ArrayBuffer> | undefined;
}

/** Size of the chunks read from files and sliced from byte arrays. */
export const CHUNK_BYTES = 1024 * 1024;

// ── input classification ──

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReadableStream).getReader === 'function' &&
    typeof (value as ReadableStream).cancel === 'function'
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function'
  );
}

function isBytes(value: unknown): value is ArrayBuffer | ArrayBufferView {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isUploadSource(value: unknown): value is UploadSource {
  return typeof value === 'object' && value !== null && 'data' in value && 'filename' in value;
}

function toUint8(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

function checkSource(source: UploadSource, where: string): void {
  if (typeof source.filename !== 'string' || source.filename.trim() === '') {
    throw new ConfigError(
      `${where} needs a non-empty filename with an extension, e.g. { filename: 'clip.mp4' } (got ${JSON.stringify(source.filename)}).`,
    );
  }
  if (/[\\/]/.test(source.filename)) {
    throw new ConfigError(
      `${where}: filename must be a bare file name, not a path (got ${JSON.stringify(source.filename)}).`,
    );
  }
  if (source.size !== undefined && (!Number.isSafeInteger(source.size) || source.size < 0)) {
    throw new ConfigError(
      `${where}: size must be a whole number of bytes ≥ 0 (got ${String(source.size)}). Omit it when unknown.`,
    );
  }
  if (source.contentType !== undefined && typeof source.contentType !== 'string') {
    throw new ConfigError(`${where}: contentType must be a string such as 'video/mp4'.`);
  }
  const data: unknown = source.data;
  const known =
    typeof data === 'string' ||
    data instanceof URL ||
    isBlob(data) ||
    isBytes(data) ||
    isWebStream(data) ||
    isAsyncIterable(data);
  if (!known) {
    throw new ConfigError(
      `${where}: data must be bytes (Uint8Array, Buffer, ArrayBuffer), a Blob, a ReadableStream, a Node Readable or a path (got ${describe(data)}).`,
    );
  }
  if (
    source.size !== undefined &&
    (isBlob(data) || isBytes(data)) &&
    source.size !== (isBlob(data) ? data.size : toUint8(data).byteLength)
  ) {
    throw new ConfigError(
      `${where}: size ${source.size} does not match the ${isBlob(data) ? 'Blob' : 'bytes'} given (${isBlob(data) ? data.size : toUint8(data).byteLength} bytes). Omit size for Blobs and bytes.`,
    );
  }
}

// ── readers ──

/** Reads `size` bytes of a file through one handle, opened lazily, closed at the end or on `close()`. */
class FileChunkReader implements ChunkReader {
  readonly #path: string;
  readonly #size: number;
  #handle: Promise<import('node:fs/promises').FileHandle> | undefined;
  #position = 0;
  #closed = false;

  constructor(path: string, size: number) {
    this.#path = path;
    this.#size = size;
  }

  async next(into?: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.#closed) return undefined;
    this.#handle ??= nodeFs().then((fs) => fs.open(this.#path, 'r'));
    const handle = await this.#handle.catch((error: unknown) => {
      throw readError(this.#path, error);
    });
    if (this.#closed) return undefined;
    if (this.#position >= this.#size) {
      // Confirm the end: a file still being written would be cut silently otherwise.
      const probe = await handle.read(new Uint8Array(1), 0, 1, this.#position).catch((error) => {
        throw readError(this.#path, error);
      });
      await this.close();
      if (probe.bytesRead > 0) throw changedError(this.#path, this.#size, 'grew');
      return undefined;
    }
    const length = Math.min(CHUNK_BYTES, this.#size - this.#position);
    const buffer = into && into.byteLength >= length ? into : allocate(length);
    const { bytesRead } = await handle.read(buffer, 0, length, this.#position).catch((error) => {
      throw readError(this.#path, error);
    });
    if (bytesRead === 0) {
      await this.close();
      throw changedError(this.#path, this.#size, 'shrank');
    }
    this.#position += bytesRead;
    return bytesRead === buffer.byteLength ? buffer : buffer.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const handle = await this.#handle?.catch(() => undefined);
    await handle?.close().catch(() => {});
  }
}

/** A buffer for a file read. In Node, uninitialised (no zero-fill: the read overwrites it). */
function allocate(length: number): Uint8Array {
  return typeof Buffer === 'function' ? Buffer.allocUnsafeSlow(length) : new Uint8Array(length);
}

function changedError(path: string, size: number, how: 'grew' | 'shrank'): UploadError {
  return new UploadError(
    `${path} changed while it was being uploaded (it ${how} from ${size} bytes). Wait until the file is complete, then upload it again.`,
  );
}

function readError(path: string, error: unknown): UploadError {
  const reason = error instanceof Error ? error.message : String(error);
  return new UploadError(`Could not read ${path}: ${reason}.`, { cause: error });
}

class BlobChunkReader implements ChunkReader {
  readonly #blob: Blob;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #closed = false;

  constructor(blob: Blob) {
    this.#blob = blob;
  }

  async next(): Promise<Uint8Array | undefined> {
    if (this.#closed) return undefined;
    this.#reader ??= this.#blob.stream().getReader();
    const { done, value } = await this.#reader.read();
    if (done) {
      this.#closed = true;
      return undefined;
    }
    return value;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
  }
}

class BytesChunkReader implements ChunkReader {
  readonly #bytes: Uint8Array;
  #position = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  async next(): Promise<Uint8Array | undefined> {
    if (this.#position >= this.#bytes.byteLength) return undefined;
    const end = Math.min(this.#bytes.byteLength, this.#position + CHUNK_BYTES);
    const chunk = this.#bytes.subarray(this.#position, end);
    this.#position = end;
    return chunk;
  }

  async close(): Promise<void> {}
}

/** Reads a user's stream; `close()` cancels it (a Node `Readable` is destroyed). */
class StreamChunkReader implements ChunkReader {
  readonly #label: string;
  readonly #read: () => Promise<{ done: boolean; value: unknown }>;
  readonly #cancel: () => Promise<unknown>;
  #done = false;

  constructor(stream: ByteStream, label: string) {
    this.#label = label;
    if (isWebStream(stream)) {
      const reader = stream.getReader();
      this.#read = async () => {
        const r = await reader.read();
        return { done: r.done, value: r.value };
      };
      this.#cancel = () => reader.cancel();
    } else {
      const iterator = stream[Symbol.asyncIterator]();
      this.#read = async () => {
        const r = await iterator.next();
        return { done: r.done === true, value: r.value };
      };
      this.#cancel = async () => iterator.return?.();
    }
  }

  async next(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    let result: { done: boolean; value: unknown };
    try {
      result = await this.#read();
    } catch (error) {
      this.#done = true;
      const reason = error instanceof Error ? error.message : String(error);
      throw new UploadError(`Reading ${this.#label} failed: ${reason}.`, { cause: error });
    }
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    const value = result.value;
    if (isBytes(value)) return toUint8(value);
    await this.close();
    throw new UploadError(
      `${this.#label} produced a ${describe(value)} chunk; upload streams must produce bytes (Uint8Array or Buffer).${typeof value === 'string' ? ' Do not set an encoding on the stream.' : ''}`,
    );
  }

  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#cancel().catch(() => {});
  }
}

// ── preparation (validation before any byte is sent) ──

interface PrepareContext {
  backend: BackendProfile;
  maxBytes: number;
}

/** Node, or a runtime that says it is Node-compatible (Bun, Deno): files and streamed request bodies work. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function filePathOf(input: string | URL, what: string): Promise<string> {
  const isUrl = input instanceof URL || /^file:/i.test(input);
  if (!isNode()) {
    throw new ConfigError(
      `Uploading from a filesystem path (${String(input)}) needs Node.js. In a browser, pass the File from an <input type="file"> instead.`,
    );
  }
  if (!isUrl) return input as string;
  const { fileURLToPath } = await nodeUrl();
  try {
    return fileURLToPath(input);
  } catch (error) {
    throw new ConfigError(`${what} is not a usable file: URL (${String(input)}).`, {
      cause: error,
    });
  }
}

async function statFile(path: string): Promise<number> {
  const fs = await nodeFs();
  let stats: import('node:fs').Stats;
  try {
    stats = await fs.stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UploadError(
        `No file at ${path}. Check the path (relative paths start from ${process.cwd()}).`,
        { cause: error },
      );
    }
    throw readError(path, error);
  }
  if (stats.isDirectory()) {
    throw new UploadError(`${path} is a directory; pass the path of a video, image or audio file.`);
  }
  if (!stats.isFile()) {
    throw new UploadError(
      `${path} is not a regular file (a pipe or device cannot be read twice or measured). Wrap a stream of it with toUpload(stream, { filename }) instead.`,
    );
  }
  try {
    await fs.access(path, (await nodeFsSync()).constants.R_OK);
  } catch (error) {
    throw readError(path, error);
  }
  return stats.size;
}

function checkFormat(filename: string, label: string, backend: BackendProfile): void {
  const extension = extensionOf(filename);
  const accepted = backend.acceptedFormats.map((f) => f.toLowerCase());
  if (extension !== '' && accepted.includes(extension)) return;
  const what =
    extension === ''
      ? `has no file extension, so its format is unknown`
      : `is a .${extension} file, which the service does not accept`;
  throw new UnsupportedFileTypeError(
    `Cannot upload ${label}: it ${what}. Accepted formats: ${accepted.join(', ')}. Convert the file, or name it with toUpload(data, { filename }) if the extension is wrong.`,
    {
      httpStatus: 0,
      code: ErrorCode.UnsupportedFileType,
      acceptedFormats: backend.acceptedFormats,
    },
  );
}

/** The local "file too large" error (also used while streaming a stream of unknown size). */
export function tooLargeError(
  label: string,
  maxBytes: number,
  size: number,
  streaming: boolean,
): FileTooLargeError {
  const what = streaming
    ? `passed the upload limit of ${formatBytes(maxBytes)} while streaming (more than ${formatBytes(size)} read), so the upload was aborted`
    : `is ${formatBytes(size)} (${size} bytes), over the upload limit of ${formatBytes(maxBytes)} (${maxBytes} bytes)`;
  return new FileTooLargeError(
    `Cannot upload ${label}: it ${what}. Compress or trim it first; the maxBytes option sets the limit checked locally.`,
    { httpStatus: 0, code: ErrorCode.FileTooLarge, maxBytes },
  );
}

async function prepareOne(
  input: unknown,
  index: number,
  ctx: PrepareContext,
): Promise<PreparedSource> {
  const where = `upload() input ${index}`;
  let source: UploadSource;
  if (typeof input === 'string' || input instanceof URL) {
    source = { data: input, filename: '' };
  } else if (isUploadSource(input)) {
    checkSource(input, where);
    source = input;
  } else if (isBlob(input)) {
    const name = (input as Partial<File>).name;
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError(
        `${where} is a Blob without a file name. Name it: toUpload(blob, { filename: 'clip.mp4' }).`,
      );
    }
    source = { data: input, filename: name };
  } else if (isBytes(input)) {
    throw new ConfigError(
      `${where} is bytes without a file name. Name them: toUpload(bytes, { filename: 'clip.mp4' }) or { data: bytes, filename: 'clip.mp4' }.`,
    );
  } else if (isWebStream(input) || isAsyncIterable(input)) {
    throw new ConfigError(
      `${where} is a stream without a file name. Wrap it: toUpload(stream, { filename: 'clip.mp4', size }).`,
    );
  } else {
    throw new ConfigError(
      `${where} is a ${describe(input)}; pass a path, a File/Blob, bytes or a stream named with toUpload().`,
    );
  }

  const data = source.data;
  if (typeof data === 'string' || data instanceof URL) {
    const text = String(data);
    if (/^https?:\/\//i.test(text)) {
      throw new ConfigError(
        `${where} is a web URL (${text}). upload() sends local files; use session.uploadUrl(url) to let the service fetch it.`,
      );
    }
    if (data instanceof URL && data.protocol !== 'file:') {
      throw new ConfigError(
        `${where} is a ${data.protocol} URL; only file: URLs name local files.`,
      );
    }
    if (text.trim() === '') throw new ConfigError(`${where} is an empty path.`);
    const path = await filePathOf(data, where);
    const filename = source.filename || (await nodePath()).basename(path);
    checkFormat(filename, path, ctx.backend);
    const size = await statFile(path);
    if (size > ctx.maxBytes) throw tooLargeError(path, ctx.maxBytes, size, false);
    return {
      index,
      kind: 'path',
      filename,
      contentType: source.contentType ?? contentTypeFor(filename),
      size,
      replayable: true,
      label: path,
      open: () => new FileChunkReader(path, size),
    };
  }

  const filename = source.filename;
  if (isBlob(data)) {
    const label = `the ${(data as Partial<File>).name !== undefined ? 'File' : 'Blob'} "${filename}"`;
    checkFormat(filename, label, ctx.backend);
    if (data.size > ctx.maxBytes) throw tooLargeError(label, ctx.maxBytes, data.size, false);
    return {
      index,
      kind: 'blob',
      filename,
      contentType: source.contentType ?? contentTypeFor(filename, data.type),
      size: data.size,
      replayable: true,
      label,
      open: () => new BlobChunkReader(data),
      blobPart: data,
    };
  }
  if (isBytes(data)) {
    const bytes = toUint8(data);
    const label = `the bytes "${filename}"`;
    checkFormat(filename, label, ctx.backend);
    if (bytes.byteLength > ctx.maxBytes) {
      throw tooLargeError(label, ctx.maxBytes, bytes.byteLength, false);
    }
    return {
      index,
      kind: 'bytes',
      filename,
      contentType: source.contentType ?? contentTypeFor(filename),
      size: bytes.byteLength,
      replayable: true,
      label,
      open: () => new BytesChunkReader(bytes),
      blobPart: bytes as Uint8Array<ArrayBuffer>,
    };
  }
  const stream = data as ByteStream;
  const label = `the stream "${filename}"`;
  if (isWebStream(stream) && stream.locked) {
    throw new ConfigError(
      `${where}: ${label} is locked (a reader is already attached). Pass a stream nobody else reads.`,
    );
  }
  checkFormat(filename, label, ctx.backend);
  if (source.size !== undefined && source.size > ctx.maxBytes) {
    throw tooLargeError(label, ctx.maxBytes, source.size, false);
  }
  let opened = false;
  return {
    index,
    kind: 'stream',
    filename,
    contentType: source.contentType ?? contentTypeFor(filename),
    size: source.size,
    replayable: false,
    label,
    open: () => {
      if (opened) {
        throw new UploadError(
          `${label} was already read once and cannot be sent again. Pass a path, Blob or bytes to allow retries.`,
        );
      }
      opened = true;
      return new StreamChunkReader(stream, label);
    },
  };
}

/**
 * Validate every input before anything is sent: names, formats, sizes, paths.
 * Throws the first problem found; nothing is read or opened for good here.
 */
export async function prepareSources(
  inputs: readonly unknown[],
  ctx: PrepareContext,
): Promise<PreparedSource[]> {
  const prepared: PreparedSource[] = [];
  for (const [index, input] of inputs.entries()) {
    prepared.push(await prepareOne(input, index, ctx));
  }
  return prepared;
}
