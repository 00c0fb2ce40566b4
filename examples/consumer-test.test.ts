/**
 * How an app tests its nemovideo code: `nemovideo/testing` emulates the whole API behind msw,
 * so the real SDK runs against it, offline and fast. Copy this into your app's test suite.
 *
 *   npx vitest run --config examples/vitest.config.ts     (after `npm run build`)
 */
import { setupServer } from 'msw/node';
import { InsufficientCreditsError, NemoClient, RenderFailedError } from 'nemovideo';
import { summarizeTimeline } from 'nemovideo/helpers';
import { createEmulator } from 'nemovideo/testing';
import { mswHandlers } from 'nemovideo/testing/msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// ── the app code under test (in your app it lives in src/) ──────────────────────────────────

interface Highlight {
  sessionId: string;
  reply: string;
  timeline: string;
  mp4: Uint8Array;
}

/** Turns a video link into an edited MP4 in memory. */
async function makeHighlight(
  client: NemoClient,
  url: string,
  instruction: string,
): Promise<Highlight> {
  const session = await client.sessions.create();
  await session.uploadUrl(url);
  const turn = await session.send(instruction);
  const state = await session.state();
  const chunks: Uint8Array[] = [];
  await session.export({
    to: new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) }),
  });
  const mp4 = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    mp4.set(chunk, at);
    at += chunk.length;
  }
  return {
    sessionId: session.id,
    reply: turn.silent ? (turn.summary ?? '') : turn.text,
    timeline: summarizeTimeline(state.draft),
    mp4,
  };
}

// ── the test setup ───────────────────────────────────────────────────────────────────────────

// Renders complete at once, and the SDK polls without waiting: no real sleeps in the tests.
const emulator = createEmulator({ renderDurationMs: 0 });
const server = setupServer(...mswHandlers(emulator));

/** A client as the app builds it, plus test-only settings (no waits, no client id file on disk). */
const newClient = () =>
  new NemoClient({
    clientId: 'consumer-test',
    clientIdFile: false,
    backend: { render: { pollIntervalMs: 0 } },
    retryTiming: { initialDelayMs: 1, maxDelayMs: 5 },
  });

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  emulator.reset();
  emulator.agent(undefined);
});
afterAll(() => server.close());

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

// ── the tests ────────────────────────────────────────────────────────────────────────────────

describe('makeHighlight', () => {
  it('produces an MP4 and sends the instruction to the agent', async () => {
    const result = await makeHighlight(newClient(), VIDEO, 'download this video in MP4 at 1080p');

    expect(ascii(result.mp4, 4, 8)).toBe('ftyp'); // an ISO-BMFF / MP4 file
    expect(result.timeline).toMatch(/^Timeline \(1 track\): 1\. Video: /);

    const sse = emulator.requests.find((r) => r.path === '/run_sse');
    expect(sse?.body).toMatchObject({
      type: 'json',
      value: { new_message: { parts: [{ text: 'download this video in MP4 at 1080p' }] } },
    });
  });

  it('shows the reply of a scripted agent', async () => {
    // Script the turn: change the timeline (as the real agent's tools would), then reply.
    emulator.agent((_message, ctx) => [
      { toolCall: { name: 'trim', args: { seconds: 15 } } },
      {
        effect: () =>
          ctx.setDraft({
            t: [
              {
                tt: 0,
                sg: [
                  {
                    id: 'v1',
                    st: 0,
                    du: 15_000,
                    nm: 'best bits',
                    src: ctx.videoInfos[0]?.cdn_url ?? '',
                  },
                ],
              },
            ],
            d: 15_000,
            m: { title: 'highlight' },
          }),
      },
      { toolResult: { name: 'trim', response: { status: 'success' } } },
      { text: 'Trimmed to the best 15 seconds.' },
    ]);
    const result = await makeHighlight(newClient(), VIDEO, 'make it short');
    expect(result.reply).toBe('Trimmed to the best 15 seconds.');
    expect(result.timeline).toBe('Timeline (1 track): 1. Video: best bits (0-15s)');
  });

  it('surfaces "out of credits" as a typed error', async () => {
    emulator.setCredits(0);
    await expect(makeHighlight(newClient(), VIDEO, 'add a title')).rejects.toBeInstanceOf(
      InsufficientCreditsError,
    );
  });

  it('surfaces a failed render', async () => {
    emulator.failRenders('Lambda timeout');
    const failure = makeHighlight(newClient(), VIDEO, 'download this video in MP4');
    await expect(failure).rejects.toBeInstanceOf(RenderFailedError);
    await expect(failure).rejects.toThrow(/Lambda timeout/);
  });

  it('rides out a transient 503 (the SDK retries what is safe to retry)', async () => {
    emulator.fail('POST /api/tasks/me/with-session/nemo_agent', { status: 503, times: 1 });
    const result = await makeHighlight(newClient(), VIDEO, 'download this video in MP4');
    expect(result.sessionId).toMatch(/^\d+$/);
    const creates = emulator.requests.filter(
      (r) => r.path === '/api/tasks/me/with-session/nemo_agent',
    );
    expect(creates.map((r) => r.status)).toEqual([503, 200]);
  });
});
