/**
 * #13 items 10 and 15: hostile JSON shapes in the session and its draft.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describe as describeError, expectCleanNemoError, outcome, rejection } from './expect.js';
import { NemoClient } from './sdk.js';
import { backend, closeAll, hostile, PATHS, SESSION_ID, sendJson, stateBody } from './servers.js';

const TOKEN = 'usr-draft-S3CRET-token';

beforeEach(() => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
});
afterEach(closeAll);

/** About 5 000 levels of arrays inside a segment: about 10 KB of JSON. */
const LEVELS = 5_000;
function deepStateText(): string {
  const marker = '"__deep__"';
  const text = JSON.stringify(
    stateBody({
      t: [{ tt: 0, sg: [{ id: 'seg1', d: 3000, x: '__deep__' }] }],
      d: 3000,
    }),
  );
  return text.replace(marker, `${'['.repeat(LEVELS)}${']'.repeat(LEVELS)}`);
}

function clientFor(origin: string) {
  return new NemoClient({ token: TOKEN, baseUrl: origin, maxRetries: 0, logLevel: 'off' });
}

describe('item 10: a draft nested about 5 000 levels deep', () => {
  const deepState = backend({ state: (_req, res) => sendJson(res, 200, deepStateText()) });

  it('state(): a NemoError', async () => {
    expect(deepStateText().length, 'about 10 KB of JSON').toBeLessThan(11_000);
    const api = await hostile(deepState);
    const error = await rejection(clientFor(api.origin).sessions.open(SESSION_ID).state());
    expectCleanNemoError(error, ['S3CRET']);
  });

  it('render(): a NemoError, and no render started', async () => {
    const api = await hostile(deepState);
    const error = await rejection(clientFor(api.origin).sessions.open(SESSION_ID).render());
    expectCleanNemoError(error, ['S3CRET']);
    expect(api.count('POST', PATHS.renderStart)).toBe(0);
  });

  it('export(): a NemoError, and no render started', async () => {
    const api = await hostile(deepState);
    const error = await rejection(
      clientFor(api.origin).sessions.open(SESSION_ID).export({ pollInterval: 1 }),
    );
    expectCleanNemoError(error, ['S3CRET']);
    expect(api.count('POST', PATHS.renderStart)).toBe(0);
  });

  it('send(): the state after a silent turn is deep: a NemoError that says the message was sent', async () => {
    let posted = false;
    const api = await hostile(
      backend({
        state: (_req, res) => sendJson(res, 200, posted ? deepStateText() : stateBody()),
        runSse: (_req, res) => {
          posted = true;
          // A silent turn: tool activity only, so send() reads the state afterwards.
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            `data: ${JSON.stringify({ author: 'nemo_agent', content: { role: 'model', parts: [{ functionCall: { id: 'c1', name: 'edit', args: {} } }] } })}\n\n`,
          );
        },
      }),
    );
    const error = await rejection(
      clientFor(api.origin).sessions.open(SESSION_ID).send('trim the first clip'),
    );
    expect(api.count('POST', PATHS.runSse), 'POSTs of the message').toBe(1);
    expectCleanNemoError(error, ['S3CRET']);
    // The caller must be able to tell that the message went out (and must not re-send it blindly).
    expect((error as Error).message, describeError(error)).toMatch(
      /\b(was|has been|been) (already )?sent\b|\bafter (the message was )?sen(t|ding)\b/i,
    );
  });
});

describe('item 15: a session id sent as a JSON number above 2^53', () => {
  it('is refused with a NemoError, or kept exactly; never rounded', async () => {
    const exact = '5529798706024415232';
    const api = await hostile(
      backend({
        createSession: (_req, res) =>
          sendJson(res, 200, `{"code":0,"data":{"session_id":${exact},"task_id":"task_1"}}`),
      }),
    );
    const result = await outcome(clientFor(api.origin).sessions.create());
    if (result.ok) {
      expect(result.value.id).toBe(exact);
    } else {
      expectCleanNemoError(result.error, ['S3CRET']);
    }
  });
});
