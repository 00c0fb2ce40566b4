import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, TimeoutError, TurnTimeoutError } from '../../src/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import { adk, collect, controlledSse, data, fakeClient } from './helpers.js';

const HEARTBEAT = ': ping\n\n';
const TEXT = data(adk([{ text: 'working on it' }]));

function setup(options: Parameters<typeof fakeClient>[1] = {}) {
  const clock = new ManualClock();
  const body = controlledSse();
  const { session, calls } = fakeClient(() => body.response(), { clock, ...options });
  return { clock, body, session, calls };
}

/** Write `chunk` (if any) every `stepMs` for `steps` steps, letting the reader catch up. */
async function tick(
  clock: ManualClock,
  body: ReturnType<typeof controlledSse>,
  steps: number,
  stepMs: number,
  chunk?: string,
) {
  for (let i = 0; i < steps; i++) {
    if (chunk) body.write(chunk);
    await flush();
    await clock.advance(stepMs);
  }
}

describe('hard limit of a turn', () => {
  it('ends the turn with TimeoutError turn-hard-limit (backend.turn.hardTimeoutMs)', async () => {
    const { clock, body, session } = setup({ backend: { turn: { hardTimeoutMs: 10_000 } } });
    const done = collect(session.chat('hi'));
    await tick(clock, body, 3, 1000, TEXT);
    await tick(clock, body, 8, 1000, HEARTBEAT);
    const { events, error } = await done;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).not.toBeInstanceOf(TurnTimeoutError);
    expect((error as TimeoutError).kind).toBe('turn-hard-limit');
    expect((error as TimeoutError).timeoutMs).toBe(10_000);
    expect((error as Error).message).toMatch(/hard limit of 10 s.*hardTimeout/);
    expect(events.filter((e) => e.type === 'text')).toHaveLength(3);
    expect(body.cancelled).not.toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it('takes the hardTimeout option over the backend default', async () => {
    const { clock, body, session } = setup();
    const done = collect(session.chat('hi', { hardTimeout: 2000 }));
    await tick(clock, body, 3, 1000, TEXT);
    const { error } = await done;
    expect((error as TimeoutError).kind).toBe('turn-hard-limit');
  });
});

describe('only heartbeats', () => {
  it('ends the turn with TurnTimeoutError after heartbeatTimeout of heartbeats only', async () => {
    const { clock, body, session } = setup({ backend: { turn: { heartbeatOnlyTimeoutMs: 5000 } } });
    const done = collect(session.chat('hi'));
    await tick(clock, body, 1, 1000, TEXT);
    await tick(clock, body, 6, 1000, HEARTBEAT);
    const { events, error } = await done;
    expect(error).toBeInstanceOf(TurnTimeoutError);
    expect((error as TurnTimeoutError).kind).toBe('turn-heartbeats-only');
    expect((error as TurnTimeoutError).timeoutMs).toBe(5000);
    expect((error as Error).message).toMatch(/Only heartbeats .* 5 s/);
    expect(events.slice(0, 2).map((e) => e.type)).toEqual(['text', 'message']);
    expect(events.slice(2).every((e) => e.type === 'heartbeat')).toBe(true);
    expect(clock.pending()).toEqual([]);
  });

  it('restarts the count at every event that is not a heartbeat', async () => {
    const { clock, body, session } = setup();
    const stream = session.chat('hi', { heartbeatTimeout: 5000 });
    const done = collect(stream);
    // 4 s of heartbeats between texts: never 5 s without one.
    await tick(clock, body, 3, 1000, HEARTBEAT);
    await tick(clock, body, 1, 1000, TEXT);
    await tick(clock, body, 3, 1000, HEARTBEAT);
    await tick(clock, body, 1, 1000, TEXT);
    await tick(clock, body, 3, 1000, HEARTBEAT);
    body.close();
    const { error } = await done;
    expect(error).toBeUndefined();
    expect((await stream.result()).text).toBe('working on it\nworking on it');
    expect(clock.pending()).toEqual([]);
  });
});

describe('transport watchdog', () => {
  it('declares the connection dead after idleTimeout without bytes', async () => {
    const { clock, body, session } = setup();
    const done = collect(session.chat('hi', { idleTimeout: 3000 }));
    await tick(clock, body, 10, 1000, HEARTBEAT); // heartbeats keep it alive
    await tick(clock, body, 3, 1000);
    const { events, error } = await done;
    expect(events).toHaveLength(10);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).kind).toBe('stream-idle');
    expect((error as Error).message).toMatch(/No bytes arrived .* 3 s.*idleTimeout/);
    expect(body.cancelled).not.toBe(false);
    expect(clock.pending()).toEqual([]);
  });

  it('does not count the time the reader spends on an event', async () => {
    const { clock, body, session } = setup();
    const stream = session.chat('hi', { idleTimeout: 3000, heartbeatTimeout: 3000 });
    body.write(TEXT + TEXT + TEXT);
    body.close();
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.type);
      await clock.advance(10_000); // a slow reader
    }
    expect(seen).toEqual(['text', 'message', 'text', 'message', 'text', 'message']);
  });

  it('bounds the wait for response headers with the timeout option (kind request)', async () => {
    const clock = new ManualClock();
    const { session, calls } = fakeClient(
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason));
        }),
      { clock },
    );
    const done = collect(session.chat('hi', { timeout: 2000 }));
    await flush();
    await clock.advance(2000);
    const { error } = await done;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).kind).toBe('request');
    expect(calls).toHaveLength(1);
    expect(clock.pending()).toEqual([]);
  });

  it('re-arms very long limits instead of overflowing setTimeout', async () => {
    const { clock, session } = setup();
    const stream = session.chat('hi', {
      hardTimeout: 40 * 86_400_000,
      idleTimeout: 0,
      heartbeatTimeout: 0,
    });
    await flush();
    expect(clock.pending()).toEqual([2_147_483_647]);
    stream.abort();
    await flush();
    expect(clock.pending()).toEqual([]);
  });

  it('turns every limit off with 0 or Infinity', async () => {
    const { clock, body, session } = setup();
    const done = collect(
      session.chat('hi', {
        idleTimeout: 0,
        heartbeatTimeout: Number.POSITIVE_INFINITY,
        hardTimeout: 0,
      }),
    );
    await flush();
    expect(clock.pending()).toEqual([]); // no watchdog at all
    await clock.advance(24 * 3_600_000);
    body.write(TEXT);
    body.close();
    const { events, error } = await done;
    expect(error).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['text', 'message']);
  });
});

describe('with vitest fake timers and the system clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires the idle watchdog and leaves no timer behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const body = controlledSse();
    const { session } = fakeClient(() => body.response());
    const done = collect(session.chat('hi', { idleTimeout: 30_000 }));
    body.write(TEXT);
    await vi.advanceTimersByTimeAsync(29_000);
    body.write(HEARTBEAT);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(1000);
    const { events, error } = await done;
    expect(events.map((e) => e.type)).toEqual(['text', 'message', 'heartbeat']);
    expect((error as TimeoutError).kind).toBe('stream-idle');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind after a normal end or an abort', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const finished = controlledSse();
    const ok = collect(fakeClient(() => finished.response()).session.chat('hi'));
    finished.write(TEXT);
    finished.close();
    expect((await ok).error).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);

    const hanging = controlledSse();
    const controller = new AbortController();
    const aborted = collect(
      fakeClient(() => hanging.response()).session.chat('hi', { signal: controller.signal }),
    );
    hanging.write(TEXT);
    await vi.advanceTimersByTimeAsync(1000);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    controller.abort();
    expect((await aborted).error).toBeInstanceOf(AbortError);
    expect(vi.getTimerCount()).toBe(0);
  });
});
