import * as z from 'zod/mini';
import { ResponseValidationError } from '../errors/errors.js';

// `z` is deliberately not re-exported: a re-exported namespace object defeats tree shaking
// and would pull all of zod (locales included) into browser bundles. Import it from 'zod/mini'.

/** Any zod (mini or classic) schema producing `T`. */
export type Schema<T> = z.ZodMiniType<T, unknown>;

/** A path such as `data.files[0].cdn_url` for a zod issue path. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Decode `value` with `schema`, or throw a `ResponseValidationError` naming
 * the first bad path. `what` says which response it was ("the session response").
 */
export function decodeWith<T>(
  schema: Schema<T>,
  value: unknown,
  what: string,
  pathPrefix = 'data',
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(pathPrefix, issue?.path ?? []);
  throw new ResponseValidationError(
    `Unexpected shape in ${what}: ${issue?.message ?? 'invalid'} at ${path || '(root)'}. The service may have changed; upgrade nemovideo or report this with the response body.`,
    { path, body: value, cause: result.error },
  );
}

/**
 * Session ids and similar are numeric strings. A JSON number is accepted only
 * while it is exact (a safe integer): above 2^53 `JSON.parse` has already
 * rounded it (`5529798706024415232` → `5529798706024415000`), and a rounded id
 * names another session, so it is refused rather than guessed.
 */
export const idString = z.pipe(
  z.union([
    z.string().check(z.minLength(1)),
    z.number().check(
      z.refine((n) => Number.isSafeInteger(n), {
        message:
          'an id sent as a JSON number beyond 2^53 has lost digits (JSON numbers are doubles); the service must send ids as strings',
      }),
    ),
  ]),
  z.transform((v): string => String(v)),
);

/** Numbers the backend may send as numeric strings. */
export const looseNumber = z.pipe(
  z.union([z.number(), z.string().check(z.regex(/^-?\d+(\.\d+)?$/))]),
  z.transform((v): number => Number(v)),
);
