import * as z from 'zod/mini';

/**
 * The response envelopes of protocol §1.1, decoded tolerantly:
 * `{code, data, message}`, `{success, data, error}`, or bare JSON.
 */

const codeEnvelope = z.looseObject({
  code: z.union([z.number(), z.string().check(z.regex(/^-?\d+$/))]),
  data: z.optional(z.unknown()),
  message: z.optional(z.nullable(z.string())),
  msg: z.optional(z.nullable(z.string())),
});

const successEnvelope = z.looseObject({
  success: z.boolean(),
  data: z.optional(z.unknown()),
  error: z.optional(z.unknown()),
  message: z.optional(z.nullable(z.string())),
});

/** What an envelope said. */
export type EnvelopeOutcome =
  | { ok: true; data: unknown }
  | { ok: false; code: number | undefined; message: string | undefined };

function errorText(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return undefined;
}

/** Classify a parsed JSON body. Bare JSON (no envelope) is the data itself. */
export function readEnvelope(body: unknown): EnvelopeOutcome {
  // Fast path for the common success envelope; the schemas below handle every other shape.
  if (typeof body === 'object' && body !== null && (body as { code?: unknown }).code === 0) {
    return { ok: true, data: (body as { data?: unknown }).data ?? null };
  }
  const coded = codeEnvelope.safeParse(body);
  if (coded.success) {
    const code = Number(coded.data.code);
    if (code === 0) return { ok: true, data: coded.data.data ?? null };
    return {
      ok: false,
      code,
      message: coded.data.message ?? coded.data.msg ?? errorText(coded.data.data) ?? undefined,
    };
  }
  const flagged = successEnvelope.safeParse(body);
  if (flagged.success) {
    if (flagged.data.success) return { ok: true, data: flagged.data.data ?? null };
    return {
      ok: false,
      code: undefined,
      message: errorText(flagged.data.error) ?? flagged.data.message ?? undefined,
    };
  }
  return { ok: true, data: body };
}

/** Parse response text as JSON; `undefined` when it is empty or not JSON. */
export function parseJsonText(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
