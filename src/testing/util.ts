/**
 * Small web-standard helpers of the emulator: responses, ids, path matching, timers.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A JSON response. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  const bytes = encoder.encode(JSON.stringify(body));
  return new Response(bytes, {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(bytes.byteLength),
      ...headers,
    },
  });
}

/** Encode a string as UTF-8. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `n` random characters from `[0-9a-z]`. */
export function randomId(n: number): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A numeric id string of 19 digits (session and task ids are numeric strings). */
export function numericId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(17));
  let out = '55';
  for (const b of bytes) out += String(b % 10);
  return out;
}

/** Compile a path pattern (`/a/:id/b`, `*` wildcard) to a RegExp with named groups. */
export function compilePath(pattern: string): RegExp {
  let source = '';
  for (const part of pattern.split(/(:[A-Za-z_]\w*|\*)/)) {
    if (part === '*') source += '.*';
    else if (part.startsWith(':')) source += `(?<${part.slice(1)}>[^/]+)`;
    else source += part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`);
}

/** Match a path against a compiled pattern; returns decoded params or undefined. */
export function matchPath(re: RegExp, path: string): Record<string, string> | undefined {
  const m = re.exec(path);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.groups ?? {})) {
    try {
      params[k] = decodeURIComponent(v);
    } catch {
      params[k] = v;
    }
  }
  return params;
}

/** A promise resolved after `ms` (setTimeout, so fake timers drive it), or early on abort. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Extension of a file name or URL path, lower-cased, without the dot ('' when none). */
export function extensionOf(name: string): string {
  const base = name.split(/[?#]/)[0]?.split('/').pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** Deep copy of JSON-like data. */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** True when `value` is a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An HTTP date (`Last-Modified`), second precision. */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/** 32-bit FNV-1a of a string, as 8 hex digits (stable ids for validators, not security). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The success envelope `{"code":0,"message":"success","data"}`. */
export function ok(data: unknown): Response {
  return jsonResponse({ code: 0, message: 'success', data });
}
