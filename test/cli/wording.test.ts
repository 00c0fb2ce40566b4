/**
 * What the built `nemovideo` says when something is wrong (#12 item 7): flag and variable
 * names rather than SDK option names, "not found" before "wrong extension", a pointer to the
 * right `--help` on usage errors, and after "Aborted." the next step. Real child processes
 * against the emulator over loopback.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, perTest, runCli, SDK_WORDS, startCli } from './helpers.js';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';

beforeAll(() => {
  ensureBuilt();
}, 180_000);

const { setup, home } = perTest();

/** The single `error:` line of a run (and no stack trace). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('error:'));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0] ?? '';
}

describe('errors name the flag or variable the user set', () => {
  it.each([
    [
      ['credits', '--api-url', 'ftp://x'],
      {},
      /^error: --api-url "ftp:\/\/x" is not an http\(s\) URL \(it is ftp:\)\. Give the API origin, e\.g\. https:\/\/mega-api-prod\.nemovideo\.ai/,
    ],
    [
      ['credits', '--api-url', 'not a url'],
      {},
      /^error: --api-url "not a url" is not a URL\. Give the API origin/,
    ],
    [
      ['credits'],
      { NEMO_API_URL: 'ftp://x' },
      /^error: NEMO_API_URL "ftp:\/\/x" is not an http\(s\) URL/,
    ],
    [
      ['state', '1', '--api-url', 'http://10.0.0.1:8080'],
      {},
      /^error: --api-url "http:\/\/10\.0\.0\.1:8080": refusing to send the token over plain http to 10\.0\.0\.1:8080/,
    ],
    [
      ['credits', '--token', ''],
      {},
      /^error: --token is empty\. Pass a token, or leave the flag out/,
    ],
  ])('nemovideo %j %j', async (args, env, message) => {
    const run = await runCli(args, { home: home(), env });
    expect(run.code).toBe(2);
    const line = errorLine(run.stderr);
    expect(line).toMatch(message);
    expect(line).not.toMatch(SDK_WORDS);
  });

  it('a file over the upload limit: the limit in bytes, no SDK option, nothing sent', async () => {
    const { served, home } = await setup();
    // A sparse file: 600 MiB on paper, no disk space used.
    const fd = openSync(join(home, 'big.mp4'), 'w');
    ftruncateSync(fd, 600 * 1024 * 1024);
    closeSync(fd);
    const run = await runCli(['upload', '123', 'big.mp4'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    const line = errorLine(run.stderr);
    expect(line).toBe(
      "error: Cannot upload big.mp4: it is 600 MB, over the service's upload limit of 500 MB. Compress or trim it first.",
    );
    expect(served.emulator.requests).toHaveLength(0);
  });
});

describe('a path is checked in the order a person fixes it', () => {
  it('a missing path without an extension is reported missing, not as a bad extension', async () => {
    const { served, home } = await setup();
    const run = await runCli(['upload', '123', 'holiday'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expect(errorLine(run.stderr)).toBe(
      'error: File not found: holiday. Check the path, or pass an http(s) link.',
    );
  });

  it('a folder is a folder, whatever its name', async () => {
    const { served, home } = await setup();
    mkdirSync(join(home, 'clips.mp4'));
    const run = await runCli(['upload', '123', 'clips.mp4'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expect(errorLine(run.stderr)).toBe(
      'error: clips.mp4 is a folder. Give a video, image or audio file.',
    );
  });

  it('an existing file with a wrong extension is reported as such', async () => {
    const { served, home } = await setup();
    writeFileSync(join(home, 'holiday'), 'not a video');
    const run = await runCli(['upload', '123', 'holiday'], { apiUrl: served.url, home });
    expect(run.code).toBe(2);
    expect(errorLine(run.stderr)).toMatch(
      /^error: Cannot upload holiday: a file without an extension is not accepted\. Accepted formats: mp4, /,
    );
    expect(served.emulator.requests).toHaveLength(0);
  });
});

describe('usage errors point at the help of the command at fault', () => {
  it.each([
    [['download'], "missing required argument 'video-url'", 'nemovideo download'],
    [['download', VIDEO, '--frob'], "unknown option '--frob'", 'nemovideo download'],
    [
      ['download', VIDEO, '--quality', '4k'],
      "argument '4k' is invalid. Use one of 1080p, 720p, 480p",
      'nemovideo download',
    ],
    [['chat', '123'], "missing required argument 'message'", 'nemovideo chat'],
    [['session', 'new', '--x'], "unknown option '--x'", 'nemovideo session new'],
    [['--frob'], "unknown option '--frob'", 'nemovideo'],
    [['downlod'], "unknown command 'downlod'", 'nemovideo'],
    [['emulator', '--port', 'abc'], '--port must be an integer', 'nemovideo emulator'],
  ])('nemovideo %j', async (args, problem, command) => {
    const dir = home();
    const run = await runCli(args, { home: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(problem);
    expect(run.stderr).toContain(`Run "${command} --help" for usage.`);
    // The pointer works as written.
    const help = await runCli([...command.split(' ').slice(1), '--help'], { home: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: nemovideo/);
  });

  it('names the command the user meant', async () => {
    const run = await runCli(['downlod', VIDEO], { home: home() });
    expect(run.stderr).toContain('(Did you mean download?)');
  });

  it('with --json, a usage error is one JSON line on stderr, pointer included', async () => {
    const run = await runCli(['download', '--json'], { home: home() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stderr)).toEqual({
      error: {
        kind: 'UsageError',
        message: `missing required argument 'video-url'. Run "nemovideo download --help" for usage.`,
        exitCode: 2,
      },
    });
  });
});

describe('"Aborted." says what to do next', () => {
  it('chat: the message is never re-sent; check the state before sending it again', async () => {
    const { served, home } = await setup();
    const opts = { apiUrl: served.url, home };
    const sid = (await runCli(['session', 'new', '-q'], opts)).stdout.trim();
    served.emulator.agent(() => [
      { text: 'Working on it.' },
      { delayMs: 60_000 },
      { text: 'Done.' },
    ]);
    const cli = startCli(['chat', sid, 'add a title'], opts);
    await cli.waitFor('Working on it.');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    expect(errorLine(run.stderr)).toBe(
      `error: Aborted. The message was sent once and is never re-sent; the agent may still act on it. Check with "nemovideo state ${sid}" before sending it again.`,
    );
    const posts = served.emulator.requests.filter((r) => r.path === '/run_sse');
    expect(posts).toHaveLength(1);
  });

  it('download, during the instruction: the job is saved, with the command that resumes it', async () => {
    const { served, home } = await setup();
    served.emulator.agent(() => [
      { toolCall: { name: 'prepare_export', args: {} } },
      { delayMs: 60_000 },
    ]);
    const cli = startCli(['download', VIDEO, '-o', 'clip.mp4'], { apiUrl: served.url, home });
    await cli.waitFor('› Asking the agent');
    await cli.waitFor('[prepare_export]');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code).toBe(130);
    const sid = /✓ Session (\d+)/.exec(run.stderr)?.[1];
    expect(sid).toBeDefined();
    const jobId = /"nemovideo jobs resume (job_[0-9a-f]{16})"/.exec(run.stderr)?.[1];
    expect(jobId).toBeDefined();
    expect(errorLine(run.stderr)).toBe(
      `error: Aborted. Job ${jobId} is saved: run the same command to resume it ("nemovideo download '${VIDEO}' -o clip.mp4", or "nemovideo jobs resume ${jobId}"); what is done is not done again and the instruction is never sent twice.`,
    );
  });
});

describe('the root help', () => {
  it('is the same text with or without commander, on stdout, exit 0', async () => {
    const dir = home();
    const fast = await runCli(['--help'], { home: dir });
    expect(fast.code).toBe(0);
    expect(fast.stdout).toMatch(/^Usage: nemovideo \[options\] <command>\n/);
    expect(fast.stdout).toContain('Run "nemovideo <command> --help"');
    expect(fast.stdout).toContain(
      'Documentation: https://github.com/nemovideo/nemovideo/blob/main/docs/cli.md',
    );
    for (const args of [['help'], ['-h'], ['--quiet', '--help'], ['help', '--no-color']]) {
      const run = await runCli(args, { home: dir });
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout, args.join(' ')).toBe(fast.stdout);
    }
  });

  it('without a command it goes to stderr as a usage error (2)', async () => {
    const run = await runCli([], { home: home() });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Usage: nemovideo/);
  });

  it('--version prints the package version, with or without commander', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const dir = home();
    for (const args of [['--version'], ['-V'], ['--json', '--version']]) {
      const run = await runCli(args, { home: dir });
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
    }
  });
});
