import { inspect } from 'node:util';
import { expect } from 'vitest';

/** A logger that records every line (all arguments, inspected) at every level. */
export function captureLogs() {
  const lines: string[] = [];
  const sink = (...args: unknown[]) =>
    lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' '));
  return { lines, logger: { error: sink, warn: sink, info: sink, debug: sink } };
}

/** Every textual form an error can take in a user's logs. */
export function errorTexts(error: unknown): string[] {
  const texts = [inspect(error, { depth: 12, showHidden: false })];
  if (error instanceof Error) {
    texts.push(error.message, String(error), error.stack ?? '');
    texts.push(JSON.stringify(error));
    let cause: unknown = error.cause;
    for (let i = 0; i < 6 && cause !== undefined; i++) {
      texts.push(cause instanceof Error ? `${cause.message} ${cause.stack ?? ''}` : inspect(cause));
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  } else {
    texts.push(String(error));
  }
  return texts;
}

/** Assert that none of `texts` contains any of `secrets` (with a readable failure). */
export function expectNoSecret(
  texts: readonly string[],
  secrets: readonly string[],
  where: string,
) {
  for (const secret of secrets) {
    for (const text of texts) {
      if (text.includes(secret)) {
        const at = text.indexOf(secret);
        expect.fail(
          `${where}: the secret leaked in "…${text.slice(Math.max(0, at - 80), at + secret.length + 40)}…"`,
        );
      }
    }
  }
}
