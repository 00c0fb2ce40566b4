/**
 * Secrets on disk are private to their owner (client id and token files 0600,
 * their folders 0700, whatever the umask), and a token is never sent over
 * plain http to a host that is not loopback.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http } from 'msw';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileTokenStore, MemoryTokenStore } from '../../src/helpers.js';
import { ConfigError, NemoClient } from '../../src/index.js';
import { BASE, ok, useMswServer } from '../helpers/msw.js';

const server = useMswServer();
const mode = async (p: string) => (await stat(p)).mode & 0o777;

let dir: string;
let umask: number | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-sec-'));
  // The most permissive umask: modes must come from the SDK, not from the environment.
  umask = typeof process.umask === 'function' ? process.umask(0) : undefined;
});
afterEach(async () => {
  if (umask !== undefined) process.umask(umask);
  await rm(dir, { recursive: true, force: true });
});

function anonymousApi() {
  const clientIds: (string | null)[] = [];
  server.use(
    http.post(`${BASE}/api/auth/anonymous-token`, ({ request }) => {
      clientIds.push(request.headers.get('x-client-id'));
      return ok({ token: 'nmv_usr_file_test_token', credits: 100, user_id: 'anon_f' });
    }),
    http.get(`${BASE}/api/credits/balance/simple`, () => ok({ available: 100 })),
  );
  return clientIds;
}

describe('files holding secrets', () => {
  it('creates the client id file 0600 in a 0700 folder, and sends that id', async () => {
    const clientIds = anonymousApi();
    const file = join(dir, 'nested', 'config', 'client_id');
    await new NemoClient({ clientIdFile: file, logLevel: 'off' }).credits.balance();
    expect(await mode(file)).toBe(0o600);
    expect(await mode(join(dir, 'nested', 'config'))).toBe(0o700);
    expect(clientIds).toEqual([(await readFile(file, 'utf8')).trim()]);
  });

  it('uses ~/.config/nemovideo/client_id by default, 0600', async ({ onTestFinished }) => {
    anonymousApi();
    const home = process.env.HOME;
    process.env.HOME = dir;
    vi.stubEnv('NEMO_CONFIG_DIR', undefined);
    onTestFinished(() => {
      process.env.HOME = home;
    });
    await new NemoClient({ logLevel: 'off' }).credits.balance();
    const file = join(dir, '.config', 'nemovideo', 'client_id');
    expect(await mode(file)).toBe(0o600);
    expect(await mode(join(dir, '.config', 'nemovideo'))).toBe(0o700);
  });

  it('keeps the same id across clients (the file is reused, not rewritten)', async () => {
    const clientIds = anonymousApi();
    const file = join(dir, 'client_id');
    // In-memory tokens, so each client asks for one and shows the id it sends.
    const tokenStore = () => new MemoryTokenStore();
    await new NemoClient({
      clientIdFile: file,
      tokenStore: tokenStore(),
      logLevel: 'off',
    }).credits.balance();
    await new NemoClient({
      clientIdFile: file,
      tokenStore: tokenStore(),
      logLevel: 'off',
    }).credits.balance();
    expect(clientIds).toHaveLength(2);
    expect(clientIds[0]).toBe(clientIds[1]);
    expect(await mode(file)).toBe(0o600);
  });

  it('writes the token file 0600 in a 0700 folder', async () => {
    anonymousApi();
    const file = join(dir, 'tokens', 'token.json');
    await new NemoClient({
      clientIdFile: false,
      tokenStore: new FileTokenStore(file),
      logLevel: 'off',
    }).credits.balance();
    expect(await mode(file)).toBe(0o600);
    expect(await mode(join(dir, 'tokens'))).toBe(0o700);
    expect(await readFile(file, 'utf8')).toContain('nmv_usr_file_test_token');
  });
});

describe('plain http', () => {
  const refused = [
    'http://api.example.com',
    'http://mega-api-prod.nemovideo.ai',
    'http://127.0.0.1.nip.io',
    'http://localhost.example.com',
    'http://127.0.0.1@example.com',
    'http://10.0.0.5:8080',
    'http://192.168.1.10',
    'http://[::ffff:8.8.8.8]',
  ];
  for (const baseUrl of refused) {
    it(`refuses ${baseUrl} before any request, for every token source`, () => {
      // msw fails the test on any unhandled request: none may be made.
      for (const token of ['tok-http-test-123456', () => 'tok-http-fn-123456', undefined]) {
        expect(
          () => new NemoClient({ baseUrl, clientIdFile: false, ...(token ? { token } : {}) }),
        ).toThrow(ConfigError);
      }
    });
  }

  it('refuses a plain-http NEMO_API_URL', ({ onTestFinished }) => {
    process.env.NEMO_API_URL = 'http://api.example.com';
    onTestFinished(() => {
      delete process.env.NEMO_API_URL;
    });
    expect(() => new NemoClient({ clientIdFile: false })).toThrow(ConfigError);
  });

  it('allows loopback hosts', () => {
    for (const baseUrl of [
      'http://localhost:4010',
      'http://api.localhost:4010',
      'http://127.0.0.1:9',
      'http://127.1.2.3:9',
      'http://[::1]:9',
    ]) {
      expect(() => new NemoClient({ baseUrl, clientIdFile: false })).not.toThrow();
    }
  });

  it('the refusal says how to fix it, without the token', () => {
    const token = 'tok-http-refusal-9f8e7d6c';
    let message = '';
    try {
      new NemoClient({ baseUrl: 'http://api.example.com', token, clientIdFile: false });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/https|allowInsecureHttp/);
    expect(message).not.toContain(token);
  });
});
