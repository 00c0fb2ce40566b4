/**
 * Parsers of flag and argument values. Light on purpose: the command table (registry.ts)
 * uses them, and it is loaded for every run, `--help` included.
 *
 * @module
 */
import { ArgumentError } from './spec.js';

/** `--quality` values and the render `output.quality` each maps to. */
export const QUALITIES: Readonly<Record<string, string>> = {
  '1080p': 'high',
  '720p': 'medium',
  '480p': 'low',
  high: 'high',
  medium: 'medium',
  low: 'low',
};

/** `--quality`: one of {@link QUALITIES}, case-insensitive. */
export function parseQuality(value: string): string {
  const key = value.trim().toLowerCase();
  if (!(key in QUALITIES)) {
    throw new ArgumentError(`Use one of ${Object.keys(QUALITIES).join(', ')}.`);
  }
  return key;
}

/** A number of seconds > 0 (`--poll-interval`, `--max-wait`). */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new ArgumentError('Give a number of seconds > 0, e.g. 30 or 0.5.');
  }
  return n;
}

/** A session id argument: one word (the service issues digits). */
export function parseSessionId(value: string): string {
  const id = value.trim();
  if (id === '' || /\s/.test(id)) {
    throw new ArgumentError('Give the session id printed by "nemovideo session new".');
  }
  return id;
}

/** A job id argument (`nemovideo jobs resume`): one word, as `nemovideo jobs` lists them. */
export function parseJobId(value: string): string {
  const id = value.trim();
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new ArgumentError(
      'Give a job id as "nemovideo jobs" lists it, e.g. job_3f2a9c1e0b7d4a65.',
    );
  }
  return id;
}

/** A repeatable option (`--root a --root b`): each use adds its value to the list. */
export function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}

/** `--concurrency` of `batch`: a whole number from 1 to 64. */
export function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new ArgumentError(`--concurrency takes a whole number from 1 to 64 (got "${value}").`);
  }
  return n;
}
