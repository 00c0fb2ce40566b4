/**
 * Credential redaction. Every string that can reach a user (error messages,
 * `toString()`, `toJSON()`, log lines) passes through {@link redact}, so a
 * token never leaves the process in text form.
 */

const REDACTED = '[REDACTED]';

/** Secrets seen by any client in this process (tokens are registered when first used). */
const knownSecrets = new Set<string>();

/** Patterns that look like credentials even when we never saw the exact value. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /(Bearer\s+)[^\s"',;]+/gi,
  /\bnmv_[A-Za-z0-9_.-]+/g,
  /("?(?:token|access_token|authorization)"?\s*[:=]\s*"?)[^\s"',;}]+/gi,
];

/**
 * Remember a secret so that it is scrubbed from every later message. Short values are
 * skipped unless `always` (a token the user gave explicitly), since they would redact
 * ordinary words; real tokens are long.
 */
export function registerSecret(secret: string | undefined, always = false): void {
  if (secret && (always || secret.length >= 8)) knownSecrets.add(secret);
}

/** Replace every known secret and credential-looking value in `text`. */
export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of CREDENTIAL_PATTERNS) {
    out = out.replace(pattern, (_match, prefix: string | undefined) =>
      typeof prefix === 'string' ? `${prefix}${REDACTED}` : REDACTED,
    );
  }
  return out;
}

/** True when `text` holds a known secret or something that looks like a credential. */
export function hasSecret(text: string): boolean {
  return redact(text) !== text;
}

/**
 * A cause safe to keep on an error: an `Error` whose message or stack holds a
 * secret (a platform error quoting a header value, say) is replaced by a copy
 * with the same name, code and redacted text; its own cause is cleaned the same
 * way. Other values pass through (strings are redacted).
 */
export function redactCause(cause: unknown, depth = 0): unknown {
  if (typeof cause === 'string') return redact(cause);
  if (!(cause instanceof Error) || depth > 4) return cause;
  const inner = cause.cause === undefined ? undefined : redactCause(cause.cause, depth + 1);
  const dirty = hasSecret(cause.message) || hasSecret(cause.stack ?? '') || inner !== cause.cause;
  if (!dirty) return cause;
  const copy = new Error(redact(cause.message), inner === undefined ? undefined : { cause: inner });
  copy.name = cause.name;
  copy.stack = redact(cause.stack ?? `${cause.name}: ${cause.message}`);
  const code = (cause as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

/** Deep-redact a JSON-like value (used for error bodies and log fields). */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = /token|authorization|secret|password/i.test(key)
        ? REDACTED
        : redactValue(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Headers with credentials replaced, for logs and request records. */
export function redactHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [key, value] of entries) {
    out[key] = /^(authorization|cookie|x-api-key)$/i.test(key) ? REDACTED : redact(value);
  }
  return out;
}
