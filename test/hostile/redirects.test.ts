/**
 * #13 item 4: one chat() is at most one POST of the message, whatever the
 * server answers. Redirects on /run_sse are refused, not followed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectCleanNemoError, outcome } from './expect.js';
import { NemoClient } from './sdk.js';
import { backend, closeAll, hostile, PATHS, SESSION_ID } from './servers.js';

beforeEach(() => {
  for (const name of ['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_CLIENT_ID']) vi.stubEnv(name, undefined);
});
afterEach(closeAll);

const TOKEN = 'usr-redirect-S3CRET-token';
const MESSAGE = 'make it black and white (hostile-redirect-marker)';

/** Drain a chat turn: the events' text, or the error. */
async function chatOnce(baseUrl: string) {
  const client = new NemoClient({ token: TOKEN, baseUrl, logLevel: 'off' });
  const session = client.sessions.open(SESSION_ID);
  return outcome(session.chat(MESSAGE, { timeout: 5_000 }).text());
}

describe('item 4: /run_sse answered with a redirect', () => {
  for (const status of [307, 308]) {
    it(`${status} to itself: one POST in all, then a typed error`, async () => {
      const api = await hostile(
        backend({
          runSse: (_req, res) => {
            res.writeHead(status, { location: '/run_sse' });
            res.end();
          },
        }),
      );
      const result = await chatOnce(api.origin);
      const posts = api.count('POST', PATHS.runSse);
      expect(posts, `POSTs of one message to /run_sse (${status} to itself)`).toBe(1);
      expect(result.ok, 'a redirect is not a reply').toBe(false);
      if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
    });
  }

  it('307 to another origin: the message never reaches it, one POST in all, a typed error', async () => {
    const other = await hostile(backend());
    const api = await hostile(
      backend({
        runSse: (_req, res) => {
          res.writeHead(307, { location: `${other.origin}/run_sse` });
          res.end();
        },
      }),
    );
    const result = await chatOnce(api.origin);
    const here = api.count('POST', PATHS.runSse);
    const there = other.requests.length;
    expect({ postsToApi: here, requestsToOtherOrigin: there }).toEqual({
      postsToApi: 1,
      requestsToOtherOrigin: 0,
    });
    for (const request of other.requests)
      expect(request.body).not.toContain('hostile-redirect-marker');
    expect(result.ok, 'a redirect is not a reply').toBe(false);
    if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
  });

  it('303 (to a GET): one POST, no request follows, a typed error', async () => {
    const api = await hostile(
      backend({
        runSse: (_req, res) => {
          res.writeHead(303, { location: '/run_sse' });
          res.end();
        },
      }),
    );
    const result = await chatOnce(api.origin);
    expect({
      posts: api.count('POST', PATHS.runSse),
      followUps: api.count('GET', PATHS.runSse),
    }).toEqual({ posts: 1, followUps: 0 });
    expect(result.ok).toBe(false);
    if (!result.ok) expectCleanNemoError(result.error, ['S3CRET']);
  });
});
