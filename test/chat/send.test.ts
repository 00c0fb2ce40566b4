/**
 * session.send(): silent turns and the documented disconnect recovery, through
 * the emulator (its request log proves the message is never re-sent).
 */
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ApiError,
  type ChatEvent,
  ConnectionError,
  NemoClient,
  type NemoClientOptions,
  StreamError,
  TurnLostError,
  TurnTimeoutError,
} from '../../src/index.js';
import type { AgentContext } from '../../src/testing/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import { useEmulatorServer } from '../helpers/msw.js';
import { fakeClient } from './helpers.js';

const { emulator } = useEmulatorServer({ heartbeatMs: 0 });

function count(method: string, pathPart: string): number {
  return emulator.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length;
}
const posts = () => count('POST', '/run_sse');
const stateReads = () => count('GET', '/api/state/');

async function setup(options: NemoClientOptions = {}) {
  const clock = new ManualClock();
  const client = new NemoClient({
    clientId: 'chat-send',
    clientIdFile: false,
    logLevel: 'off',
    clock,
    ...options,
  });
  const session = await client.sessions.create();
  return { clock, client, session };
}

const TITLE_DRAFT = {
  t: [{ tt: 7, sg: [{ id: 'seg_t1', st: 0, du: 3000, nm: 'Title', txt: 'Urban Dreams' }] }],
  d: 3000,
  m: { title: 'project' },
};

describe('turns with text', () => {
  it('returns the reply; reads the state once, before', async () => {
    const { session } = await setup();
    const seen: ChatEvent['type'][] = [];
    const turn = await session.send('add background music', { onEvent: (e) => seen.push(e.type) });
    expect(turn.silent).toBe(false);
    expect(turn.text).toContain('Added background music "Lo-fi"');
    expect(turn.toolCalls.map((c) => c.name)).toEqual(['search_music', 'add_bgm']);
    expect(turn.changes).toBeUndefined();
    expect(turn.recovery).toBeUndefined();
    expect(seen).toEqual(turn.events.map((e) => e.type));
    expect(posts()).toBe(1);
    expect(stateReads()).toBe(1);
  });

  it("stateCheck 'always' reports changes for every turn", async () => {
    const { session } = await setup();
    const turn = await session.send('add background music', { stateCheck: 'always' });
    expect(turn.changes?.tracksAdded.map((t) => t.kind)).toEqual(['audio']);
    expect(turn.summary).toMatch(/added BGM: Lo-fi \(0-30s, 35%\)/);
    expect(stateReads()).toBe(2);
  });

  it("stateCheck 'never' reads no state", async () => {
    const { session } = await setup();
    const turn = await session.send('add a title "Hi"', { stateCheck: 'never' });
    expect(turn.silent).toBe(true);
    expect(turn.changes).toBeUndefined();
    expect(stateReads()).toBe(0);
  });

  it('rejects bad arguments before any request', async () => {
    const { session } = await setup();
    await expect(session.send('')).rejects.toThrow(/non-empty message/);
    await expect(session.send('hi', { stateCheck: 'sometimes' as 'always' })).rejects.toThrow(
      /stateCheck/,
    );
    expect(posts()).toBe(0);
    expect(stateReads()).toBe(0);
  });
});

describe('silent turns', () => {
  it('report the timeline changes and a one-line summary from the state', async () => {
    const { session } = await setup();
    const turn = await session.send('add a title "Urban Dreams"');
    expect(turn.silent).toBe(true);
    expect(turn.text).toBe('');
    expect(turn.toolCalls.map((c) => c.name)).toEqual(['add_text']);
    expect(turn.changes?.changed).toBe(true);
    expect(turn.changes?.tracksAdded).toHaveLength(1);
    expect(turn.changes?.tracksAdded[0]?.kind).toBe('text');
    expect(turn.summary).toBe('draft created; added Title: "Urban Dreams" (0-3s)');
    expect(turn.summary).not.toContain('\n');
    expect(turn.stateAfter?.draft?.tracks).toHaveLength(1);
    expect(posts()).toBe(1);
    expect(stateReads()).toBe(2);
  });

  it('say "no changes" when the state did not move', async () => {
    const { session } = await setup();
    emulator.agent(() => [{ toolCall: { name: 'noop' } }, { toolResult: { name: 'noop' } }]);
    const turn = await session.send('do nothing');
    expect(turn.silent).toBe(true);
    expect(turn.changes?.changed).toBe(false);
    expect(turn.summary).toBe('no changes');
  });

  it('count generated media as a change', async () => {
    const { session } = await setup();
    emulator.agent((_m, ctx) => [
      { toolCall: { name: 'generate_video' } },
      { effect: () => ctx.addGeneratedMedia({ id: 'gen_1', url: 'https://cdn.test/gen_1.mp4' }) },
      { toolResult: { name: 'generate_video' } },
    ]);
    const turn = await session.send('generate an intro');
    expect(turn.changes?.changed).toBe(false);
    expect(turn.summary).toBe('1 generated media added');
  });
});

describe('disconnect recovery (never re-send)', () => {
  /** A turn whose edit lands on the server even though the client is cut off. */
  function editingAgent() {
    let ctx: AgentContext | undefined;
    emulator.agent((_m, c) => {
      ctx = c;
      return [
        { text: 'Adding the title. ' },
        { toolCall: { name: 'add_text', args: { text: 'Urban Dreams' } } },
        { effect: () => c.setDraft(TITLE_DRAFT) },
        { toolResult: { name: 'add_text' } },
        { text: 'Done.' },
      ];
    });
    return () => ctx;
  }

  it('waits 30 s, reads the state, and returns the changes when the edit landed', async () => {
    const { session, clock } = await setup();
    editingAgent();
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const done = session.send('add a title');
    await clock.waitForSleep(30_000);
    expect(stateReads()).toBe(1);
    await clock.advance(30_000);
    const turn = await done;
    expect(turn.recovery?.reads).toBe(1);
    expect(turn.recovery?.waitedMs).toBe(30_000);
    expect(turn.recovery?.error).toBeInstanceOf(StreamError);
    expect(turn.summary).toBe('draft created; added Title: "Urban Dreams" (0-3s)');
    expect(posts()).toBe(1);
    expect(stateReads()).toBe(2);
  });

  it('reads again every 60 s until the state changes', async () => {
    const { session, clock } = await setup();
    emulator.agent((_m, ctx) => {
      // The edit lands later, between the second and the third read.
      captured = ctx;
      return [{ text: 'Working. ' }, { toolCall: { name: 'slow_edit' } }];
    });
    let captured: AgentContext | undefined;
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const done = session.send('slow edit');
    await clock.waitForSleep(30_000);
    await clock.advance(30_000);
    await clock.waitForSleep(60_000);
    await clock.advance(60_000);
    await clock.waitForSleep(60_000);
    captured?.setDraft(TITLE_DRAFT);
    await clock.advance(60_000);
    const turn = await done;
    expect(turn.recovery?.reads).toBe(3);
    expect(turn.recovery?.waitedMs).toBe(150_000);
    expect(posts()).toBe(1);
  });

  it('gives up with TurnLostError after five unchanged reads', async () => {
    const { session, clock } = await setup();
    emulator.agent(() => [{ text: 'Working. ' }, { toolCall: { name: 'lost_edit' } }]);
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const done = session.send('lost edit');
    const outcome = done.then(
      () => undefined,
      (e: unknown) => e,
    );
    for (const wait of [30_000, 60_000, 60_000, 60_000, 60_000]) {
      await clock.waitForSleep(wait);
      await clock.advance(wait);
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(TurnLostError);
    expect((error as TurnLostError).message).toMatch(
      /did not change in 5 reads over 4.5 min.*not re-sent/,
    );
    expect((error as TurnLostError).cause).toBeInstanceOf(StreamError);
    expect(stateReads()).toBe(6);
    expect(posts()).toBe(1);
    expect(clock.pending()).toEqual([]);
  });

  it('follows backend.turn overrides of the cadence', async () => {
    const { session, clock } = await setup({
      backend: {
        turn: { recoveryFirstWaitMs: 1000, recoveryIntervalMs: 2000, recoveryMaxUnchangedReads: 2 },
      },
    });
    emulator.agent(() => [{ text: 'x' }, { toolCall: { name: 'y' } }]);
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const outcome = session.send('z').catch((e: unknown) => e);
    await clock.waitForSleep(1000);
    await clock.advance(1000);
    await clock.waitForSleep(2000);
    await clock.advance(2000);
    expect(await outcome).toBeInstanceOf(TurnLostError);
    expect(stateReads()).toBe(3);
  });

  it('treats a gateway 502 as a possible delivery: reads the state, never re-sends', async () => {
    const { session, clock } = await setup();
    editingAgent();
    emulator.fail('POST /run_sse', { status: 502 });
    // The request may have reached the agent behind the gateway. Here it did not:
    // the state never changes and the turn is reported lost, without a second POST.
    const lost = session.send('add a title').catch((e: unknown) => e);
    for (const wait of [30_000, 60_000, 60_000, 60_000, 60_000]) {
      await clock.waitForSleep(wait);
      await clock.advance(wait);
    }
    const error = await lost;
    expect(error).toBeInstanceOf(TurnLostError);
    expect((error as TurnLostError).cause).toBeInstanceOf(ApiError);
    expect(posts()).toBe(1);
  });

  it('recovers from a stalled stream once the idle watchdog fires', async () => {
    const { session, clock } = await setup();
    emulator.agent((_m, ctx) => [
      { effect: () => ctx.setDraft(TITLE_DRAFT) },
      { text: 'Adding the title. ' },
      { toolCall: { name: 'add_text' } },
    ]);
    emulator.fail('POST /run_sse', { stallAfterEvents: 1 });
    const stalled = session.send('add a title', { idleTimeout: 10_000 });
    await clock.waitForSleep(10_000);
    await flush();
    await clock.advance(10_000);
    await clock.waitForSleep(30_000);
    await clock.advance(30_000);
    const turn = await stalled;
    expect(turn.recovery?.error.name).toBe('TimeoutError');
    expect(turn.recovery?.reads).toBe(1);
    expect(turn.summary).toContain('added Title');
    expect(posts()).toBe(1);
  });

  it('does not recover from a server error, a 500 or a turn timeout: they are answers', async () => {
    const { session, clock } = await setup();
    emulator.agent(() => [{ text: 'Trying. ' }, { error: 'tool crashed' }]);
    await expect(session.send('x')).rejects.toBeInstanceOf(StreamError);
    emulator.agent(undefined);
    emulator.fail('POST /run_sse', { status: 500 });
    await expect(session.send('hello')).rejects.toBeInstanceOf(ApiError);
    emulator.configure({ heartbeatMs: 5, heartbeatStyle: 'comment' });
    emulator.fail('POST /run_sse', { stallAfterEvents: 1, stallWith: 'heartbeats' });
    const timedOut = session.send('hello', { heartbeatTimeout: 500 }).catch((e: unknown) => e);
    let settled = false;
    void timedOut.then(() => {
      settled = true;
    });
    for (let i = 0; i < 200 && !settled; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await clock.advance(100);
    }
    expect(await timedOut).toBeInstanceOf(TurnTimeoutError);
    expect(posts()).toBe(3);
    // Before each turn only: no recovery reads.
    expect(stateReads()).toBe(3);
  });

  it('recover: false raises the failure at once', async () => {
    const { session } = await setup();
    editingAgent();
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    await expect(session.send('add a title', { recover: false })).rejects.toBeInstanceOf(
      StreamError,
    );
    expect(stateReads()).toBe(1);
  });

  it('aborting during the recovery stops it', async () => {
    const { session, clock } = await setup();
    editingAgent();
    emulator.fail('POST /run_sse', { cutAfterEvents: 1 });
    const controller = new AbortController();
    const outcome = session
      .send('add a title', { signal: controller.signal })
      .catch((e: unknown) => e);
    await clock.waitForSleep(30_000);
    controller.abort();
    expect(await outcome).toBeInstanceOf(AbortError);
    expect(clock.pending()).toEqual([]);
    expect(stateReads()).toBe(1);
    expect(posts()).toBe(1);
  });
});

describe('connection failures without emulator', () => {
  it('does not wait for a message that never left (connection refused)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
      code: 'ECONNREFUSED',
    });
    let runSse = 0;
    const { session } = fakeClient((request) => {
      if (request.url.includes('/api/state/')) {
        return Response.json({ code: 0, data: { session_id: '1', state: { draft: null } } });
      }
      runSse++;
      throw new TypeError('fetch failed', { cause: refused });
    });
    await expect(session.send('hi')).rejects.toBeInstanceOf(ConnectionError);
    expect(runSse).toBe(1);
  });
});
