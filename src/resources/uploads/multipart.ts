/**
 * A streamed `multipart/form-data` encoder (RFC 7578, with the escaping of the
 * WHATWG "multipart/form-data encoding algorithm" that browsers and undici use).
 *
 * The platform `FormData` cannot hold a one-shot stream without buffering it,
 * and `Request.clone()`/`Response(formData)` gives no per-file progress, so the
 * SDK frames the parts itself: a few hundred bytes of headers around each file's
 * own chunks, never a copy of the file.
 */

const encoder = new TextEncoder();

/** One file part, as framed on the wire. */
export interface MultipartPart {
  /** Form field name (`files`). */
  name: string;
  /** File name as sent in `Content-Disposition`. */
  filename: string;
  /** `Content-Type` of the part. */
  contentType: string;
  /** Byte length of the file, when known. */
  size: number | undefined;
}

/** A boundary that cannot plausibly occur in the content: 24 random hex digits (96 bits). */
export function createBoundary(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `----nemovideo-${hex}`;
}

/**
 * Escape a name for a quoted `Content-Disposition` parameter exactly as
 * browsers and undici do: LF, CR and `"` become `%0A`, `%0D` and `%22`; every
 * other character is sent as UTF-8.
 *
 * No `filename*` (RFC 5987) is added for other names: RFC 7578 §4.2 forbids it,
 * browsers never send it, and WHATWG-conformant parsers (undici's
 * `Request.formData()`, hence many Node, Deno and Bun servers) reject a part
 * that has it. Sending what browsers send is what every server handles.
 */
export function escapeQuoted(value: string): string {
  return value.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

/** Strip characters that would break the header line out of a content type. */
function safeContentType(value: string): string {
  return value.replace(/[\r\n]/g, '').trim() || 'application/octet-stream';
}

/** The bytes that open a part: delimiter, `Content-Disposition`, `Content-Type`, blank line. */
export function partHeader(boundary: string, part: MultipartPart): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${escapeQuoted(part.name)}"; filename="${escapeQuoted(part.filename)}"\r\n` +
      `Content-Type: ${safeContentType(part.contentType)}\r\n\r\n`,
  );
}

/** The CRLF that ends each part's content. */
export const PART_END: Uint8Array<ArrayBuffer> = encoder.encode('\r\n');

/** The closing delimiter of the whole body. */
export function closingDelimiter(boundary: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`--${boundary}--\r\n`);
}

/** The `Content-Type` header value of the body. */
export function multipartContentType(boundary: string): string {
  return `multipart/form-data; boundary=${boundary}`;
}

/** Exact byte length of the encoded body, or `undefined` when a part's size is unknown. */
export function multipartLength(
  boundary: string,
  parts: readonly MultipartPart[],
): number | undefined {
  let total = closingDelimiter(boundary).byteLength;
  for (const part of parts) {
    if (part.size === undefined) return undefined;
    total += partHeader(boundary, part).byteLength + part.size + PART_END.byteLength;
  }
  return total;
}
