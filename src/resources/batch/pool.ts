/**
 * A bounded pool over many inputs: at most `concurrency` run at once, inputs
 * pulled one at a time as lanes free up (so an async iterable of millions is
 * never read ahead, and memory holds only what runs), one outcome per input,
 * in input order. A failing item is an outcome, not a rejection.
 */

import { abortErrorFrom } from '../../core/timers.js';
import { ConfigError } from '../../errors/errors.js';

/** What the pool did with one input. */
export type PoolOutcome<Input, Output> =
  | { index: number; input: Input; ok: true; value: Output }
  | { index: number; input: Input; ok: false; error: unknown };

export interface PoolOptions<Input, Output, Kept> {
  concurrency: number;
  signal?: AbortSignal | undefined;
  /** What the pool keeps of each outcome for its result (keep it small: thousands are kept). */
  keep: (outcome: PoolOutcome<Input, Output>) => Kept;
  /** Called with what was kept as each input settles (in completion order). A throw stops the pool and rejects it. */
  onSettled?: ((kept: Kept) => void) | undefined;
}

/** `concurrency` as given, or a `ConfigError` saying what is allowed. */
export function checkConcurrency(value: unknown, name = 'concurrency'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${name} must be a whole number ≥ 1 (got ${String(value)}).`);
  }
  return value;
}

function iteratorOf<T>(inputs: Iterable<T> | AsyncIterable<T>): Iterator<T> | AsyncIterator<T> {
  if (inputs && typeof (inputs as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    return (inputs as AsyncIterable<T>)[Symbol.asyncIterator]();
  }
  if (inputs && typeof (inputs as Iterable<T>)[Symbol.iterator] === 'function') {
    return (inputs as Iterable<T>)[Symbol.iterator]();
  }
  throw new ConfigError(
    'The inputs must be an array, an iterable or an async iterable (got something else).',
  );
}

/**
 * Run `work` over `inputs`, at most `concurrency` at a time. Resolves, once
 * every started item has settled, with what `keep` returned for each input, in
 * input order. Rejects only when the signal aborts (with the SDK's
 * `AbortError`, after the items in flight have settled), when reading the
 * inputs fails, or when `onSettled` throws.
 */
export async function runPool<Input, Output, Kept>(
  inputs: Iterable<Input> | AsyncIterable<Input>,
  work: (input: Input, index: number, signal: AbortSignal) => Promise<Output>,
  options: PoolOptions<Input, Output, Kept>,
): Promise<Kept[]> {
  const concurrency = checkConcurrency(options.concurrency);
  const iterator = iteratorOf(inputs);
  const { signal } = options;
  // One signal for the items: the caller's abort, or the pool stopping on its own.
  const stop = new AbortController();
  /** The items in flight; one listener on `stop` aborts them all. */
  const running = new Set<AbortController>();
  stop.signal.addEventListener(
    'abort',
    () => {
      for (const item of running) item.abort(stop.signal.reason);
    },
    { once: true },
  );
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();

  const kept: Kept[] = [];
  let failure: { error: unknown } | undefined;
  let nextIndex = 0;
  let exhausted = false;
  /** Reads of the iterator, one after another (an async generator must not be entered twice). */
  let reading: Promise<unknown> = Promise.resolve();

  const pull = (): Promise<{ input: Input; index: number } | undefined> => {
    const read = reading.then(async () => {
      if (exhausted || stop.signal.aborted) return undefined;
      const step = await iterator.next();
      if (step.done) {
        exhausted = true;
        return undefined;
      }
      return { input: step.value, index: nextIndex++ };
    });
    reading = read.catch(() => {});
    return read;
  };

  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort(error);
  };

  const lane = async (): Promise<void> => {
    for (;;) {
      let next: { input: Input; index: number } | undefined;
      try {
        next = await pull();
      } catch (error) {
        fail(error);
        return;
      }
      if (!next) return;
      const { input, index } = next;
      // Each item its own signal: a request adds listeners to the signal it is given, and
      // twenty items on one signal would pass Node's warning threshold (MaxListeners 10).
      const item = new AbortController();
      running.add(item);
      if (stop.signal.aborted) item.abort(stop.signal.reason);
      let outcome: PoolOutcome<Input, Output>;
      try {
        outcome = { index, input, ok: true, value: await work(input, index, item.signal) };
      } catch (error) {
        outcome = { index, input, ok: false, error };
      } finally {
        running.delete(item);
      }
      const result = options.keep(outcome);
      kept[index] = result;
      try {
        options.onSettled?.(result);
      } catch (error) {
        fail(error);
        return;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!exhausted) {
      // Stopped early: let a generator run its `finally` blocks.
      await reading;
      await Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }
  if (signal?.aborted) throw abortErrorFrom(signal);
  if (failure) throw failure.error;
  return kept;
}
