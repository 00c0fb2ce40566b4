import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseEmulatorArgs, runEmulatorCommand } from '../../src/cli/commands/emulator.js';

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

async function checkRunning(args: string[]) {
  const { child, url, exit, output } = start(args);
  try {
    const base = await url;
    expect(output()).toMatch(/CDN: http:\/\/127\.0\.0\.1:\d+/);
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
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exit).toBe(0);
  expect(output()).toMatch(/stopped/);
}

describe('nemovideo emulator (bin)', () => {
  test('from source (node --import tsx): prints its URL, serves, stops on SIGTERM', async () => {
    await checkRunning(['--import', 'tsx', 'src/cli/bin.ts', 'emulator', '--port', '0']);
  });

  test.skipIf(!existsSync(`${root}dist/cli/bin.js`))(
    'built dist/cli/bin.js works the same',
    async () => {
      await checkRunning(['dist/cli/bin.js', 'emulator', '--port', '0']);
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
    expect(() => parseEmulatorArgs(['--port', '70000'])).toThrow(/65535/);
    expect(() => parseEmulatorArgs(['--event-style', 'xml'])).toThrow(/adk or typed/);
    expect(() => parseEmulatorArgs(['--nope'])).toThrow();
  });

  test('runEmulatorCommand runs until the signal aborts', async () => {
    const ac = new AbortController();
    let out = '';
    const io = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      signal: ac.signal,
      onListening: async ({ url }: { url: string }) => {
        const res = await fetch(`${url}/api/auth/anonymous-token`, {
          method: 'POST',
          headers: { 'X-Client-Id': 'y' },
        });
        expect(res.status).toBe(200);
        ac.abort();
      },
    };
    expect(await runEmulatorCommand({ port: 0, renderShape: 'wrapped' }, io)).toBe(0);
    expect(out).toMatch(/export NEMO_API_URL=http:\/\/127\.0\.0\.1:\d+/);
  });

  test('a port in use exits 1 with a message', async () => {
    const ac = new AbortController();
    let url = '';
    const first = runEmulatorCommand(
      { port: 0 },
      {
        stdout: { write: () => undefined },
        stderr: { write: () => undefined },
        signal: ac.signal,
        onListening: (i) => {
          url = i.url;
        },
      },
    );
    while (!url) await new Promise((r) => setTimeout(r, 10));
    let err = '';
    const code = await runEmulatorCommand(
      { port: Number(new URL(url).port) },
      {
        stdout: { write: () => undefined },
        stderr: { write: (s: string) => (err += s) },
        signal: new AbortController().signal,
      },
    );
    expect(code).toBe(1);
    expect(err).toMatch(/EADDRINUSE/);
    ac.abort();
    expect(await first).toBe(0);
  });
});
