/**
 * "A message is POSTed at most once per call, whatever fails afterwards":
 * every fault through the emulator, whose request log counts the POSTs.
 */
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConnectionError,
  NemoClient,
  type NemoClientOptions,
  RateLimitError,
  StreamError,
  TimeoutError,
} from '../../src/index.js';
import type { FaultOptions } from '../../src/testing/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import { useEmulatorServer } from '../helpers/msw.js';
import { collect } from './helpers.js';

const { emulator, server } = useEmulatorServer({ heartbeatMs: 0 });

function runSsePosts(): number {
  return emulator.requests.filter((r) => r.method === 'POST' && r.path === '/run_sse').length;
}

async function setup(options: NemoClientOptions = {}) {
  const clock = new ManualClock();
  const client = new NemoClient({
    clientId: 'chat-faults',
    clientIdFile: false,
    logLevel: 'off',
    clock,
    ...options,
  });
  const session = await client.sessions.create();
  // A scripted turn with several events, so a cut lands mid-stream.
  emulator.agent(() => [
    { text: 'Step one. ' },
    { toolCall: { name: 'trim', args: { start_ms: 3000 } } },
    { toolResult: { name: 'trim', response: { ok: true } } },
    { text: 'Done.' },
  ]);
  return { clock, client, session };
}

describe('one POST per chat() call', () => {
  const httpFaults: { name: string; fault: FaultOptions; error: new (...a: never[]) => Error }[] = [
    { name: 'HTTP 500', fault: { status: 500 }, error: ApiError },
    { name: 'HTTP 502', fault: { status: 502 }, error: ApiError },
    {
      name: 'HTTP 503 with Retry-After',
      fault: { status: 503, headers: { 'retry-after': '1' } },
      error: ApiError,
    },
    { name: 'HTTP 504', fault: { status: 504 }, error: ApiError },
    { name: 'JSON code 500 in a 200', fault: { code: 500 }, error: ApiError },
  ];
  for (const { name, fault, error } of httpFaults) {
    it(`${name}: raised at once, never replayed`, async () => {
      const { session } = await setup({ maxRetries: 5 });
      emulator.fail('POST /run_sse', { ...fault, times: Number.POSITIVE_INFINITY });
      const result = await collect(session.chat('trim the start'));
      expect(result.error).toBeInstanceOf(error);
      expect(result.events).toEqual([]);
      expect(runSsePosts()).toBe(1);
    });
  }

  it('connection reset before any response: ConnectionError, one POST', async () => {
    const { session } = await setup({ maxRetries: 5 });
    let posts = 0;
    server.use(
      http.post(`${emulator.baseUrl}/run_sse`, () => {
        posts++;
        return HttpResponse.error();
      }),
    );
    const result = await collect(session.chat('trim the start'));
    expect(result.error).toBeInstanceOf(ConnectionError);
    expect(posts).toBe(1);
  });

  it('stream cut mid-way: the events before it, then StreamError; one POST', async () => {
    const { session } = await setup({ maxRetries: 5 });
    const whole = await collect(session.chat('trim the start'));
    emulator.requests.length = 0;
    emulator.fail('POST /run_sse', { cutAfterEvents: 3 });
    const result = await collect(session.chat('trim the start'));
    expect(result.error).toBeInstanceOf(StreamError);
    // A prefix of the whole turn: what the HTTP stack handed over before the cut.
    expect(result.events.length).toBeGreaterThan(0);
    expect(result.events.length).toBeLessThan(whole.events.length);
    expect(result.events.map((e) => e.type)).toEqual(
      whole.events.slice(0, result.events.length).map((e) => e.type),
    );
    expect(runSsePosts()).toBe(1);
  });

  it('stream closed cleanly mid-way: a short turn, no error, one POST', async () => {
    const { session } = await setup({ maxRetries: 5 });
    emulator.fail('POST /run_sse', { cutAfterEvents: 2, cutMode: 'close' });
    const stream = session.chat('trim the start');
    const result = await collect(stream);
    expect(result.error).toBeUndefined();
    expect((await stream.result()).text).toBe('Step one. ');
    expect(runSsePosts()).toBe(1);
  });

  it('stalled stream: the idle watchdog fires; one POST', async () => {
    const { session, clock } = await setup({ maxRetries: 5 });
    emulator.fail('POST /run_sse', { stallAfterEvents: 1 });
    const done = collect(session.chat('trim the start', { idleTimeout: 60_000 }));
    await clock.nextSleep((ms) => ms === 60_000 || ms < 60_000);
    await flush();
    await clock.advance(60_000);
    const result = await done;
    expect(result.error).toBeInstanceOf(TimeoutError);
    expect((result.error as TimeoutError).kind).toBe('stream-idle');
    expect(result.events.length).toBeGreaterThan(0);
    expect(runSsePosts()).toBe(1);
  });

  it('stalled with heartbeats only: TurnTimeoutError; one POST', async () => {
    const { session, clock } = await setup({ maxRetries: 5 });
    emulator.configure({ heartbeatMs: 5, heartbeatStyle: 'typed' });
    emulator.fail('POST /run_sse', { stallAfterEvents: 1, stallWith: 'heartbeats' });
    const done = collect(session.chat('trim the start', { heartbeatTimeout: 1000 }));
    // Real heartbeats arrive every 5 ms; move the client clock while they do.
    let settled = false;
    void done.then(() => {
      settled = true;
    });
    for (let i = 0; i < 200 && !settled; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await clock.advance(100);
    }
    const result = await done;
    expect(result.error?.constructor.name).toBe('TurnTimeoutError');
    expect(result.events.some((e) => e.type === 'heartbeat')).toBe(true);
    expect(runSsePosts()).toBe(1);
  });

  it('an agent error in the stream: StreamError; one POST', async () => {
    const { session } = await setup({ maxRetries: 5 });
    emulator.agent(() => [{ text: 'Trying. ' }, { error: 'tool crashed' }]);
    const result = await collect(session.chat('trim'));
    expect(result.events.map((e) => e.type)).toEqual(['text', 'message', 'error']);
    expect(result.error).toBeInstanceOf(StreamError);
    expect(runSsePosts()).toBe(1);
  });
});

describe('refusals before the server acted may be sent again, once', () => {
  it('429: waits Retry-After on the client clock, then sends again (two POSTs)', async () => {
    const { session, clock } = await setup();
    emulator.fail('POST /run_sse', { status: 429, headers: { 'retry-after': '7' } });
    const done = session.chat('trim the start').text();
    await clock.waitForSleep(7000);
    expect(runSsePosts()).toBe(1);
    await clock.advance(7000);
    expect(await done).toBe('Step one. \nDone.');
    expect(runSsePosts()).toBe(2);
  });

  it('429 with maxRetries 0: RateLimitError, one POST', async () => {
    const { session } = await setup({ maxRetries: 0 });
    emulator.fail('POST /run_sse', { status: 429 });
    const result = await collect(session.chat('trim'));
    expect(result.error).toBeInstanceOf(RateLimitError);
    expect(runSsePosts()).toBe(1);
  });

  it('1001 on the request: a new anonymous token, then one more POST', async () => {
    const { session } = await setup();
    emulator.expireTokens();
    expect(await session.chat('trim the start').text()).toBe('Step one. \nDone.');
    const posts = emulator.requests.filter((r) => r.path === '/run_sse');
    expect(posts).toHaveLength(2);
    expect(posts[0]?.headers.authorization).not.toBe(posts[1]?.headers.authorization);
  });

  it('a second 429 is not waited for again', async () => {
    const { session, clock } = await setup();
    emulator.fail('POST /run_sse', { status: 429, headers: { 'retry-after': '1' }, times: 2 });
    const done = collect(session.chat('trim'));
    await clock.waitForSleep(1000);
    await clock.advance(1000);
    const result = await done;
    expect(result.error).toBeInstanceOf(RateLimitError);
    expect(runSsePosts()).toBe(2);
  });
});
