/**
 * Tool results: the structured value with its text rendering, failures as `isError` results
 * carrying the error's message and the next step, and the last line of defence that keeps
 * credentials out of everything the server sends.
 *
 * @module
 */

import type { CallToolResult } from '@modelcontextprotocol/server';
import { describeFailure, type Failure } from './sdk.js';

/** A bad tool input found by the server itself (a path outside the allowed folders, …). */
export class ToolInputError extends Error {
  override name = 'ToolInputError';
  /** A short class of the problem, shown first in the result (`PathNotAllowed`, …). */
  readonly kind: string;
  /** What the agent should do instead. */
  readonly next: string;

  constructor(kind: string, message: string, next: string) {
    super(message);
    this.kind = kind;
    this.next = next;
  }
}

/** The failure behind any error a tool can meet. */
export function failureOf(error: unknown): Failure {
  if (error instanceof ToolInputError)
    return { kind: error.kind, message: error.message, next: error.next };
  return describeFailure(error);
}

/** A successful result: `text` for the model, `value` as `structuredContent`. */
export function ok<T extends Record<string, unknown>>(text: string, value: T): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: value };
}

/** A failed result (`isError`): "<kind>: <message>" then "What to do: <next>". */
export function failed(failure: Failure, extra?: string): CallToolResult {
  const lines = [`${failure.kind}: ${failure.message}`];
  if (extra) lines.push(extra);
  lines.push(`What to do: ${failure.next}`);
  return { content: [{ type: 'text', text: lines.join('\n') }], isError: true };
}

const REDACTED = '[REDACTED]';

/** Shapes of credentials, scrubbed even when the exact value is unknown. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /(Bearer\s+)[^\s"',;]+/gi,
  /\bnmv_[A-Za-z0-9_.-]+/g,
  /("?(?:token|access_token|authorization)"?\s*[:=]\s*"?)[^\s"',;}]+/gi,
];

/**
 * Removes credentials from every string of a value about to leave the server. The SDK
 * already redacts its errors and logs; this covers the rest (reply text, server echoes) and
 * any token the server knows by value.
 */
export class Scrubber {
  readonly #secrets = new Set<string>();

  /** Remember a secret (the configured or obtained token). Short values are ignored. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 8) this.#secrets.add(secret);
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const pattern of CREDENTIAL_PATTERNS) {
      out = out.replace(pattern, (_match, prefix: unknown) =>
        typeof prefix === 'string' ? `${prefix}${REDACTED}` : REDACTED,
      );
    }
    return out;
  }

  /** A deep copy of a JSON-like value with every string scrubbed. */
  value<T>(value: T): T {
    return this.#walk(value, 0) as T;
  }

  #walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (depth > 32 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.#walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = this.#walk(v, depth + 1);
    return out;
  }
}
