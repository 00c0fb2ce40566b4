import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseEmulatorArgs, runEmulatorCommand } from '../../src/cli/commands/emulator.js';
import { connectEmulator } from '../../src/testing/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Start the bin, resolve with the API URL it prints. */
function start(args: string[]): {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<number | null>;
  output: () => string;
} {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`exited before printing a URL:\n${out}\n${err}`)));
  });
  url.catch(() => undefined); // awaited only by the tests that expect a URL
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, url, exit, output: () => out + err };
}

async function checkRunning(args: string[], { portInUse = false } = {}) {
  const { child, url, exit, output } = start(args);
  try {
    const base = await url;
    expect(output()).toMatch(/CDN: http:\/\/127\.0\.0\.1:\d+/);
    expect(output()).toContain(`Control API: ${base}/_emulator`);
    // Another process drives it over the control API: a fault, then the counters.
    const remote = connectEmulator(base);
    await remote.fail('POST /api/auth/anonymous-token', { status: 503 });
    const faulted = await fetch(`${base}/api/auth/anonymous-token`, {
      method: 'POST',
      headers: { 'X-Client-Id': 'x' },
    });
    expect(faulted.status).toBe(503);
    const ok = await fetch(`${base}/api/auth/anonymous-token`, {
      method: 'POST',
      headers: { 'X-Client-Id': 'x' },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { code: number; data: { token: string } }).data.token).toMatch(
      /^nmv_usr_/,
    );
    const bad = await fetch(`${base}/api/auth/anonymous-token`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect((await remote.stats())['POST /api/auth/anonymous-token']?.statuses).toEqual({
      '200': 1,
      '400': 1,
      '503': 1,
    });
    if (portInUse) {
      // A second emulator on the same port: a usage error (2) saying what to do.
      const port = new URL(base).port;
      const second = start([...args.slice(0, -1), port]);
      expect(await second.exit).toBe(2);
      expect(second.output()).toMatch(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*--port 0`),
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exit).toBe(0);
  expect(output()).toMatch(/stopped/);
}

// Child processes start slowly on a loaded 2-core machine (tsx compiles the CLI): a wide
// time limit, no sleeps.
describe('nemovideo emulator (bin)', { timeout: 90_000 }, () => {
  test('from source (node --import tsx): prints its URL, serves, stops on SIGTERM', async () => {
    await checkRunning(['--import', 'tsx', 'src/cli/bin.ts', 'emulator', '--port', '0']);
  });

  test.skipIf(!existsSync(`${root}dist/cli/bin.js`))(
    'built dist/cli/bin.js works the same; a second one on the same port exits 2',
    async () => {
      await checkRunning(['dist/cli/bin.js', 'emulator', '--port', '0'], { portInUse: true });
    },
  );

  test('usage errors exit 2', async () => {
    const { exit, output } = start([
      '--import',
      'tsx',
      'src/cli/bin.ts',
      'emulator',
      '--port',
      'abc',
    ]);
    expect(await exit).toBe(2);
    expect(output()).toMatch(/--port must be an integer/);
  });
});

describe('the emulator command module', () => {
  test('parseEmulatorArgs', () => {
    expect(
      parseEmulatorArgs(['--port', '4010', '--host', '0.0.0.0', '--render-shape', 'wrapped']),
    ).toEqual({
      port: 4010,
      host: '0.0.0.0',
      renderShape: 'wrapped',
    });
    expect(parseEmulatorArgs(['-h'])).toBe('help');
    expect(
      parseEmulatorArgs([
        '--initial-credits',
        '10000',
        '--event-delay',
        '5',
        '--result-url-ttl',
        '60000',
        '--request-log-limit',
        '50',
      ]),
    ).toEqual({
      initialCredits: 10_000,
      eventDelayMs: 5,
      resultUrlTtlMs: 60_000,
      requestLogLimit: 50,
    });
    expect(() => parseEmulatorArgs(['--port', '70000'])).toThrow(/65535/);
    expect(() => parseEmulatorArgs(['--event-style', 'xml'])).toThrow(/adk or typed/);
    expect(() => parseEmulatorArgs(['--nope'])).toThrow();
  });

  test('runEmulatorCommand passes its options on and runs until the signal aborts', async () => {
    const ac = new AbortController();
    let out = '';
    let listening!: (url: string) => void;
    const ready = new Promise<string>((resolve) => {
      listening = resolve;
    });
    const running = runEmulatorCommand(
      { port: 0, renderShape: 'wrapped', initialCredits: 7, resultUrlTtlMs: 1000 },
      {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (out += s) },
        signal: ac.signal,
        onListening: (i) => listening(i.url),
      },
    );
    const url = await ready;
    try {
      const res = await fetch(`${url}/api/auth/anonymous-token`, {
        method: 'POST',
        headers: { 'X-Client-Id': 'y' },
      });
      expect(((await res.json()) as { data: { credits: number } }).data.credits).toBe(7);
      expect(await connectEmulator(url).settings()).toMatchObject({
        renderShape: 'wrapped',
        resultUrlTtlMs: 1000,
      });
    } finally {
      ac.abort();
    }
    expect(await running).toBe(0);
    expect(out).toMatch(/export NEMO_API_URL=http:\/\/127\.0\.0\.1:\d+/);
  });

  test('a port in use exits 2 (usage) with what to do', async () => {
    const ac = new AbortController();
    let listening!: (url: string) => void;
    const ready = new Promise<string>((resolve) => {
      listening = resolve;
    });
    const first = runEmulatorCommand(
      { port: 0 },
      {
        stdout: { write: () => undefined },
        stderr: { write: () => undefined },
        signal: ac.signal,
        onListening: (i) => listening(i.url),
      },
    );
    const url = await ready;
    let err = '';
    const code = await runEmulatorCommand(
      { port: Number(new URL(url).port) },
      {
        stdout: { write: () => undefined },
        stderr: { write: (s: string) => (err += s) },
        signal: new AbortController().signal,
      },
    );
    expect(code).toBe(2);
    expect(err).toMatch(/already in use/);
    expect(err).toMatch(/--port 0 to let the system choose a free one/);
    // The CDN port too, named by its own flag.
    let cdnErr = '';
    const cdnCode = await runEmulatorCommand(
      { port: 0, cdnPort: Number(new URL(url).port) },
      {
        stdout: { write: () => undefined },
        stderr: { write: (s: string) => (cdnErr += s) },
        signal: new AbortController().signal,
      },
    );
    expect(cdnCode).toBe(2);
    expect(cdnErr).toMatch(/--cdn-port 0/);
    ac.abort();
    expect(await first).toBe(0);
  });
});
