/**
 * #15.4–5: `nemovideo download` resumes. The built CLI runs as a child process against the
 * emulator over loopback; it is killed with `kill -9` after each step (session, upload,
 * message, mid-render, mid-download) or interrupted with Ctrl-C, and run again with the same
 * arguments: one session, one /run_sse POST and one render start in all, and the exact bytes.
 * Also: `nemovideo jobs` (list, resume, rm), `--fresh`, a corrupt or newer journal entry, two
 * processes on one job, and a lost turn. No sleeps: the tests wait for a line printed, a
 * request in the emulator's log, or a file's size.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, type TestContext, vi } from 'vitest';
import type { Emulator, EmulatorOptions } from '../../src/testing/index.js';
import {
  type CliProcess,
  ensureBuilt,
  runCli,
  type ServedEmulator,
  serveEmulator,
  startCli,
  tempDir,
} from './helpers.js';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
/** What a resume may fetch beyond the missing bytes: the writer's uncertain tail after kill -9. */
const CHUNK = 256 * 1024;
/** The download writer holds up to one piece (128 KiB) in memory until it is full. */
const WRITE_PIECE = 128 * 1024;
/** Generous: the machine running CI is loaded. */
const SLOW = 120_000;

beforeAll(() => {
  ensureBuilt();
}, 180_000);

// The tests run concurrently (each CLI child mostly waits on the network): each has its own
// emulator on port 0 and its own HOME, cleaned up when it finishes.

interface Ctx {
  served: ServedEmulator;
  home: string;
  args: string[];
  start(extra?: string[]): CliProcess;
  run(extra?: string[]): ReturnType<typeof runCli>;
}

async function context(t: TestContext, options: EmulatorOptions = {}): Promise<Ctx> {
  const served = await serveEmulator({ renderDurationMs: 0, heartbeatMs: 0, ...options });
  const dir = tempDir();
  t.onTestFinished(async () => {
    await served.close();
    dir.cleanup();
  });
  const home = dir.path;
  const args = ['download', VIDEO, '-o', 'out/video.mp4', '--poll-interval', '0.05'];
  const opts = { apiUrl: served.url, home };
  return {
    served,
    home,
    args,
    start: (extra = []) => startCli([...args, ...extra], opts),
    run: (extra = []) => runCli([...args, ...extra], opts),
  };
}

/** Requests per route since the start, and render starts the service accepted. */
function counts(emulator: Emulator) {
  const stats = emulator.stats();
  const n = (route: string) => stats[route]?.count ?? 0;
  return {
    sessions: n('POST /api/tasks/me/with-session/nemo_agent'),
    messages: n('POST /run_sse'),
    renders: stats['POST /api/render/proxy/lambda']?.statuses['200'] ?? 0,
  };
}

/** Wait until the emulator received a request matching `route` (its log is the event). */
async function requestArrives(emulator: Emulator, route: string): Promise<void> {
  await vi.waitFor(
    () => {
      if (!emulator.requests.some((r) => r.route === route)) throw new Error(`no ${route} yet`);
    },
    { timeout: SLOW, interval: 10 },
  );
}

/** kill -9, and wait for the process to be gone. */
async function kill9(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGKILL');
  const run = await cli.done;
  expect(run.signal).toBe('SIGKILL');
}

/** The run's one JSON result line. */
function resultOf(stdout: string): {
  path: string;
  bytes: number;
  renderId: string;
  jobId: string;
  resumedSteps: string[];
  transferredBytes: number;
} {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
}

/** The file is exactly what the CDN serves for the render. */
async function expectExact(ctx: Ctx, path: string, renderId: string): Promise<void> {
  const url = ctx.served.emulator.render(renderId)?.url;
  const reference = Buffer.from(await (await fetch(url ?? '')).arrayBuffer());
  const bytes = readFileSync(path);
  expect(bytes.byteLength).toBe(reference.byteLength);
  expect(Buffer.compare(bytes, reference)).toBe(0);
}

/** The anonymous token the CLI cached in its config folder (token.json). */
function cachedToken(ctx: Ctx): string {
  const text = readFileSync(join(ctx.home, '.config', 'nemovideo', 'token.json'), 'utf8');
  const token = /"(?:token|accessToken|value)"\s*:\s*"([^"]{8,})"/.exec(text)?.[1];
  expect(token, text).toBeDefined();
  return token ?? '';
}

function jobsDir(ctx: Ctx): string {
  return join(ctx.home, '.config', 'nemovideo', 'jobs');
}

function journalFile(ctx: Ctx): string {
  const files = readdirSync(jobsDir(ctx)).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return join(jobsDir(ctx), files[0] ?? '');
}

describe.concurrent('kill -9 after each step, then the same command again', () => {
  const steps: {
    step: string;
    /** Hold the next request (or stall), and resolve once the CLI is at that point. */
    stop(ctx: Ctx, cli: CliProcess): Promise<void>;
    resumed: string[];
  }[] = [
    {
      step: 'the session was created',
      async stop({ served }) {
        served.emulator.fail('POST /api/upload-video/*', { delayMs: 600_000 });
        await requestArrives(served.emulator, 'POST /api/upload-video/nemo_agent/me/:sid');
      },
      resumed: ['session'],
    },
    {
      step: 'the upload was done',
      async stop({ served }, cli) {
        // The state read just before the message: the instruction is not recorded yet.
        served.emulator.fail('GET /api/state/*', { delayMs: 600_000 });
        await cli.waitFor('✓ Uploaded ');
        await requestArrives(served.emulator, 'GET /api/state/nemo_agent/me/:sid/latest');
      },
      resumed: ['session', 'upload'],
    },
    {
      step: 'the message was sent',
      async stop({ served }, cli) {
        const { emulator } = served;
        // While the turn runs (its state reads are done), hold the next state read: the
        // render's, after the turn ended and was recorded.
        emulator.agent((_message, turn) => {
          emulator.fail('GET /api/state/*', { delayMs: 600_000 });
          return turn.defaultAgent();
        });
        await cli.waitFor('✓ Agent: ');
        await vi.waitFor(
          () => {
            if (emulator.faults().length > 0) throw new Error('the state read is not held yet');
          },
          { timeout: SLOW, interval: 10 },
        );
        emulator.agent(undefined);
      },
      resumed: ['session', 'upload', 'message'],
    },
    {
      step: 'the render start was sent (its answer lost)',
      async stop({ served }, cli) {
        // The service starts the render, the process dies before it reads the answer: the id
        // was recorded before the request, so the next run finds that render.
        served.emulator.fail('POST /api/render/proxy/lambda', { delayMs: 600_000 });
        await cli.waitFor('✓ Agent: ');
        await requestArrives(served.emulator, 'POST /api/render/proxy/lambda');
      },
      resumed: ['session', 'upload', 'message', 'render'],
    },
    {
      step: 'mid-render',
      async stop({ served }, cli) {
        served.emulator.stallRenders({ atProgress: 50 });
        await cli.waitFor('render: 50%');
      },
      resumed: ['session', 'upload', 'message', 'render'],
    },
  ];
  for (const { step, stop, resumed } of steps) {
    it(
      `${step}: one session, message and render start in all, and the exact bytes`,
      async (t) => {
        const ctx = await context(t);
        const cli = ctx.start();
        await stop(ctx, cli);
        await kill9(cli);
        const { emulator } = ctx.served;
        for (const fault of emulator.faults()) emulator.removeFault(fault.id);
        emulator.releaseRenders();

        const again = await ctx.run(['--json']);
        expect(again.code, again.stderr).toBe(0);
        const result = resultOf(again.stdout);
        expect(result.resumedSteps).toEqual(resumed);
        expect(counts(emulator)).toEqual({ sessions: 1, messages: 1, renders: 1 });
        // No upload landed twice in the session.
        const record = JSON.parse(readFileSync(journalFile(ctx), 'utf8'));
        expect(emulator.session(record.steps.session.sessionId)?.videoInfos).toHaveLength(1);
        await expectExact(ctx, result.path, result.renderId);
        const journal = readFileSync(journalFile(ctx), 'utf8');
        expect(JSON.parse(journal)).toMatchObject({ status: 'done' });
        // The token the CLI cached sits next to the journal, never in it.
        expect(journal).not.toContain(cachedToken(ctx));
      },
      SLOW,
    );
  }

  it(
    'mid-download, cut at 90 % of a large file: the second run transfers at most the missing bytes plus one chunk',
    async (t) => {
      const size = 16 * 1024 * 1024 + 777;
      const ctx = await context(t, { resultSizeBytes: size });
      const { emulator } = ctx.served;
      emulator.fail('GET /renders/*', { stallAfterBytes: Math.floor(size * 0.9) });
      const cli = ctx.start();
      await cli.waitFor('› Downloading', SLOW);
      const part = join(ctx.home, 'out', 'video.mp4.part');
      // The CLI has written what it received up to the stall (but the piece it was filling).
      await vi.waitFor(
        () => {
          if (statSync(part).size < Math.floor(size * 0.9) - WRITE_PIECE)
            throw new Error('not yet');
        },
        { timeout: SLOW, interval: 20 },
      );
      await kill9(cli);
      const missing = size - statSync(part).size;
      const mark = emulator.requests.length;

      const again = await ctx.run(['--json']);
      expect(again.code, again.stderr).toBe(0);
      const result = resultOf(again.stdout);
      const sent = emulator.requests.slice(mark).reduce((n, r) => n + (r.bytesSent ?? 0), 0);
      expect(sent).toBeLessThanOrEqual(missing + CHUNK);
      expect(result.transferredBytes).toBeLessThanOrEqual(missing + CHUNK);
      expect(result.resumedSteps).toEqual(['session', 'upload', 'message', 'render', 'download']);
      expect(counts(emulator)).toEqual({ sessions: 1, messages: 1, renders: 1 });
      await expectExact(ctx, result.path, result.renderId);
      expect(readdirSync(join(ctx.home, 'out'))).toEqual(['video.mp4']);
    },
    SLOW,
  );
});

describe.concurrent('Ctrl-C', () => {
  it(
    'mid-download: exit 130, the exact command to resume, and that command finishes the file',
    async (t) => {
      const size = 4 * 1024 * 1024;
      const ctx = await context(t, { resultSizeBytes: size });
      ctx.served.emulator.fail('GET /renders/*', { stallAfterBytes: size / 2 });
      const cli = ctx.start();
      await cli.waitFor(/download: [1-9]\d%/, SLOW);
      cli.child.kill('SIGINT');
      const run = await cli.done;
      expect(run.code).toBe(130);
      const last = run.stderr.trim().split('\n').at(-1) ?? '';
      const said =
        /^error: Aborted\. Job (job_[0-9a-f]{16}) is saved: run the same command to resume it \("(nemovideo download .+)", or "nemovideo jobs resume \1"\); what is done is not done again and the instruction is never sent twice\.$/.exec(
          last,
        );
      expect(said, last).not.toBeNull();
      expect(said?.[2]).toBe(`nemovideo download '${VIDEO}' -o out/video.mp4`);
      expect(readdirSync(join(ctx.home, 'out')).sort()).toEqual([
        'video.mp4.part',
        'video.mp4.part.json',
      ]);

      // The command as printed (its words, unquoted as a shell would).
      const words = ['download', VIDEO, '-o', 'out/video.mp4', '--json'];
      const again = await runCli(words, { apiUrl: ctx.served.url, home: ctx.home });
      expect(again.code, again.stderr).toBe(0);
      const result = resultOf(again.stdout);
      expect(result.jobId).toBe(said?.[1]);
      expect(result.transferredBytes).toBeLessThan(size);
      expect(counts(ctx.served.emulator)).toEqual({ sessions: 1, messages: 1, renders: 1 });
      await expectExact(ctx, result.path, result.renderId);
    },
    SLOW,
  );
});

describe.concurrent('the journal guards the job', () => {
  it(
    'a second process on the same job is refused, naming the first one’s pid; after kill -9 the next run takes over',
    async (t) => {
      const ctx = await context(t);
      ctx.served.emulator.stallRenders();
      const first = ctx.start();
      await first.waitFor('render: ', SLOW);
      const second = await ctx.run();
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(
          `error: Job job_[0-9a-f]{16} is already running in process ${first.child.pid}\\. Wait for it to finish, or stop it \\("kill ${first.child.pid}"\\)`,
        ),
      );
      await kill9(first);
      ctx.served.emulator.releaseRenders();
      const third = await ctx.run(['--json']);
      expect(third.code, third.stderr).toBe(0);
      expect(counts(ctx.served.emulator)).toEqual({ sessions: 1, messages: 1, renders: 1 });
    },
    SLOW,
  );

  it(
    'a corrupt or newer-version entry is reported (exit 2) and left untouched; --fresh replaces it',
    async (t) => {
      const ctx = await context(t);
      expect((await ctx.run()).code).toBe(0);
      const file = journalFile(ctx);
      const jobId = JSON.parse(readFileSync(file, 'utf8')).jobId as string;

      writeFileSync(file, '{"version":1,"jobId":');
      const corrupt = await ctx.run();
      expect(corrupt.code).toBe(2);
      expect(corrupt.stderr).toContain(
        `error: The saved job ${jobId} (${file}) is damaged; it was left untouched. Remove it with "nemovideo jobs rm ${jobId}", or start over with "nemovideo download '${VIDEO}' -o out/video.mp4 --fresh".`,
      );
      expect(readFileSync(file, 'utf8')).toBe('{"version":1,"jobId":');

      const newer = JSON.stringify({ version: 2, jobId, from: 'the future' });
      writeFileSync(file, newer);
      const refused = await ctx.run();
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        `error: The saved job ${jobId} was written by a newer version of nemovideo; it was left untouched.`,
      );
      expect(readFileSync(file, 'utf8')).toBe(newer);
      expect(counts(ctx.served.emulator).sessions).toBe(1);

      const fresh = await ctx.run(['--fresh', '--json']);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, status: 'done' });
      expect(counts(ctx.served.emulator)).toEqual({ sessions: 2, messages: 2, renders: 2 });
    },
    SLOW,
  );

  it(
    'a lost turn (sent, then nothing changed) is reported, not re-sent; --fresh starts over',
    async (t) => {
      const ctx = await context(t);
      const { emulator } = ctx.served;
      // The message leaves, the process dies, and the service never runs the turn.
      emulator.fail('POST /run_sse', { delayMs: 600_000, status: 503 });
      const cli = ctx.start();
      await requestArrives(emulator, 'POST /run_sse');
      await kill9(cli);
      for (const fault of emulator.faults()) emulator.removeFault(fault.id);
      const file = journalFile(ctx);
      const record = JSON.parse(readFileSync(file, 'utf8'));
      expect(record.steps.message.state).toBe('sending');
      // Resumed an hour later: the documented recovery window is long over.
      record.steps.message.at = new Date(Date.now() - 3_600_000).toISOString();
      writeFileSync(file, JSON.stringify(record));

      const lost = await ctx.run();
      expect(lost.code).toBe(3);
      expect(lost.stderr).toMatch(
        /error: The instruction of job job_[0-9a-f]{16} was sent by an earlier run, but session \d+ has not changed since: the turn was lost\. It is not sent again automatically .*--fresh/,
      );
      expect(counts(emulator).messages).toBe(1);

      const fresh = await ctx.run(['--fresh']);
      expect(fresh.code, fresh.stderr).toBe(0);
      expect(counts(emulator)).toEqual({ sessions: 2, messages: 2, renders: 1 });
    },
    SLOW,
  );
});

describe.concurrent('nemovideo jobs', () => {
  it(
    'lists the jobs (--json too), resumes one by id, and removes them',
    async (t) => {
      const size = 2 * 1024 * 1024;
      const ctx = await context(t, { resultSizeBytes: size });
      const opts = { apiUrl: ctx.served.url, home: ctx.home };
      ctx.served.emulator.fail('GET /renders/*', { stallAfterBytes: size / 2 });
      const cli = ctx.start();
      const part = join(ctx.home, 'out', 'video.mp4.part');
      await vi.waitFor(
        () => {
          if (statSync(part).size < size / 2 - WRITE_PIECE) throw new Error('not yet');
        },
        { timeout: SLOW, interval: 20 },
      );
      await kill9(cli);
      for (const fault of ctx.served.emulator.faults()) ctx.served.emulator.removeFault(fault.id);

      const listed = await runCli(['jobs'], { home: ctx.home });
      expect(listed.code, listed.stderr).toBe(0);
      const [header, row] = listed.stdout.trim().split('\n');
      expect(header).toMatch(/^JOB\s+STATUS\s+STEP\s+AGE\s+OUTPUT$/);
      expect(row).toMatch(
        /^(job_[0-9a-f]{16})\s+interrupted\s+download( \d+%| 0 B)?\s+\d+ s\s+out\/video\.mp4$/,
      );
      const jobId = /^(job_[0-9a-f]{16})/.exec(row ?? '')?.[1] ?? '';
      expect(listed.stderr).toContain(`Resume one with "nemovideo jobs resume ${jobId}".`);

      const json = await runCli(['jobs', '--json'], { home: ctx.home });
      expect(JSON.parse(json.stdout)).toMatchObject({
        jobId,
        status: 'interrupted',
        output: join(ctx.home, 'out', 'video.mp4'),
        inputs: [VIDEO],
        apiUrl: ctx.served.url,
        runningPid: null,
      });

      // No --api-url: the job runs against the API it started on.
      const resumed = await runCli(['jobs', 'resume', jobId, '--json', '--poll-interval', '0.05'], {
        home: ctx.home,
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      const result = resultOf(resumed.stdout);
      expect(result.jobId).toBe(jobId);
      expect(result.transferredBytes).toBeLessThan(size);
      await expectExact(ctx, result.path, result.renderId);
      expect(counts(ctx.served.emulator)).toEqual({ sessions: 1, messages: 1, renders: 1 });

      const done = await runCli(['jobs', '--json'], { home: ctx.home });
      expect(JSON.parse(done.stdout)).toMatchObject({ jobId, status: 'done', step: 'done' });

      // A second job, interrupted, then everything removed; the finished file stays.
      const other = startCli(['download', VIDEO, '-o', 'b.mp4', '--poll-interval', '0.05'], opts);
      ctx.served.emulator.stallRenders();
      await other.waitFor('render: ', SLOW);
      await kill9(other);
      expect((await runCli(['jobs', 'rm', 'job_0000000000000000'], opts)).code).toBe(2);
      const removed = await runCli(['jobs', 'rm', '--all', '--json'], opts);
      expect(removed.code, removed.stderr).toBe(0);
      expect(JSON.parse(removed.stdout).removed).toHaveLength(2);
      expect((await runCli(['jobs'], { home: ctx.home })).stdout.trim()).toBe('No saved jobs.');
      expect(readdirSync(jobsDir(ctx))).toEqual([]);
      expect(statSync(join(ctx.home, 'out', 'video.mp4')).size).toBe(size);
    },
    SLOW,
  );

  it('usage errors: an unknown job to resume, rm without ids', async (t) => {
    const ctx = await context(t);
    const resume = await runCli(['jobs', 'resume', 'job_1234'], { home: ctx.home });
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(
      'No saved job job_1234. List the saved jobs with "nemovideo jobs".',
    );
    const rm = await runCli(['jobs', 'rm'], { home: ctx.home });
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('Name the jobs to remove');
    const bad = await runCli(['jobs', 'resume', '../x'], { home: ctx.home });
    expect(bad.code).toBe(2);
  });
});
