/**
 * The built `nemovideo` binary against the emulator over loopback: the download flow,
 * `--json` output, every error path's exit code and message, and Ctrl-C.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeMp4 } from '../../src/cli/mp4.js';
import {
  closedPort,
  ensureBuilt,
  perTest,
  runCli,
  serveSlowCdnEmulator,
  startCli,
  tempDir,
} from './helpers.js';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const ANSI = '\u001b[';

beforeAll(() => {
  ensureBuilt();
}, 180_000);

const { defer, setup } = perTest();

/** Lines of a run's stderr, without the blank ones. */
function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  const errorLines = lines(stderr).filter((l) => l.startsWith('error:'));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
  // No stack trace without --verbose.
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('nemovideo download', () => {
  it('runs the whole workflow and saves a valid MP4, with stages and plain progress lines', async () => {
    const { served, home } = await setup();
    const run = await runCli(['download', VIDEO, '-o', 'out/video.mp4'], {
      apiUrl: served.url,
      home,
    });
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);

    const file = join(home, 'out', 'video.mp4');
    const probe = await probeMp4(file);
    expect(probe.valid).toBe(true);
    expect(probe.boxes.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(run.stdout.trim()).toBe(
      `Saved out/video.mp4 (${(statSync(file).size / 1024).toFixed(1)} KB, 0:02)`,
    );

    // Stages in order, as plain lines (stderr is not a TTY: no bar, no escape codes).
    const stages = [
      '› Connecting to',
      '✓ Using a free anonymous token',
      '✓ Session ',
      `› Uploading ${VIDEO}`,
      '✓ Uploaded ',
      '› Asking the agent: "download this video in MP4 at 1080p"',
      '✓ Agent: ',
      '› Rendering 1080p MP4',
      'render: 100%',
      '› Downloading',
      'download: 100%',
    ];
    let at = -1;
    for (const stage of stages) {
      const next = run.stderr.indexOf(stage, at + 1);
      expect(next, `stage "${stage}" after position ${at} in:\n${run.stderr}`).toBeGreaterThan(at);
      at = next;
    }
    expect(run.stderr).not.toContain(ANSI);
    expect(run.stderr).not.toContain('\r');

    // The workflow on the wire: one upload by URL, one chat turn, one render with 1080p output.
    const paths = served.emulator.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths.filter((p) => p.startsWith('POST /run_sse'))).toHaveLength(1);
    const render = served.emulator.requests.find(
      (r) => r.method === 'POST' && r.path === '/api/render/proxy/lambda',
    );
    expect(render?.body).toMatchObject({
      type: 'json',
      value: { output: { format: 'mp4', quality: 'high' } },
    });
  });

  it('caches the anonymous token (0600) under the config dir and reuses it on the next run', async () => {
    const { served, home } = await setup();
    const first = await runCli(['credits'], { apiUrl: served.url, home });
    expect(first.code).toBe(0);
    const second = await runCli(['credits'], { apiUrl: served.url, home });
    expect(second.code).toBe(0);

    const tokenFile = join(home, '.config', 'nemovideo', 'token.json');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const cached = JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, { token: string }>;
    const keys = Object.keys(cached);
    expect(keys).toHaveLength(1);
    expect(keys[0]?.startsWith(`${served.url} `)).toBe(true);
    const tokenRequests = served.emulator.requests.filter(
      (r) => r.path === '/api/auth/anonymous-token',
    );
    expect(tokenRequests).toHaveLength(1);
  });

  it('uses NEMO_TOKEN or --token as given: no anonymous token is requested or cached', async () => {
    const { served, home } = await setup();
    const { token } = served.emulator.issueToken();
    const fromEnv = await runCli(['credits', '--json'], {
      apiUrl: served.url,
      home,
      env: { NEMO_TOKEN: token },
    });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ tokenSource: 'env' });
    const fromFlag = await runCli(['credits', '--json', '--token', token], {
      apiUrl: served.url,
      home,
    });
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ tokenSource: 'option' });
    expect(served.emulator.requests.some((r) => r.path === '/api/auth/anonymous-token')).toBe(
      false,
    );
    expect(existsSync(join(home, '.config', 'nemovideo', 'token.json'))).toBe(false);
    expect(
      served.emulator.requests.every((r) => r.headers.authorization === `Bearer ${token}`),
    ).toBe(true);
  });

  it('--json prints one JSON result on stdout and nothing else', async () => {
    const { served, home } = await setup();
    const run = await runCli(['download', VIDEO, '-o', 'v.mp4', '--json'], {
      apiUrl: served.url,
      home,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const stdoutLines = lines(run.stdout);
    expect(stdoutLines).toHaveLength(1);
    const result = JSON.parse(stdoutLines[0] ?? '') as Record<string, unknown>;
    const file = join(home, 'v.mp4');
    expect(result).toEqual({
      path: file,
      bytes: statSync(file).size,
      durationSec: 2,
      sessionId: expect.stringMatching(/^\d+$/),
      renderId: expect.stringMatching(/^render_/),
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.+\.mp4$/),
      jobId: expect.stringMatching(/^job_[0-9a-f]{16}$/),
      resumedSteps: [],
      transferredBytes: statSync(file).size,
    });
    expect((await probeMp4(file)).valid).toBe(true);
  });

  it('--quiet prints only the result line', async () => {
    const { served, home } = await setup();
    const run = await runCli(['download', VIDEO, '-o', 'q.mp4', '-q'], {
      apiUrl: served.url,
      home,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(lines(run.stdout)).toEqual([expect.stringMatching(/^Saved q\.mp4 \(.+, 0:02\)$/)]);
  });

  it('honours NO_COLOR over FORCE_COLOR', async () => {
    const { served, home } = await setup();
    const colored = await runCli(['session', 'new'], {
      apiUrl: served.url,
      home,
      env: { FORCE_COLOR: '1' },
    });
    expect(colored.stderr).toContain(ANSI);
    const plain = await runCli(['session', 'new'], {
      apiUrl: served.url,
      home,
      env: { FORCE_COLOR: '1', NO_COLOR: '1' },
    });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain(ANSI);
  });
});

describe('the step-by-step commands', () => {
  it('session new, upload, chat (NDJSON), state and export compose', async () => {
    const { served, home } = await setup();
    const opts = { apiUrl: served.url, home };

    const created = await runCli(['session', 'new', '--json'], opts);
    expect(created.code).toBe(0);
    const { sessionId } = JSON.parse(created.stdout) as { sessionId: string };
    expect(sessionId).toMatch(/^\d+$/);

    const uploaded = await runCli(['upload', sessionId, VIDEO, '--json'], opts);
    expect(uploaded.code).toBe(0);
    const upload = JSON.parse(uploaded.stdout) as {
      files: Array<{ fileType: string; url: string }>;
    };
    expect(upload.files).toEqual([
      expect.objectContaining({ fileType: 'video', url: expect.stringMatching(/^http:/) }),
    ]);

    const chat = await runCli(['chat', sessionId, 'add a title "Urban Dreams"', '--json'], opts);
    expect(chat.code).toBe(0);
    const events = lines(chat.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    for (const event of events.slice(0, -1)) {
      expect(['text', 'tool_call', 'tool_result', 'thought', 'heartbeat', 'unknown']).toContain(
        event.type,
      );
      expect(event).not.toHaveProperty('raw');
    }
    expect(events.some((e) => e.type === 'tool_call')).toBe(true);

    const state = await runCli(['state', sessionId, '--json'], opts);
    expect(state.code).toBe(0);
    const snapshot = JSON.parse(state.stdout) as {
      summary: string;
      exportReady: boolean;
      tracks: Array<{ kind: string }>;
    };
    expect(snapshot.summary).toMatch(/^Timeline \(\d+ tracks?\): /);
    expect(snapshot.summary).toContain('Urban Dreams');
    expect(snapshot.exportReady).toBe(true);
    expect(snapshot.tracks.map((t) => t.kind)).toContain('text');

    const humanState = await runCli(['state', sessionId], opts);
    expect(humanState.stdout.trim()).toBe(snapshot.summary);

    const exported = await runCli(['export', sessionId, '-o', 'final.mp4', '--json'], opts);
    expect(exported.code).toBe(0);
    expect((await probeMp4(join(home, 'final.mp4'))).valid).toBe(true);
    // Six processes in a row: roomy on a busy 2-core machine.
  }, 60_000);

  it('chat streams the reply text on stdout, once', async () => {
    const { served, home } = await setup();
    served.emulator.agent(() => [{ text: 'Hello there, editor speaking.' }]);
    const opts = { apiUrl: served.url, home };
    const sid = (await runCli(['session', 'new', '-q'], opts)).stdout.trim();
    const run = await runCli(['chat', sid, 'hi'], opts);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Hello there, editor speaking.\n');
  });

  it('a silent turn reports what changed in the timeline', async () => {
    const { served, home } = await setup();
    const opts = { apiUrl: served.url, home };
    const sid = (await runCli(['session', 'new', '-q'], opts)).stdout.trim();
    served.emulator.agent((_message, ctx) => [
      { toolCall: { name: 'add_text', args: { text: 'Hi' } } },
      {
        effect: () =>
          ctx.setDraft({
            t: [{ tt: 7, sg: [{ id: 's1', st: 0, du: 3000, nm: 'Title', txt: 'Hi' }] }],
            d: 3000,
            m: { title: 'project' },
          }),
      },
      { toolResult: { name: 'add_text', response: { status: 'success' } } },
    ]);
    const run = await runCli(['chat', sid, 'add a title'], opts);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('[add_text]');
    expect(run.stderr).toMatch(/replied without text\. Changes: .*Title/);
    const json = await runCli(['chat', sid, 'add a title', '--json'], opts);
    const last = JSON.parse(lines(json.stdout).at(-1) ?? '') as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'done', silent: true });
  });

  it('credits --json prints the balance', async () => {
    const { served, home } = await setup();
    const run = await runCli(['credits', '--json'], { apiUrl: served.url, home });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      available: 100,
      frozen: 0,
      total: 100,
      tokenSource: 'anonymous',
    });
  });
});

describe('errors: one line, what to do, and the documented exit code', () => {
  it('a bad URL is a usage error (2)', async () => {
    const { served, home } = await setup();
    const run = await runCli(['download', 'youtube.com/watch?v=x'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expectOneErrorLine(run.stderr, /not a valid video URL\. Pass a full http\(s\) link/);
    expect(served.emulator.requests).toHaveLength(0);
  });

  it('an unsupported file is a usage error (2), caught before any upload', async () => {
    const { served, home } = await setup();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(home, 'notes.txt'), 'hello');
    const run = await runCli(['upload', '123', 'notes.txt'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expectOneErrorLine(run.stderr, /\.txt files are not accepted\. Accepted formats: mp4, mov/);
    expect(served.emulator.requests).toHaveLength(0);
  });

  it('a missing file is a usage error (2)', async () => {
    const { served, home } = await setup();
    const run = await runCli(['upload', '123', 'nope.mp4'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expectOneErrorLine(run.stderr, /File not found: nope\.mp4/);
  });

  it('unknown options and missing arguments are usage errors (2)', async () => {
    const { home } = await setup();
    expect((await runCli(['download'], { home })).code).toBe(2);
    expect((await runCli(['download', VIDEO, '--quality', '4k'], { home })).code).toBe(2);
    const unknown = await runCli(['frobnicate'], { home });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('no credits is an API error (3) with the registration link', async () => {
    const { served, home } = await setup();
    served.emulator.setCredits(0);
    const run = await runCli(['download', VIDEO, '-o', 'x.mp4'], { apiUrl: served.url, home });
    expect(run.code).toBe(3);
    expectOneErrorLine(
      run.stderr,
      /Out of credits\. Register at https:\/\/nemovideo\.com\/register\?bind=anon_\S+ .*"nemovideo credits"/,
    );
    expect(existsSync(join(home, 'x.mp4'))).toBe(false);
  });

  it('HTTP 402 (plan limit) is an API error (3), distinct from credits', async () => {
    const { served, home } = await setup();
    served.emulator.fail('POST /api/render/proxy/lambda', { status: 402, times: Infinity });
    const run = await runCli(['download', VIDEO, '-o', 'x.mp4'], { apiUrl: served.url, home });
    expect(run.code).toBe(3);
    expectOneErrorLine(
      run.stderr,
      /plan does not allow this export \(HTTP 402\).*not a lack of credits/,
    );
  });

  it('an unknown session is an API error (3); --json reports it as a JSON line', async () => {
    const { served, home } = await setup();
    const run = await runCli(['state', '999'], { apiUrl: served.url, home });
    expect(run.code).toBe(3);
    expectOneErrorLine(run.stderr, /Session 999 was not found.*"nemovideo session new"/);

    const json = await runCli(['state', '999', '--json'], { apiUrl: served.url, home });
    expect(json.code).toBe(3);
    expect(json.stdout).toBe('');
    expect(JSON.parse(json.stderr)).toEqual({
      error: { kind: 'SessionNotFoundError', message: expect.stringContaining('999'), exitCode: 3 },
    });
  });

  it('--verbose adds the stack trace and the redacted debug log', async () => {
    const { served, home } = await setup();
    const run = await runCli(['state', '999', '--verbose'], { apiUrl: served.url, home });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/SessionNotFoundError/);
    expect(run.stderr).toMatch(/^\s+at /m);
    expect(run.stderr).toContain('nemovideo debug:');
    // The token is never printed.
    const tokenFile = join(home, '.config', 'nemovideo', 'token.json');
    const cached = Object.values(
      JSON.parse(readFileSync(tokenFile, 'utf8')) as Record<string, { token: string }>,
    );
    expect(cached[0]?.token).toBeTruthy();
    expect(run.stderr).not.toContain(cached[0]?.token);
  });

  it('a service that is down is a network error (4)', async () => {
    const { home } = await setup();
    const port = await closedPort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const run = await runCli(['credits'], { apiUrl, home });
    expect(run.code).toBe(4);
    expectOneErrorLine(run.stderr, new RegExp(`Could not reach the NemoVideo API at ${apiUrl}`));
  });

  it('plain http to a non-loopback host is refused (2)', async () => {
    const { home } = await setup();
    const run = await runCli(['credits', '--api-url', 'http://example.com'], { home });
    expect(run.code).toBe(2);
    expectOneErrorLine(
      run.stderr,
      /--api-url "http:\/\/example\.com": refusing to send the token over plain http to example\.com\. Use https:\/\//,
    );
  });
});

describe('Ctrl-C', () => {
  it('SIGINT mid-download exits 130 and keeps the partial file for the next run, never the target', async () => {
    const dir = tempDir();
    // 4 MB served at 64 KB every 50 ms: the download lasts about 3 s.
    const served = await serveSlowCdnEmulator(
      { resultSizeBytes: 4 * 1024 * 1024, renderDurationMs: 0 },
      { chunkBytes: 64 * 1024, delayMs: 50 },
    );
    defer(dir.cleanup, served.close);
    const out = join(dir.path, 'out');
    const cli = startCli(['download', VIDEO, '-o', 'out/video.mp4', '--poll-interval', '0.05'], {
      apiUrl: served.url,
      home: dir.path,
    });
    await cli.waitFor('› Downloading');
    // A quarter of the bytes has arrived (written to the temporary file as they come).
    await cli.waitFor(/download: [1-9]\d%/);
    expect(readdirSync(out).some((f) => f.endsWith('.part'))).toBe(true);
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    // The last line says what to do next, and that works as written.
    const last = lines(run.stderr).at(-1) ?? '';
    const next =
      /^error: Aborted\. Job job_[0-9a-f]{16} is saved: run the same command to resume it \("(nemovideo download \S+ -o out\/video\.mp4)", or "nemovideo jobs resume job_[0-9a-f]{16}"\); what is done is not done again and the instruction is never sent twice\.$/.exec(
        last,
      );
    expect(next, last).not.toBeNull();
    expect(readdirSync(out).sort()).toEqual(['video.mp4.part', 'video.mp4.part.json']);
    // The words of the command as a shell would pass them (the link is quoted).
    const words = (next?.[1] ?? '')
      .split(' ')
      .slice(1)
      .map((w) => w.replace(/^'(.*)'$/, '$1'));
    const again = await runCli(words, { apiUrl: served.url, home: dir.path });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('› Downloading (resuming at ');
    expect((await probeMp4(join(out, 'video.mp4'))).valid).toBe(true);
    expect(readdirSync(out)).toEqual(['video.mp4']);
  }, 60_000);

  it('SIGINT during the render with --cancel-on-abort cancels the render job', async () => {
    const { served, home } = await setup({ renderDurationMs: 120_000 });
    const cli = startCli(
      ['download', VIDEO, '-o', 'v.mp4', '--cancel-on-abort', '--poll-interval', '0.05'],
      { apiUrl: served.url, home },
    );
    await cli.waitFor('› Rendering');
    // Wait for the first poll so the job exists on the server.
    await cli.waitFor('render: 0%');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    const cancel = served.emulator.requests.find(
      (r) => r.method === 'POST' && /^\/api\/render\/proxy\/lambda\/[^/]+\/cancel$/.test(r.path),
    );
    expect(cancel).toBeDefined();
    const renderId = cancel?.path.split('/')[5] ?? '';
    expect(served.emulator.render(renderId)?.status).toBe('cancelled');
    expect(existsSync(join(home, 'v.mp4'))).toBe(false);
  });

  it('without --cancel-on-abort the render keeps running on the server', async () => {
    const { served, home } = await setup({ renderDurationMs: 120_000 });
    const cli = startCli(['download', VIDEO, '-o', 'v.mp4', '--poll-interval', '0.05'], {
      apiUrl: served.url,
      home,
    });
    await cli.waitFor('render: 0%');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(served.emulator.requests.some((r) => r.path.endsWith('/cancel'))).toBe(false);
    expect(lines(run.stderr).at(-1)).toMatch(
      /^error: Aborted\. Job job_[0-9a-f]{16} is saved: run the same command to resume it \("nemovideo download \S+ -o v\.mp4", or "nemovideo jobs resume job_[0-9a-f]{16}"\); what is done is not done again and the instruction is never sent twice\.$/,
    );
  });
});

describe('nemovideo emulator', () => {
  it('serves the API until SIGINT, and other commands can use it', async () => {
    const dir = tempDir();
    defer(dir.cleanup);
    const emulator = startCli(['emulator', '--port', '0'], { home: dir.path });
    await emulator.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(emulator.stdout())?.[1];
    const credits = await runCli(['credits', '-q'], { apiUrl: url, home: dir.path });
    expect(credits.code).toBe(0);
    expect(credits.stdout).toMatch(/^100 credits available/);
    emulator.child.kill('SIGINT');
    const run = await emulator.done;
    expect(run.code).toBe(0);
  });

  it('rejects a bad port as a usage error (2)', async () => {
    const dir = tempDir();
    defer(dir.cleanup);
    const run = await runCli(['emulator', '--port', 'abc'], { home: dir.path });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: .*--port/m);
  });
});
