/**
 * #12.1: on Node, when the client id is persisted, the anonymous token is
 * persisted too, in the store the CLI uses (<configDir>/token.json, 0600, keyed
 * by API origin and client id). The service grants one token per client id, so
 * clients and CLI runs in sequence must share it.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { NemoClient, RateLimitError } from '../../src/index.js';

let server: Server;
let base: string;
let tokenRequests = 0;
let refuseTokens = false;
const clientIds: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/auth/anonymous-token') {
      tokenRequests += 1;
      clientIds.push(String(req.headers['x-client-id']));
      if (refuseTokens) {
        res.statusCode = 429;
        res.end(JSON.stringify({ message: 'this client already has a valid anonymous token' }));
        return;
      }
      res.end(
        JSON.stringify({
          code: 0,
          data: { token: `nmv_usr_granted_${tokenRequests}_abcdef`, credits: 100 },
        }),
      );
      return;
    }
    res.end(JSON.stringify({ code: 0, data: { available: 100, frozen: 0, total: 100 } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let home: string;
beforeEach(() => {
  tokenRequests = 0;
  refuseTokens = false;
  clientIds.length = 0;
  home = mkdtempSync(join(tmpdir(), 'nemo-home-'));
  vi.stubEnv('HOME', home);
  vi.stubEnv('NEMO_CONFIG_DIR', undefined);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const sink = () => {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    text: () => text,
    isTTY: false,
  };
};

describe('anonymous tokens survive a restart, shared by the SDK and the CLI', () => {
  it('three clients in sequence in one HOME ask for one anonymous token', async () => {
    for (let run = 0; run < 3; run++) {
      const client = new NemoClient({ baseUrl: base, logLevel: 'off' });
      expect((await client.credits.balance()).available).toBe(100);
    }
    expect(tokenRequests).toBe(1);
    const dir = join(home, '.config', 'nemovideo');
    const file = join(dir, 'token.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { token: string }>;
    const clientId = readFileSync(join(dir, 'client_id'), 'utf8').trim();
    expect(Object.keys(stored)).toEqual([`${base} ${clientId}`]);
  });

  it('SDK, then the CLI, then the SDK again: one anonymous token in all', async () => {
    await new NemoClient({ baseUrl: base, logLevel: 'off' }).credits.balance();
    const out = sink();
    const err = sink();
    const code = await runCli(['credits', '--api-url', base], {
      stdout: out,
      stderr: err,
      env: { HOME: home },
      signal: new AbortController().signal,
    });
    expect(err.text()).toBe('');
    expect(code).toBe(0);
    await new NemoClient({ baseUrl: base, logLevel: 'off' }).credits.balance();
    expect(tokenRequests).toBe(1);
  });

  it('uses configDir / NEMO_CONFIG_DIR, and still reads a client id at the old location', async () => {
    const legacy = join(home, '.config', 'nemovideo');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, 'client_id'), 'legacy-client-id-0001\n');
    const configDir = join(home, 'elsewhere');
    const first = new NemoClient({ baseUrl: base, configDir, logLevel: 'off' });
    expect(await first.getClientId()).toBe('legacy-client-id-0001');
    await first.credits.balance();
    vi.stubEnv('NEMO_CONFIG_DIR', configDir);
    await new NemoClient({ baseUrl: base, logLevel: 'off' }).credits.balance();
    expect(tokenRequests).toBe(1);
    expect(clientIds).toEqual(['legacy-client-id-0001']);
    expect(readFileSync(join(configDir, 'client_id'), 'utf8').trim()).toBe('legacy-client-id-0001');
    expect(existsSync(join(configDir, 'token.json'))).toBe(true);
  });

  it('keeps both in memory with clientIdFile: false (nothing written)', async () => {
    for (let run = 0; run < 2; run++) {
      await new NemoClient({
        baseUrl: base,
        clientIdFile: false,
        logLevel: 'off',
      }).credits.balance();
    }
    expect(tokenRequests).toBe(2);
    expect(existsSync(join(home, '.config'))).toBe(false);
  });

  it('a 429 on the token request names the real ways out, not a wait', async () => {
    refuseTokens = true;
    const client = new NemoClient({ baseUrl: base, logLevel: 'off' });
    const error = (await client.credits.balance().catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.message).toMatch(/NEMO_TOKEN/);
    expect(error.message).toMatch(/NEMO_CLIENT_ID/);
    expect(error.message).toContain(join(home, '.config', 'nemovideo', 'token.json'));
    expect(error.message).not.toMatch(/Wait \d+ s/);
    expect(tokenRequests).toBe(1);
  });
});
