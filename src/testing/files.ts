/**
 * Serving a file the way a CDN does (RFC 9110): `Accept-Ranges: bytes`, a strong `ETag`,
 * `Last-Modified`, one `Range` per request (206 with `Content-Range`; 416 with
 * `Content-Range: bytes * /<size>` when it cannot be satisfied; a syntactically invalid or
 * multi-range header is ignored: 200), `If-Range` (a validator that does not match → the
 * whole file, 200), `If-None-Match` (304) and `HEAD`.
 *
 * @module
 */

/** A file to serve. */
export interface ServedFile {
  size: number;
  /** Strong entity tag, quoted. */
  etag: string;
  /** `Last-Modified`, clock ms. */
  lastModified: number;
  /** Name for `Content-Disposition`. */
  name: string;
  /** Bytes `[start, end)`; `onBytes` gets the size of each chunk as it is handed out. */
  stream(start: number, end: number, onBytes?: (bytes: number) => void): ReadableStream<Uint8Array>;
}

/** How to serve it. */
export interface ServeOptions {
  /** Act as a server without range support: always the whole file, no `Accept-Ranges`. */
  ignoreRange?: boolean | undefined;
  /** Called with the size of every chunk handed to the connection. */
  onBytes?: ((bytes: number) => void) | undefined;
}

/**
 * Parse a `Range` header against `size`: `undefined` when absent, invalid or multi-range
 * (served whole), `null` when unsatisfiable (416), else `[start, end)`.
 */
export function parseRange(
  header: string | null,
  size: number,
): { start: number; end: number } | null | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // last < first: invalid, ignored
  if (start >= size) return null;
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  return { start, end };
}

/** Strong comparison of an `If-Range` value with the file's validators. */
function ifRangeMatches(value: string, file: ServedFile): boolean {
  const v = value.trim();
  if (v.startsWith('"')) return v === file.etag;
  if (v.startsWith('W/')) return false; // weak tags never match for ranges
  const date = Date.parse(v);
  return !Number.isNaN(date) && Math.floor(date / 1000) === Math.floor(file.lastModified / 1000);
}

/** Weak comparison for `If-None-Match` (a list of tags, or `*`). */
function noneMatch(value: string, etag: string): boolean {
  if (value.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return value.split(',').some((t) => t.trim().replace(/^W\//, '') === opaque);
}

/** The response serving `file` for `request` (GET or HEAD). */
export function serveFile(
  request: Request,
  file: ServedFile,
  options: ServeOptions = {},
): Response {
  const headers: Record<string, string> = {
    'content-type': 'video/mp4',
    'content-disposition': `attachment; filename="${file.name}"`,
    etag: file.etag,
    'last-modified': new Date(Math.floor(file.lastModified / 1000) * 1000).toUTCString(),
  };
  if (!options.ignoreRange) headers['accept-ranges'] = 'bytes';
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch !== null && noneMatch(ifNoneMatch, file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  const head = request.method === 'HEAD';
  // Range applies to GET only; If-Range without a match means "send me the whole new file".
  let range: ReturnType<typeof parseRange>;
  if (!head && !options.ignoreRange) {
    range = parseRange(request.headers.get('range'), file.size);
    const ifRange = request.headers.get('if-range');
    if (range !== undefined && ifRange !== null && !ifRangeMatches(ifRange, file)) {
      range = undefined;
    }
  }
  if (range === null) {
    headers['content-range'] = `bytes */${file.size}`;
    return new Response(null, { status: 416, headers });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size;
  headers['content-length'] = String(end - start);
  if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${file.size}`;
  const body = head ? null : file.stream(start, end, options.onBytes);
  return new Response(body, { status: range ? 206 : 200, headers });
}
