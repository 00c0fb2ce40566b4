/**
 * A file path as a download target (Node), resumable.
 *
 * The bytes go to `<name>.part` beside the target, renamed over it only when
 * complete and checked. With `resume` on (the default), an interrupted
 * download keeps `<name>.part` and a small sidecar, `<name>.part.json` (the URL
 * without its query string, the render id, the `ETag` / `Last-Modified`
 * validators, the file's size, and the byte count after a clean stop; never a
 * credential), and the next download to the same path asks for the rest with
 * `Range` and `If-Range`. With `resume` off, a random temporary name is used
 * and removed on failure.
 *
 * Names never grow past NAME_MAX (255 bytes): when `<name>` plus the suffix
 * would, the stem is shortened and a hash of the full name keeps it unique.
 */
import { nodeFs, nodeFsSync, nodePath } from '../../core/node.js';
import type { FetchedResponse } from '../../core/transfer.js';
import { ConfigError, DownloadError } from '../../errors/errors.js';
import {
  type FileWriter,
  MAX_WRITES_IN_FLIGHT,
  openFileWriter,
  WRITE_PIECE_BYTES,
} from './file-writer.js';
import type { Begin, Sink } from './sinks.js';

type Fs = typeof import('node:fs');
type Fsp = typeof import('node:fs/promises');

/** The longest file name most file systems take, in bytes. */
const NAME_MAX = 255;
const PART = '.part';
const SIDECAR = '.part.json';
/** Sidecars larger than this are not ours: ignored (and replaced). */
const MAX_SIDECAR_BYTES = 16 * 1024;
/**
 * After a stop that was not clean (the process was killed), the last writes
 * may not have reached the file in order: the tail this long is fetched again.
 */
export const UNCERTAIN_TAIL_BYTES = MAX_WRITES_IN_FLIGHT * WRITE_PIECE_BYTES;

/** Part files being written by this process: a second download to one path waits for no one, it is refused. */
const active = new Set<string>();

/** What the sidecar holds (version 1). */
interface PartialMeta {
  nemovideoPartial: 1;
  /** The URL the bytes came from, without query string or fragment. */
  url: string;
  renderId?: string | undefined;
  etag?: string | undefined;
  lastModified?: string | undefined;
  /** The whole file's size, when the server said. */
  totalBytes?: number | undefined;
  /** Bytes in the part file after a clean stop; absent while writing (then the tail is uncertain). */
  bytes?: number | undefined;
  /** The process writing it, while it does. */
  pid?: number | undefined;
}

/** One chunk to the open file, a disk error typed as the file system's (both path targets). */
function writeChunk(
  writer: FileWriter | undefined,
  chunk: Uint8Array,
  path: string,
): Promise<void> | undefined {
  if (!writer) return Promise.reject(new DownloadError('The download file is closed.'));
  return writer.write(chunk)?.catch((error: unknown) => {
    throw fileSystemError(error, `write ${path}`);
  });
}

/** A file-system failure as the typed error the disk says it is. */
export function fileSystemError(error: unknown, doing: string): DownloadError | ConfigError {
  const code = (error as { code?: unknown } | null)?.code;
  const what = typeof code === 'string' ? code : undefined;
  const plain: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exceeded',
    EFBIG: 'the file is too large for this file system',
    EROFS: 'the file system is read-only',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENAMETOOLONG: 'the name is too long for this file system',
    EISDIR: 'it is a folder',
    ENOTDIR: 'a part of the path is not a folder',
    EIO: 'an input/output error',
  };
  const said = what ? (plain[what] ?? (error as Error).message) : String(error);
  return new DownloadError(
    `Cannot ${doing}: ${said}${what ? ` (${what})` : ''}. Free space or choose another target, then download again.`,
    { code: what, cause: error },
  );
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** The longest prefix of `text` that fits in `bytes` bytes of UTF-8 (never splitting a character). */
function truncateUtf8(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = byteLength(char);
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

function hash8(text: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `name`, or a shortened stem with a hash, so that `stem + suffix` (up to `suffixBytes`) fits NAME_MAX. */
export function stemFor(name: string, suffixBytes: number): string {
  if (byteLength(name) + suffixBytes <= NAME_MAX) return name;
  return `${truncateUtf8(name, NAME_MAX - suffixBytes - 9)}~${hash8(name)}`;
}

function urlKey(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** `bytes a-b/total` → its parts; `undefined` when malformed. */
function parseContentRange(
  value: string | null,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? undefined : Number(m[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

function lengthOf(response: FetchedResponse): number | undefined {
  const header = response.header('content-length');
  return header !== null && /^\s*\d+\s*$/.test(header) ? Number(header) : undefined;
}

/** True when `pid` is a live process other than this one. */
function otherLiveProcess(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  const proc = (globalThis as { process?: { pid: number; kill(pid: number, sig: 0): void } })
    .process;
  if (!proc || pid === proc.pid) return false;
  try {
    proc.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

export interface PathTargetOptions {
  /** Keep and resume partial downloads (default true). */
  resume: boolean;
  /** The URL asked for (the sidecar keeps it without its query). */
  url: URL;
  renderId: string | undefined;
}

/**
 * Open a path target: every check that can be made before a byte is
 * downloaded (the folder, the target, the names, write access), and what an
 * earlier interrupted download left to resume from.
 */
export async function openPathTarget(target: string, options: PathTargetOptions): Promise<Sink> {
  let fs: Fs;
  let fsp: Fsp;
  let path: typeof import('node:path');
  try {
    [fs, fsp, path] = await Promise.all([nodeFsSync(), nodeFs(), nodePath()]);
  } catch (error) {
    throw new ConfigError(
      'Downloading to a file path needs Node.js; in a browser pass a WritableStream as the target.',
      { cause: error },
    );
  }
  const finalPath = path.resolve(target);
  const dir = path.dirname(finalPath);
  const name = path.basename(finalPath);
  try {
    const stat = await fsp.stat(dir);
    if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`);
  } catch (error) {
    throw new ConfigError(
      `Cannot download to ${finalPath}: the folder ${dir} does not exist or is not a folder.`,
      { cause: error },
    );
  }
  try {
    const existing = await fsp.lstat(finalPath);
    if (existing.isDirectory()) {
      throw new ConfigError(
        `Cannot download to ${finalPath}: it is a folder. Pass a file path (for example ${path.join(finalPath, 'video.mp4')}).`,
      );
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as { code?: string }).code !== 'ENOENT') {
      throw fileSystemError(error, `write ${finalPath}`);
    }
  }

  if (!options.resume) return temporaryTarget(fs, fsp, path, dir, name, finalPath);

  const stem = stemFor(name, byteLength(SIDECAR));
  const partPath = path.join(dir, `${stem}${PART}`);
  const sidecarPath = path.join(dir, `${stem}${SIDECAR}`);
  if (active.has(partPath)) {
    throw new DownloadError(
      `Another download in this process is writing ${finalPath}. Wait for it, or download to another path.`,
    );
  }

  // What an earlier attempt left.
  let meta: PartialMeta | undefined;
  let offset = 0;
  try {
    const handle = await fsp.open(sidecarPath, 'r');
    try {
      const { size } = await handle.stat();
      if (size <= MAX_SIDECAR_BYTES) {
        const parsed = JSON.parse(await handle.readFile('utf8')) as Partial<PartialMeta> | null;
        if (parsed?.nemovideoPartial === 1 && typeof parsed.url === 'string') {
          meta = parsed as PartialMeta;
        }
      }
    } finally {
      await handle.close();
    }
  } catch {
    meta = undefined; // none, unreadable or not ours: start over
  }
  if (meta && otherLiveProcess(meta.pid)) {
    throw new DownloadError(
      `Process ${meta.pid} is downloading to ${finalPath} (see ${sidecarPath}). Wait for it; if no such download is running, delete ${partPath} and ${sidecarPath}.`,
    );
  }
  const sameFile =
    meta !== undefined &&
    ((options.renderId !== undefined && meta.renderId === options.renderId) ||
      meta.url === urlKey(options.url));
  const validator = meta?.etag ?? meta?.lastModified;
  if (meta && sameFile && validator) {
    const held = await fsp.stat(partPath).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
    offset = meta.bytes === held ? held : Math.max(0, held - UNCERTAIN_TAIL_BYTES);
    if (meta.totalBytes !== undefined && offset > meta.totalBytes) offset = 0;
  }
  if (offset === 0) meta = undefined;

  // Write access, before any byte is downloaded: EROFS, EACCES, ENAMETOOLONG surface here.
  try {
    const handle = await fsp.open(partPath, offset > 0 ? 'r+' : 'w', 0o644);
    await handle.close();
  } catch (error) {
    throw fileSystemError(error, `write the download beside ${finalPath}`);
  }
  active.add(partPath);

  let writer: FileWriter | undefined;
  let released = false;
  const writeMeta = async (next: PartialMeta | undefined) => {
    meta = next;
    if (!next) {
      await fsp.rm(sidecarPath, { force: true });
      return;
    }
    await fsp.writeFile(sidecarPath, `${JSON.stringify(next)}\n`, { mode: 0o600 });
  };
  const pid = (globalThis as { process?: { pid: number } }).process?.pid;
  const startOver = async (response: FetchedResponse, total: number | undefined) => {
    offset = 0;
    await writeMeta({
      nemovideoPartial: 1,
      url: urlKey(options.url),
      renderId: options.renderId,
      etag: strongEtag(response.header('etag')),
      lastModified: response.header('last-modified') ?? undefined,
      totalBytes: total,
      pid,
    });
    writer = await openFileWriter(fs, partPath, 0);
  };
  const release = () => {
    if (released) return;
    released = true;
    active.delete(partPath);
  };

  const sink: Sink = {
    requestHeaders() {
      const validator = meta?.etag ?? meta?.lastModified;
      if (offset <= 0 || !validator) return {};
      return { range: `bytes=${offset}-`, 'if-range': validator };
    },

    async begin(response) {
      try {
        if (response.status === 416) {
          if (offset > 0 && meta?.totalBytes === offset) return { kind: 'complete', total: offset };
          offset = 0;
          meta = undefined;
          return { kind: 'restart', why: 'the server has no bytes past the part file' };
        }
        if (response.status === 206) {
          const range = parseContentRange(response.header('content-range'));
          const etag = strongEtag(response.header('etag'));
          const sameValidator = !etag || !meta?.etag || etag === meta.etag;
          const sameTotal =
            range?.total === undefined ||
            meta?.totalBytes === undefined ||
            range.total === meta.totalBytes;
          if (!range || range.start !== offset || !sameValidator || !sameTotal) {
            offset = 0;
            meta = undefined;
            return {
              kind: 'restart',
              why: `an unexpected range (${response.header('content-range') ?? 'no Content-Range'})`,
            };
          }
          if (offset === 0) await startOver(response, range.total);
          else {
            await writeMeta({
              ...(meta as PartialMeta),
              totalBytes: range.total,
              bytes: undefined,
              pid,
            });
            writer = await openFileWriter(fs, partPath, offset);
          }
          return { kind: 'write', offset, total: range.total };
        }
        // A whole file (200): a fresh start, whatever was held.
        const total = lengthOf(response);
        await startOver(response, total);
        return { kind: 'write', offset: 0, total };
      } catch (error) {
        if (error instanceof DownloadError || error instanceof ConfigError) throw error;
        throw fileSystemError(error, `write ${partPath}`);
      }
    },

    write: (chunk) => writeChunk(writer, chunk, partPath),

    canContinue: () => true,

    async commit() {
      const open = writer;
      writer = undefined;
      try {
        await open?.finish();
        await fsp.rename(partPath, finalPath);
      } catch (error) {
        if (open) offset = open.committed;
        throw fileSystemError(error, `write ${finalPath}`);
      }
      await fsp.rm(sidecarPath, { force: true }).catch(() => {});
      release();
      return finalPath;
    },

    async pause() {
      const open = writer;
      writer = undefined;
      if (open) offset = await open.stop();
      if (meta) await writeMeta({ ...meta, bytes: offset, pid: undefined }).catch(() => {});
    },

    async close(keep) {
      await sink.pause();
      release();
      const validator = meta?.etag ?? meta?.lastModified;
      if (keep && offset > 0 && validator) return { path: partPath, bytes: offset };
      await fsp.rm(partPath, { force: true }).catch(() => {});
      await fsp.rm(sidecarPath, { force: true }).catch(() => {});
      return undefined;
    },
  };
  return sink;
}

/** A strong `ETag` (the only kind `If-Range` may carry), else `undefined`. */
function strongEtag(value: string | null): string | undefined {
  const etag = value?.trim();
  if (!etag || /^W\//i.test(etag)) return undefined;
  return etag;
}

/** `resume: false`: a random temporary name, removed on failure; every attempt starts over. */
async function temporaryTarget(
  fs: Fs,
  fsp: Fsp,
  path: typeof import('node:path'),
  dir: string,
  name: string,
  finalPath: string,
): Promise<Sink> {
  const random = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  // `.` + stem + `.` + 12 hex + `.part`
  const tempPath = path.join(dir, `.${stemFor(name, 19)}.${random}${PART}`);
  let writer: FileWriter | undefined;
  try {
    writer = await openFileWriter(fs, tempPath);
  } catch (error) {
    throw fileSystemError(error, `write the download beside ${finalPath}`);
  }
  let fresh = true;
  return {
    requestHeaders: () => ({}),
    async begin(response): Promise<Begin> {
      if (response.status === 416) return { kind: 'restart', why: 'HTTP 416 without a range' };
      if (!fresh || !writer) {
        await writer?.destroy();
        try {
          writer = await openFileWriter(fs, tempPath);
        } catch (error) {
          throw fileSystemError(error, `write ${tempPath}`);
        }
      }
      fresh = false;
      return { kind: 'write', offset: 0, total: undefined };
    },
    write: (chunk) => writeChunk(writer, chunk, tempPath),
    canContinue: () => true,
    async commit() {
      const open = writer;
      writer = undefined;
      try {
        await open?.finish();
        await fsp.rename(tempPath, finalPath);
      } catch (error) {
        await fsp.rm(tempPath, { force: true }).catch(() => {});
        throw fileSystemError(error, `write ${finalPath}`);
      }
      return finalPath;
    },
    async pause() {
      await writer?.destroy();
      writer = undefined;
      fresh = false;
    },
    async close() {
      await writer?.destroy();
      writer = undefined;
      await fsp.rm(tempPath, { force: true }).catch(() => {});
      return undefined;
    },
  };
}
