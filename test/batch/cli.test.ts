/**
 * #16.1: `nemovideo batch <file>` (the built binary) against the emulator over
 * loopback: TSV and JSON lines, every bad line reported before anything runs,
 * progress lines and the summary table, NDJSON with --json, the exit code, a
 * rerun that skips finished jobs, and the credit check with --yes.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeMp4 } from '../../src/cli/mp4.js';
import { runCli as runInProcess } from '../../src/cli/program.js';
import {
  ensureBuilt,
  runCli,
  type ServedEmulator,
  serveEmulator,
  tempDir,
} from '../cli/helpers.js';

beforeAll(() => {
  ensureBuilt();
}, 180_000);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(options: Parameters<typeof serveEmulator>[0] = {}) {
  const served: ServedEmulator = await serveEmulator({
    renderDurationMs: 0,
    heartbeatMs: 0,
    initialCredits: 10_000,
    ...options,
  });
  const dir = tempDir('nemovideo-batch-');
  cleanups.push(dir.cleanup, served.close);
  const home = dir.path;
  const write = (name: string, text: string) => {
    writeFileSync(join(home, name), text);
    return name;
  };
  const batch = (args: string[]) =>
    runCli(['batch', ...args, '--poll-interval', '0.05'], { apiUrl: served.url, home });
  return { served, home, write, batch };
}

const count = (served: ServedEmulator, route: string) => served.emulator.stats()[route]?.count ?? 0;
const SESSIONS = 'POST /api/tasks/me/with-session/nemo_agent';
const MESSAGES = 'POST /run_sse';

describe('nemovideo batch', () => {
  it('runs TSV and JSON lines, prints a line per step change and a summary table, exits 0', async () => {
    const { served, home, write, batch } = await setup();
    writeFileSync(join(home, 'local.mp4'), Buffer.alloc(2048, 1));
    const list = write(
      'videos.txt',
      [
        '# my videos',
        'https://example.com/a.mp4',
        '',
        'https://example.com/b.mp4\texport it vertical for reels\tb-vertical',
        '{"input": "https://example.com/c.mp4", "output": "c.mp4"}',
        'local.mp4\t\tfrom-disk.mp4',
      ].join('\n'),
    );
    const run = await batch([list, '-o', 'out', '--concurrency', '2']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code, run.stderr).toBe(0);

    for (const name of ['b-vertical.mp4', 'c.mp4', 'from-disk.mp4']) {
      const path = join(home, 'out', name);
      expect((await probeMp4(path)).valid, name).toBe(true);
    }
    // A line without an output name gets a stable one from its link.
    expect(run.stderr).toMatch(/\[line 2\] out\/a-[0-9a-f]{6}\.mp4: session \d+/);
    expect(run.stderr).toMatch(/\[line 4\] out\/b-vertical\.mp4: rendering \(render \S+\)/);
    expect(run.stderr).toMatch(/✓ \[line 5\] out\/c\.mp4/);
    // Pipes get no bars, no escape codes.
    expect(run.stderr).not.toContain('\u001b[');
    // The summary: one row per job, on stdout.
    expect(run.stdout).toMatch(/^Batch: 4 done, 0 skipped, 0 failed \(4 jobs\)$/m);
    expect(run.stdout).toMatch(/^LINE\s+STATUS\s+OUTPUT\s+DETAIL$/m);
    expect(run.stdout).toMatch(/^6\s+done\s+out\/from-disk\.mp4/m);
    expect(count(served, MESSAGES)).toBe(4);
    // The prompt of line 4 reached the agent.
    const prompts = served.emulator.requests.map((r) =>
      r.path === '/run_sse' && r.body.type === 'json' ? JSON.stringify(r.body.value) : '',
    );
    expect(prompts.some((p) => p.includes('export it vertical for reels'))).toBe(true);
  });

  it('reports every bad line with its number before anything runs (exit 2)', async () => {
    const { served, write, batch } = await setup();
    const list = write(
      'bad.txt',
      [
        'https://example.com/ok.mp4',
        'ftp://example.com/a.mp4',
        'missing.mov',
        '{"input": 3}',
        '{"input": "https://example.com/x.mp4", "outptu": "x.mp4"}',
        'https://example.com/y.mp4\tprompt\ty.mov',
        'https://example.com/z.mp4\tp\tsame.mp4',
        'https://example.com/w.mp4\tq\tsame.mp4',
      ].join('\n'),
    );
    const run = await batch([list]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.txt has 6 line\(s\) that cannot run; nothing was started/);
    expect(run.stderr).toMatch(
      /bad\.txt:2: .*ftp:\/\/example\.com\/a\.mp4.* not an http\(s\) link/,
    );
    expect(run.stderr).toMatch(/bad\.txt:3: file not found: missing\.mov/);
    expect(run.stderr).toMatch(/bad\.txt:4: "input" must be a link or a path/);
    expect(run.stderr).toMatch(/bad\.txt:5: unknown key "outptu"/);
    expect(run.stderr).toMatch(/bad\.txt:6: output "y\.mov" must be an \.mp4 file/);
    expect(run.stderr).toMatch(/bad\.txt:8: writes the same file as line 7/);
    expect(run.stderr).not.toMatch(/bad\.txt:1:/);
    // Nothing was sent: no token, no session.
    expect(served.emulator.requests.filter((r) => r.path !== '/api/auth/anonymous-token')).toEqual(
      [],
    );
  });

  it('--json prints one JSON line per job; a failed job sets the exit code; a rerun skips the done ones', async () => {
    const { served, write, batch } = await setup();
    const list = write(
      'list.txt',
      ['https://example.com/1.mp4\t\tone', 'https://example.com/2.mp4\t\ttwo'].join('\n'),
    );
    served.emulator.failRenders('Lambda timeout', { times: 1 });
    const first = await batch([list, '--json', '--concurrency', '1']);
    expect(first.code, first.stderr).toBe(3);
    const items = first.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(items).toHaveLength(2);
    const byLine = new Map(items.map((item) => [item.line, item]));
    expect(byLine.get(1)).toMatchObject({
      status: 'failed',
      error: { kind: expect.any(String), message: expect.stringMatching(/Lambda timeout/) },
    });
    expect(byLine.get(2)).toMatchObject({
      status: 'done',
      bytes: expect.any(Number),
      sessionId: expect.any(String),
      renderId: expect.any(String),
    });
    expect(String(byLine.get(2)?.path)).toMatch(/two\.mp4$/);

    // The same command again: the done job is skipped, the failed one resumes in its session.
    const second = await batch([list]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^Batch: 1 done, 1 skipped, 0 failed \(2 jobs\)$/m);
    expect(second.stdout).toMatch(/^2\s+skipped\s+two\.mp4\s+already exported/m);
    expect(count(served, SESSIONS)).toBe(2);
    expect(count(served, MESSAGES)).toBe(2);
  });

  it('stops before anything runs when the credits cannot pay for every job, unless --yes', async () => {
    // 100 credits at about 50 a job: two of three.
    const { served, home, write, batch } = await setup({ initialCredits: 100 });
    const list = write(
      'three.txt',
      ['https://example.com/1.mp4', 'https://example.com/2.mp4', 'https://example.com/3.mp4'].join(
        '\n',
      ),
    );
    const refused = await batch([list, '-o', 'out']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /edits 3 video\(s\) at about 50 credits each \(150 credits\); 100 credits are available, enough for 2\. To get more, register at \S+/,
    );
    expect(refused.stderr).toMatch(/--yes/);
    expect(count(served, SESSIONS)).toBe(0);
    expect(existsSync(join(home, 'out'))).toBe(true);

    const forced = await batch([list, '-o', 'out', '--yes', '--concurrency', '1']);
    expect(forced.stderr).toMatch(/Starting anyway \(--yes\)/);
    expect(forced.stdout).toMatch(/^Batch: 2 done, 0 skipped, 1 failed \(3 jobs\)$/m);
    expect(forced.stdout).toMatch(/failed\s+\S+\s+InsufficientCreditsError/);
    expect(forced.code).toBe(3);
  });

  it('a list with no video is a usage error, as is a missing file', async () => {
    const { write, batch, home } = await setup();
    const empty = await batch([write('empty.txt', '# nothing yet\n\n')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/lists no video/);
    const missing = await batch(['nope.txt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/File not found: nope\.txt/);
    mkdirSync(join(home, 'dir'));
    const badConcurrency = await batch([
      write('one.txt', 'https://example.com/1.mp4'),
      '--concurrency',
      '0',
    ]);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toMatch(/--concurrency takes a whole number from 1 to 64/);
    expect(statSync(join(home, 'dir')).isDirectory()).toBe(true);
  });

  it('on a terminal: one bar per job in flight, redrawn in place, finished jobs printed above', async () => {
    const { served, home, write } = await setup();
    const list = write(
      'tty.txt',
      ['https://example.com/1.mp4\t\tone', 'https://example.com/2.mp4\t\ttwo'].join('\n'),
    );
    const sink = (isTTY: boolean) => ({
      isTTY,
      columns: 100,
      text: '',
      write(chunk: string) {
        this.text += chunk;
        return true;
      },
    });
    const stdout = sink(false);
    const stderr = sink(true);
    const code = await runInProcess(
      ['batch', join(home, list), '-o', join(home, 'out'), '--poll-interval', '0.05', '--no-color'],
      {
        stdout,
        stderr,
        env: { NEMO_API_URL: served.url, NEMO_CONFIG_DIR: join(home, 'config') },
        signal: new AbortController().signal,
      },
    );
    expect(code, stderr.text).toBe(0);
    // Bars: a 20-cell bar with the job's name and step, erased and redrawn with cursor moves.
    // Long paths keep their end, the file name: what tells the jobs apart.
    expect(stderr.text).toMatch(/ {2}…\S*\/out\/one\.mp4 [█░]{20} +\d+% /);
    expect(stderr.text).toMatch(/ {2}…\S*\/out\/two\.mp4 [█░]{20} +\d+% /);
    expect(stderr.text).toContain('\u001b[J');
    expect(stderr.text).toMatch(/✓ \[line 1\] .*one\.mp4/);
    // No per-step lines on a terminal: the bars say it.
    expect(stderr.text).not.toMatch(/\[line 1\] [^\n]*: session \d+/);
    expect(stdout.text).toMatch(/^Batch: 2 done, 0 skipped, 0 failed \(2 jobs\)$/m);
  });
});
