/**
 * No credential (bearer token, client id) ever reaches an origin other than
 * the API's, redirects included. Two real loopback servers on different ports
 * are two origins; fetch follows (or does not follow) redirects for real.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NemoClient } from '../../src/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

type Route = (url: string, res: ServerResponse) => void;

/** A loopback server that records requests and answers through a swappable route. */
async function origin() {
  const seen: Seen[] = [];
  let route: Route = (_url, res) => res.writeHead(404).end();
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => route(req.url ?? '/', res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    route(fn: Route) {
      route = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const TOKEN = 'tok-origin-test-7c1d2e3f4a5b6c7d';
const CLIENT_ID = 'client-origin-test-1a2b3c';
const MP4 = Buffer.from('00000018667479706d703432', 'hex');

let api: Awaited<ReturnType<typeof origin>>;
let cdn: Awaited<ReturnType<typeof origin>>;
let dir: string;

beforeAll(async () => {
  api = await origin();
  cdn = await origin();
  dir = await mkdtemp(join(tmpdir(), 'nemo-origins-'));
});
afterAll(async () => {
  await api.close();
  await cdn.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  api.seen.length = 0;
  cdn.seen.length = 0;
  cdn.route((_url, res) => {
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': MP4.length }).end(MP4);
  });
});

/** Assert that the foreign origin saw requests, none with a credential or attribution header. */
function expectClean(seen: Seen[]) {
  expect(seen.length).toBeGreaterThan(0);
  for (const request of seen) {
    const h = request.headers;
    expect(h.authorization, `${request.method} ${request.url}`).toBeUndefined();
    expect(h['x-client-id'], `${request.method} ${request.url}`).toBeUndefined();
    expect(JSON.stringify(h)).not.toContain(TOKEN);
    expect(JSON.stringify(h)).not.toContain(CLIENT_ID);
  }
}

function client(options: { token?: string } = {}) {
  return new NemoClient({
    baseUrl: api.url,
    clientId: CLIENT_ID,
    clientIdFile: false,
    logLevel: 'off',
    maxRetries: 0,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
}

describe('API requests redirected to another origin', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`a ${status} from the API carries no bearer token to the other origin`, async () => {
      api.route((url, res) => res.writeHead(status, { location: `${cdn.url}${url}` }).end());
      cdn.route((_url, res) => json(res, { code: 0, data: { available: 1 } }));
      await client({ token: TOKEN })
        .credits.balance()
        .catch(() => {});
      if (cdn.seen.length > 0) expectClean(cdn.seen);
      expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    });
  }

  it('the anonymous-token request redirected elsewhere carries no client id', async () => {
    api.route((url, res) => res.writeHead(307, { location: `${cdn.url}${url}` }).end());
    cdn.route((_url, res) => json(res, { code: 0, data: { token: 'nmv_usr_foreign_token' } }));
    await client()
      .credits.balance()
      .catch(() => {});
    expect(api.seen[0]?.headers['x-client-id']).toBe(CLIENT_ID);
    if (cdn.seen.length > 0) expectClean(cdn.seen);
  });
});

describe('downloads', () => {
  it('fetches a CDN URL without bearer, client id or attribution headers', async () => {
    const to = join(dir, 'cdn.mp4');
    const result = await client({ token: TOKEN }).download(`${cdn.url}/renders/r1.mp4`, to);
    expect(result.bytes).toBe(MP4.length);
    expectClean(cdn.seen);
    for (const request of cdn.seen) {
      expect(Object.keys(request.headers).filter((k) => k.startsWith('x-skill-'))).toEqual([]);
    }
    expect(api.seen).toEqual([]);
  });

  it('follows an API redirect to the CDN, dropping the bearer token at the origin change', async () => {
    api.route((_url, res) => res.writeHead(302, { location: `${cdn.url}/renders/r2.mp4` }).end());
    const to = join(dir, 'via-api.mp4');
    const result = await client({ token: TOKEN }).download(
      `${api.url}/api/render/proxy/r2/download`,
      to,
    );
    expect(result.bytes).toBe(MP4.length);
    expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expectClean(cdn.seen);
  });

  it('a CDN redirecting to yet another origin still gets no credential', async () => {
    const third = await origin();
    try {
      third.route((_url, res) => res.writeHead(200, { 'content-type': 'video/mp4' }).end(MP4));
      cdn.route((_url, res) => res.writeHead(307, { location: `${third.url}/x.mp4` }).end());
      await client({ token: TOKEN }).download(`${cdn.url}/renders/r3.mp4`, join(dir, 'hop.mp4'));
      expectClean(cdn.seen);
      expectClean(third.seen);
    } finally {
      await third.close();
    }
  });

  it('leaves no partial file when the foreign origin fails', async () => {
    cdn.route((_url, res) => res.writeHead(500).end('boom'));
    const to = join(dir, 'failed.mp4');
    await expect(
      client({ token: TOKEN }).download(`${cdn.url}/renders/r4.mp4`, to),
    ).rejects.toMatchObject({ name: 'DownloadError' });
    expect((await readdir(dir)).filter((f) => f.includes('failed'))).toEqual([]);
  });
});
