/**
 * Assertions shared by the hostile tests: what #13 "Deliver 1" demands of
 * every failure.
 */
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isNemoError } from './sdk.js';

/** Settle `promise` into a value or the error, never throwing. */
export async function outcome<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A short description of a thrown value, for failure messages. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.slice(0, 300)}`;
  return inspect(error).slice(0, 300);
}

/**
 * Every text a user could see of `error`: message, String(), JSON, stack,
 * util.inspect (which shows the cause chain and own fields), and for each
 * level of the cause chain its message, stack and each own field.
 */
export function errorTexts(error: unknown): Array<[string, string]> {
  const texts: Array<[string, string]> = [];
  const safe = (where: string, make: () => string) => {
    try {
      texts.push([where, make()]);
    } catch (e) {
      texts.push([where, `<threw ${String(e)}>`]);
    }
  };
  safe('util.inspect', () => inspect(error, { depth: 20, showHidden: false }));
  safe('util.inspect(showHidden)', () => inspect(error, { depth: 6, showHidden: true }));
  let level: unknown = error;
  for (let depth = 0; depth < 10 && level !== undefined && level !== null; depth++) {
    const at = depth === 0 ? 'error' : `error${'.cause'.repeat(depth)}`;
    const current = level;
    safe(`String(${at})`, () => String(current));
    safe(`JSON.stringify(${at})`, () => JSON.stringify(current) ?? '');
    if (current instanceof Error) {
      safe(`${at}.message`, () => current.message);
      safe(`${at}.stack`, () => current.stack ?? '');
    }
    if (typeof current === 'object') {
      for (const key of Reflect.ownKeys(current)) {
        safe(`${at}[${String(key)}]`, () =>
          inspect((current as Record<PropertyKey, unknown>)[key], { depth: 8 }),
        );
      }
    }
    level = current instanceof Error ? current.cause : undefined;
  }
  return texts;
}

/** Fail with where `secret` appears in any text of `error`. */
export function expectNoSecret(error: unknown, secrets: readonly string[]): void {
  for (const [where, text] of errorTexts(error)) {
    for (const secret of secrets) {
      const at = text.indexOf(secret);
      if (at >= 0) {
        expect.fail(
          `${JSON.stringify(secret)} leaked in ${where}: …${JSON.stringify(text.slice(Math.max(0, at - 100), at + secret.length + 40))}…`,
        );
      }
    }
  }
}

/** The error is the SDK's (a NemoError) and no text of it holds any of `secrets`. */
export function expectCleanNemoError(error: unknown, secrets: readonly string[] = []): void {
  expect(isNemoError(error), `not a NemoError: ${describe(error)}`).toBe(true);
  expectNoSecret(error, secrets);
}

/** Await `promise`, expecting a rejection; returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  const settled = await outcome(promise);
  if (settled.ok) expect.fail(`expected a failure, got ${inspect(settled.value).slice(0, 300)}`);
  return settled.ok ? undefined : settled.error;
}

/** Settle `promise` within `ms` of real time, or report that it did not. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<
  | { settled: true; ok: true; value: T; ms: number }
  | { settled: true; ok: false; error: unknown; ms: number }
  | { settled: false; ms: number }
> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const result = await Promise.race([outcome(promise), timeout]);
  clearTimeout(timer);
  const elapsed = Math.round(performance.now() - started);
  if (result === 'timeout') return { settled: false, ms: elapsed };
  return result.ok
    ? { settled: true, ok: true, value: result.value, ms: elapsed }
    : { settled: true, ok: false, error: result.error, ms: elapsed };
}
