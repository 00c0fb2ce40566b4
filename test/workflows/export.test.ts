/**
 * #15.2: `client.workflows.export()` against the emulator over loopback: the
 * whole workflow recorded in a journal, and a rerun after an interruption at
 * each step resumes without a second session, upload, message or render.
 */
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ExportJob,
  type ExportJobOptions,
  type ExportJobProgress,
  FileJournal,
  MemoryJournal,
} from '../../src/helpers.js';
import {
  AbortError,
  type ChatEvent,
  JobLockedError,
  JournalError,
  NemoClient,
  type NemoClientOptions,
  TurnLostError,
} from '../../src/index.js';
import { createEmulator, type EmulatorServer } from '../../src/testing/index.js';
import { ManualClock } from '../helpers/manual-clock.js';

const SIZE = 2 * 1024 * 1024 + 4321;
const LINK = 'https://example.com/city.mp4';

const emulator = createEmulator({ renderDurationMs: 0, resultSizeBytes: SIZE, heartbeatMs: 0 });
let server: EmulatorServer;
let dir: string;

beforeAll(async () => {
  server = await emulator.listen({ port: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-workflow-'));
});
afterEach(async () => {
  emulator.reset();
  await rm(dir, { recursive: true, force: true });
});

function newClient(options: NemoClientOptions = {}): NemoClient {
  return new NemoClient({
    baseUrl: server.url,
    clientId: 'workflow-tests',
    configDir: join(dir, 'config'),
    logLevel: 'off',
    backend: { render: { pollIntervalMs: 0 } },
    ...options,
  });
}

function job(changes: Partial<ExportJob> = {}): ExportJob {
  return { inputs: [LINK], to: join(dir, 'out.mp4'), ...changes };
}

/** Requests per route since the emulator's last reset. */
function counts() {
  const stats = emulator.stats();
  const n = (route: string) => stats[route]?.count ?? 0;
  return {
    sessions: n('POST /api/tasks/me/with-session/nemo_agent'),
    uploads: n('POST /api/upload-video/nemo_agent/me/:sid'),
    messages: n('POST /run_sse'),
    renders: n('POST /api/render/proxy/lambda'),
  };
}

/** The file is exactly what the CDN serves for the render. */
async function expectTheResult(path: string, renderId: string) {
  const url = emulator.render(renderId)?.url;
  expect(url).toBeDefined();
  const reference = Buffer.from(await (await fetch(url ?? '')).arrayBuffer());
  expect(reference.byteLength).toBe(SIZE);
  const bytes = await readFile(path);
  expect(bytes.byteLength).toBe(SIZE);
  expect(Buffer.compare(bytes, reference)).toBe(0);
}

/**
 * Run `theJob`, aborting it (as Ctrl-C does) the first time `when` returns
 * true for a progress event or a chat event. Resolves to the error it ended with.
 */
async function interrupted(
  client: NemoClient,
  theJob: ExportJob,
  when: (p: ExportJobProgress | ChatEvent) => boolean,
  options: ExportJobOptions = {},
): Promise<unknown> {
  const controller = new AbortController();
  const check = (p: ExportJobProgress | ChatEvent) => {
    if (!controller.signal.aborted && when(p)) controller.abort();
  };
  return client.workflows
    .export(theJob, { ...options, signal: controller.signal, onProgress: check, onEvent: check })
    .then(
      () => new Error('the job was not interrupted'),
      (error: unknown) => error,
    );
}

const isStep = (p: ExportJobProgress | ChatEvent): p is ExportJobProgress => 'step' in p;

describe('one run', () => {
  it('runs link → message → render → download, records every step, and no token', async () => {
    const client = newClient();
    const steps: string[] = [];
    const result = await client.workflows.export(job({ prompt: 'download this video at 1080p' }), {
      onProgress: (p) => {
        const label = p.step === 'upload' || p.step === 'message' ? `${p.step}:${p.done}` : p.step;
        if (steps.at(-1) !== label) steps.push(label);
      },
    });
    expect(steps).toEqual([
      'session',
      'upload:false',
      'upload:true',
      'message:false',
      'message:true',
      'render',
      'download',
    ]);
    expect(result).toMatchObject({
      path: join(dir, 'out.mp4'),
      bytes: SIZE,
      transferredBytes: SIZE,
      resumedSteps: [],
    });
    expect(result.jobId).toMatch(/^job_[0-9a-f]{16}$/);
    expect(result.jobId).toBe(
      await client.workflows.jobId(job({ prompt: 'download this video at 1080p' })),
    );
    expect(result.turn?.toolCalls.length).toBeGreaterThan(0);
    await expectTheResult(result.path, result.renderId);
    expect(counts()).toEqual({ sessions: 1, uploads: 1, messages: 1, renders: 1 });

    // The journal: one 0600 file under <configDir>/jobs, every step, never a token.
    const jobs = join(dir, 'config', 'jobs');
    expect(await readdir(jobs)).toEqual([`${result.jobId}.json`]);
    const file = join(jobs, `${result.jobId}.json`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    const token = await client.getToken();
    expect(token.length).toBeGreaterThan(8);
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/nmv_|authorization|bearer/i);
    expect(text).not.toContain(server.cdnUrl); // result and upload URLs may be signed
    expect(JSON.parse(text)).toMatchObject({
      version: 1,
      jobId: result.jobId,
      status: 'done',
      apiUrl: server.url,
      input: { inputs: [LINK], to: join(dir, 'out.mp4'), prompt: 'download this video at 1080p' },
      steps: {
        session: { sessionId: result.sessionId },
        uploads: [{ input: LINK, kind: 'link', state: 'uploaded', mediaBefore: 0 }],
        message: { state: 'sent', stateBefore: expect.stringMatching(/^sha256:/) },
        render: { renderId: result.renderId, state: 'completed' },
        download: { done: true, loadedBytes: SIZE },
      },
      result: { bytes: SIZE, renderId: result.renderId, sessionId: result.sessionId },
    });
  });

  it('the same job again returns at once while its file is there; fetches it again from the same render when it is gone', async () => {
    const client = newClient();
    const first = await client.workflows.export(job());
    const mark = emulator.requests.length;
    const again = await client.workflows.export(job());
    expect(again).toMatchObject({ jobId: first.jobId, transferredBytes: 0, url: undefined });
    expect(again.resumedSteps).toEqual(['session', 'upload', 'message', 'render', 'download']);
    expect(emulator.requests.length).toBe(mark);

    await rm(first.path);
    const third = await client.workflows.export(job());
    expect(third).toMatchObject({ renderId: first.renderId, transferredBytes: SIZE });
    expect(counts()).toEqual({ sessions: 1, uploads: 1, messages: 1, renders: 1 });
    await expectTheResult(third.path, third.renderId);
  });

  it('uploads a local file with its size and mtime; a file changed since stops a resume', async () => {
    const input = join(dir, 'clip.mp4');
    await writeFile(input, await readFile(join(import.meta.dirname, '../../fixtures/result.mp4')));
    const client = newClient();
    const error = await interrupted(
      client,
      job({ inputs: [input] }),
      (p) => isStep(p) && p.step === 'message',
    );
    expect(error).toBeInstanceOf(AbortError);
    const [entry] = await client.workflows.list();
    expect(entry?.record?.steps.uploads?.[0]).toMatchObject({
      kind: 'file',
      state: 'uploaded',
      input,
      size: (await stat(input)).size,
      mtimeMs: Math.floor((await stat(input)).mtimeMs),
    });
    expect(counts().uploads).toBe(1);

    const later = new Date(Date.now() + 60_000);
    await utimes(input, later, later);
    const changed = await client.workflows
      .export(job({ inputs: [input] }))
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(JournalError);
    expect(changed).toMatchObject({ problem: 'input-changed', location: input });
    expect((changed as Error).message).toMatch(/fresh: true \(CLI: --fresh\)/);
    expect(counts()).toMatchObject({ uploads: 1, messages: 0 });
  });
});

describe('resuming after an interruption at each step', () => {
  const cases: {
    what: string;
    when: (p: ExportJobProgress | ChatEvent) => boolean;
    resumed: string[];
    setup?: () => void;
    before?: () => Promise<void>;
  }[] = [
    {
      what: 'the session was created',
      when: (p) => isStep(p) && p.step === 'session',
      resumed: ['session'],
    },
    {
      what: 'the upload was done',
      when: (p) => isStep(p) && p.step === 'upload' && p.done,
      resumed: ['session', 'upload'],
    },
    {
      what: 'mid-turn (the message was sent, the stream cut)',
      when: (p) => !isStep(p),
      resumed: ['session', 'upload', 'message'],
    },
    {
      what: 'mid-render',
      when: (p) => isStep(p) && p.step === 'render',
      resumed: ['session', 'upload', 'message', 'render'],
      setup: () => emulator.stallRenders(),
      before: async () => emulator.releaseRenders(),
    },
    {
      what: 'mid-download',
      when: (p) => isStep(p) && p.step === 'download' && p.loadedBytes > SIZE / 2,
      resumed: ['session', 'upload', 'message', 'render', 'download'],
    },
  ];
  for (const { what, when, resumed, setup, before } of cases) {
    it(`${what}: one session, upload, message and render in all; exact bytes`, async () => {
      const client = newClient();
      // The turn outlives the connection: the emulator's agent runs on after the client left,
      // and tells the test when it is done.
      let turnDone!: () => void;
      const turnRan = new Promise<void>((resolve) => {
        turnDone = resolve;
      });
      emulator.agent((_message, ctx) => [
        { text: 'On it.' },
        { delayMs: 20 },
        ...ctx.defaultAgent(),
        { effect: () => turnDone() },
      ]);
      setup?.();
      const error = await interrupted(client, job(), when);
      expect(error).toBeInstanceOf(AbortError);
      if (what.startsWith('mid-turn')) {
        const [entry] = await client.workflows.list();
        expect(entry?.record?.steps.message?.state).toBe('sending');
        await turnRan;
      }
      await before?.();
      const result = await client.workflows.export(job());
      expect(result.resumedSteps).toEqual(resumed);
      expect(counts()).toEqual({ sessions: 1, uploads: 1, messages: 1, renders: 1 });
      await expectTheResult(result.path, result.renderId);
      if (what === 'mid-download') {
        expect(result.transferredBytes).toBeGreaterThan(0);
        expect(result.transferredBytes).toBeLessThan(SIZE);
      }
    });
  }

  it('a render that failed is replaced by a new one at the next run', async () => {
    const client = newClient();
    emulator.failRenders('GPU on fire', { times: 1 });
    await expect(client.workflows.export(job())).rejects.toMatchObject({
      name: 'RenderFailedError',
    });
    const [entry] = await client.workflows.list();
    expect(entry?.record).toMatchObject({ status: 'failed', error: { name: 'RenderFailedError' } });
    const failed = entry?.record?.steps.render?.renderId;
    const result = await client.workflows.export(job());
    expect(result.resumedSteps).toEqual(['session', 'upload', 'message']);
    expect(result.renderId).not.toBe(failed);
    expect(counts()).toEqual({ sessions: 1, uploads: 1, messages: 1, renders: 2 });
    await expectTheResult(result.path, result.renderId);
  });
});

describe('a message recorded as sent is never sent again', () => {
  it('crash between the record and the POST: the state never changes, the turn is reported lost on the recovery schedule', async () => {
    const clock = new ManualClock(Date.now());
    const journal = new MemoryJournal();
    // No per-request time limit: the only sleeps on the manual clock are the recovery's.
    const client = newClient({ clock, timeout: 0 });
    // Aborted right after "sending" was recorded, before the request left: a lost turn.
    const error = await interrupted(
      client,
      job(),
      (p) => isStep(p) && p.step === 'message' && p.done === false,
      { journal },
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(counts().messages).toBe(0);
    expect((await journal.list())[0]?.record?.steps.message?.state).toBe('sending');

    // Resumed at once: reads now, then 30 s after the send, then every 60 s (5 reads).
    const resumed = client.workflows.export(job(), { journal }).catch((e: unknown) => e);
    for (const ms of [30_000, 60_000, 60_000, 60_000, 60_000]) {
      await clock.waitForSleep(ms, 100_000);
      await clock.advance(ms);
    }
    const lost = await resumed;
    expect(lost).toBeInstanceOf(TurnLostError);
    expect((lost as Error).message).toMatch(/not sent again.*fresh: true \(CLI: --fresh\)/);
    expect(counts().messages).toBe(0);

    // Long after: one read, the same verdict without waiting.
    await clock.advance(3_600_000);
    await expect(client.workflows.export(job(), { journal })).rejects.toBeInstanceOf(TurnLostError);
    expect(counts().messages).toBe(0);

    // fresh: a new session, and the message is sent once.
    const fresh = await newClient().workflows.export(job(), { journal, fresh: true });
    await expectTheResult(fresh.path, fresh.renderId);
    expect(counts()).toMatchObject({ sessions: 2, messages: 1 });
  });

  it('a turn that lands during the recovery wait is taken as sent, not sent again', async () => {
    const clock = new ManualClock(Date.now());
    const journal = new MemoryJournal();
    const client = newClient({ clock, timeout: 0 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let turnDone!: () => void;
    const turnRan = new Promise<void>((resolve) => {
      turnDone = resolve;
    });
    emulator.agent(async function* (_message, ctx) {
      yield { text: 'On it.' };
      await held; // the backend is still working when the client goes away
      yield* ctx.defaultAgent();
      yield { effect: () => turnDone() };
    });
    const error = await interrupted(client, job(), (p) => !isStep(p), { journal });
    expect(error).toBeInstanceOf(AbortError);

    const confirmed: ExportJobProgress[] = [];
    const resumed = interrupted(
      client,
      job(),
      (p) => {
        if (isStep(p) && p.step === 'message') confirmed.push(p);
        return isStep(p) && p.step === 'message';
      },
      { journal },
    );
    await clock.waitForSleep(30_000, 100_000); // unchanged at once: waiting for the 30 s read
    release();
    await turnRan; // the turn ends while the resume waits
    await clock.advance(30_000);
    expect(await resumed).toBeInstanceOf(AbortError); // stopped once the message step was reported
    expect(confirmed).toMatchObject([{ step: 'message', done: true, resumed: true }]);
    expect((await journal.list())[0]?.record?.steps.message?.state).toBe('sent');
    expect(counts().messages).toBe(1);
  });

  it('a message the service refused (no credits) was not sent: the next run sends it', async () => {
    const client = newClient();
    emulator.fail('POST /run_sse', { code: 2001, message: 'out of credits' });
    await expect(client.workflows.export(job())).rejects.toMatchObject({
      name: 'InsufficientCreditsError',
    });
    const [entry] = await client.workflows.list();
    expect(entry?.record).toMatchObject({
      status: 'failed',
      error: { name: 'InsufficientCreditsError' },
    });
    expect(entry?.record?.steps.message).toBeUndefined();
    const result = await client.workflows.export(job());
    await expectTheResult(result.path, result.renderId);
    expect(counts()).toMatchObject({ sessions: 1, messages: 2 });
  });
});

describe('the journal guards the job', () => {
  it('two calls on one job: the second is refused, naming this process', async () => {
    const client = newClient();
    emulator.stallRenders();
    const controller = new AbortController();
    let started!: () => void;
    const rendering = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = client.workflows
      .export(job(), {
        signal: controller.signal,
        maxWait: 600_000,
        onProgress: (p) => {
          if (p.step === 'render') started();
        },
      })
      .catch((e: unknown) => e);
    await rendering;
    const second = await client.workflows.export(job()).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(JobLockedError);
    expect(second).toMatchObject({ pid: process.pid });
    expect((second as Error).message).toContain(`process ${process.pid}`);
    controller.abort();
    expect(await first).toBeInstanceOf(AbortError);
  });

  it('a corrupt entry is reported and left untouched; fresh replaces it', async () => {
    const client = newClient();
    const id = await client.workflows.jobId(job());
    const journal = new FileJournal(join(dir, 'config', 'jobs'));
    await journal.save('job_other', {
      version: 1,
      jobId: 'job_other',
      kind: 'export',
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      apiUrl: server.url,
      input: { inputs: [LINK], to: join(dir, 'x.mp4') },
      status: 'running',
      steps: {},
    }); // creates the folder
    const file = await journal.entryPath(id);
    await writeFile(file, '{ not json');
    const error = await client.workflows.export(job()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error).toMatchObject({ problem: 'corrupt', jobId: id, location: file });
    expect(await readFile(file, 'utf8')).toBe('{ not json');
    expect(emulator.requests).toEqual([]);

    const fresh = await client.workflows.export(job(), { fresh: true });
    expect(fresh.jobId).toBe(id);
    expect((await journal.load(id))?.status).toBe('done');
  });

  it('jobs are listed, resumed by id and removed with their partial download', async () => {
    const client = newClient();
    const half = (p: ExportJobProgress | ChatEvent) =>
      isStep(p) && p.step === 'download' && p.loadedBytes > SIZE / 2;
    expect(await interrupted(client, job(), half)).toBeInstanceOf(AbortError);
    const [entry] = await client.workflows.list();
    expect(entry?.record?.steps.download?.done).toBe(false);
    expect(await readdir(dir)).toContain('out.mp4.part');

    const resumed = await client.workflows.resume(entry?.jobId ?? '');
    expect(resumed.transferredBytes).toBeLessThan(SIZE);
    await expectTheResult(resumed.path, resumed.renderId);

    expect(await interrupted(client, job({ to: join(dir, 'b.mp4') }), half)).toBeInstanceOf(
      AbortError,
    );
    const ids = (await client.workflows.list()).map((e) => e.jobId);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(await client.workflows.remove(id)).toBe(true);
    expect(await client.workflows.remove(ids[0] ?? '')).toBe(false);
    expect(await client.workflows.list()).toEqual([]);
    expect((await readdir(dir)).filter((f) => f.startsWith('b.mp4'))).toEqual([]);
    expect(await readdir(dir)).toContain('out.mp4'); // a finished job's file stays
  });

  it('clientIdFile: false keeps the journal in memory (nothing on disk); journal: false keeps none', async () => {
    const client = newClient({ clientIdFile: false });
    await client.workflows.export(job());
    expect((await client.workflows.list()).map((e) => e.record?.status)).toEqual(['done']);
    expect(await readdir(dir)).toEqual(['out.mp4']);
    const none = newClient({ clientIdFile: false, clientId: 'workflow-tests-2' });
    await none.workflows.export(job({ to: join(dir, 'n.mp4') }), { journal: false });
    expect(await none.workflows.list()).toEqual([]);
  });
});
