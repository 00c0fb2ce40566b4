/**
 * Over a real loopback connection: leaving a turn early closes the socket,
 * so no connection is left open behind an aborted or timed-out turn.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, NemoClient, TimeoutError } from '../../src/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';
import { adk, data, SID, TOKEN } from './helpers.js';

let baseUrl = '';
let posts = 0;
/** Resolves when the server sees the client's connection close. */
let closed: Promise<void> = Promise.resolve();
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  posts++;
  closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(data(adk([{ text: 'Working on it.' }])));
  // …and never ends: the turn hangs until the client leaves.
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(clock?: ManualClock) {
  return new NemoClient({
    baseUrl,
    token: TOKEN,
    clientIdFile: false,
    logLevel: 'off',
    ...(clock ? { clock } : {}),
  });
}

describe('the socket of a turn', () => {
  it('is closed when the signal aborts', async () => {
    posts = 0;
    const controller = new AbortController();
    const stream = client().sessions.open(SID).chat('hi', { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.type).toBe('text');
    expect((await iterator.next()).value?.type).toBe('message');
    const pending = iterator.next();
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    await closed;
    expect(posts).toBe(1);
  });

  it('is closed when the reader breaks out of the loop', async () => {
    for await (const event of client().sessions.open(SID).chat('hi')) {
      expect(event.type).toBe('text');
      break;
    }
    await closed;
  });

  it('is closed when the idle watchdog fires', async () => {
    const clock = new ManualClock();
    const stream = client(clock).sessions.open(SID).chat('hi', { idleTimeout: 5000 });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.type).toBe('text');
    expect((await iterator.next()).value?.type).toBe('message');
    const pending = iterator.next().catch((error: unknown) => error);
    await flush();
    await clock.advance(5000);
    expect(await pending).toBeInstanceOf(TimeoutError);
    await closed;
    expect(clock.pending()).toEqual([]);
  });
});
