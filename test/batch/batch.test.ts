/**
 * #16.2: `client.batch.export()` against the emulator over loopback: one item
 * per job in input order, failures as items (never a rejection), a bounded
 * number of jobs in flight with inputs pulled as slots free up, reruns that
 * skip finished jobs, abort, and one 429 backoff for the whole batch.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BatchItem,
  DEFAULT_BATCH_CONCURRENCY,
  type ExportJob,
  MemoryJournal,
} from '../../src/helpers.js';
import {
  AbortError,
  ConfigError,
  NemoClient,
  type NemoClientOptions,
  RenderFailedError,
} from '../../src/index.js';
import { createEmulator, type EmulatorServer } from '../../src/testing/index.js';
import { flush, ManualClock } from '../helpers/manual-clock.js';

const emulator = createEmulator({ renderDurationMs: 0, heartbeatMs: 0, initialCredits: 100_000 });
let server: EmulatorServer;
let dir: string;

beforeAll(async () => {
  server = await emulator.listen({ port: 0 });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nemo-batch-'));
  await mkdir(join(dir, 'out'));
});
afterEach(async () => {
  emulator.reset();
  await rm(dir, { recursive: true, force: true });
});

function newClient(options: NemoClientOptions = {}): NemoClient {
  return new NemoClient({
    baseUrl: server.url,
    clientId: 'batch-tests',
    configDir: join(dir, 'config'),
    logLevel: 'off',
    backend: { render: { pollIntervalMs: 0 } },
    ...options,
  });
}

function jobs(n: number, from = 0): ExportJob[] {
  return Array.from({ length: n }, (_, i) => ({
    inputs: [`https://example.com/clip-${from + i}.mp4`],
    to: join(dir, 'out', `clip-${from + i}.mp4`),
  }));
}

function count(route: string): number {
  return emulator.stats()[route]?.count ?? 0;
}
const SESSIONS = 'POST /api/tasks/me/with-session/nemo_agent';
const MESSAGES = 'POST /run_sse';

describe('client.batch.export()', () => {
  it('resolves to one item per job in input order; a failing job is an item, not a rejection', async () => {
    const client = newClient();
    const list = jobs(5);
    // Job 2 names a local file that does not exist; one render fails.
    list[2] = { inputs: [join(dir, 'missing.mp4')], to: join(dir, 'out', 'missing.mp4') };
    emulator.failRenders('Lambda timeout', { times: 1 });
    const seen: BatchItem[] = [];
    const items = await client.batch.export(list, {
      concurrency: 2,
      onItem: (item) => seen.push(item),
    });

    expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4]);
    expect(items.map((item) => item.job)).toEqual(list);
    expect(seen).toHaveLength(5);
    const failed = items.filter((item) => item.status === 'failed');
    expect(failed).toHaveLength(2);
    expect(items[2]?.status).toBe('failed');
    expect(failed.some((item) => item.error instanceof RenderFailedError)).toBe(true);
    for (const item of items) {
      if (item.status === 'failed') continue;
      expect(item.status).toBe('done');
      expect(item.jobId).toBe(await client.workflows.jobId(item.job));
      expect((await stat(item.result.path)).size).toBe(item.result.bytes);
      // The chat turn is not kept per item (thousands of items stay small).
      expect(item.result).not.toHaveProperty('turn');
    }
  });

  it('a rerun skips the finished jobs and runs only the failed one again', async () => {
    const client = newClient();
    emulator.failRenders('Lambda timeout', { times: 1 });
    const first = await client.batch.export(jobs(3), { concurrency: 1 });
    expect(first.map((item) => item.status)).toEqual(['failed', 'done', 'done']);
    expect(count(MESSAGES)).toBe(3);

    const second = await newClient().batch.export(jobs(3), { concurrency: 3 });
    expect(second.map((item) => item.status)).toEqual(['done', 'skipped', 'skipped']);
    // The failed job resumed in its session: no new session, no second message.
    expect(count(SESSIONS)).toBe(3);
    expect(count(MESSAGES)).toBe(3);
    expect(second[0]?.result?.resumedSteps).toEqual(['session', 'upload', 'message']);
  });

  it('keeps at most `concurrency` jobs in flight and reads an async iterable only as slots free up', async () => {
    const client = newClient();
    let pulled = 0;
    let settled = 0;
    let inFlightMax = 0;
    const started = new Set<number>();
    const ahead: number[] = [];
    async function* generate(): AsyncGenerator<ExportJob> {
      for (const job of jobs(9)) {
        pulled += 1;
        // Read no further than the slots: each pull past the first 3 follows a settled job.
        ahead.push(pulled - settled);
        yield job;
      }
    }
    const items = await client.batch.export(generate(), {
      concurrency: 3,
      onProgress: (p) => {
        started.add(p.index);
        inFlightMax = Math.max(inFlightMax, started.size - settled);
      },
      onItem: () => {
        settled += 1;
      },
    });
    expect(items.map((item) => item.status)).toEqual(Array(9).fill('done'));
    expect(pulled).toBe(9);
    expect(Math.max(...ahead)).toBe(3);
    expect(inFlightMax).toBe(3);
  });

  it(`runs ${DEFAULT_BATCH_CONCURRENCY} at a time by default and refuses a bad concurrency before any request`, async () => {
    const client = newClient();
    for (const concurrency of [0, 1.5, -1, Number.NaN]) {
      await expect(client.batch.export(jobs(2), { concurrency })).rejects.toBeInstanceOf(
        ConfigError,
      );
    }
    expect(emulator.requests).toHaveLength(0);
  });

  it('fails the second of two jobs that write one file, and runs the first', async () => {
    const client = newClient();
    const [a] = jobs(1);
    const b = { ...(a as ExportJob), prompt: 'make it vertical' };
    const items = await client.batch.export([a as ExportJob, b], { concurrency: 1 });
    expect(items[0]?.status).toBe('done');
    expect(items[1]?.status).toBe('failed');
    expect(items[1]?.error).toBeInstanceOf(ConfigError);
    expect(items[1]?.error?.message).toMatch(/writes .*clip-0\.mp4, as job 0 does/);
  });

  it('an abort stops the batch: no new job starts, the call rejects with AbortError, a rerun resumes', async () => {
    const client = newClient();
    const controller = new AbortController();
    const ended: BatchItem[] = [];
    const error = await client.batch
      .export(jobs(6), {
        concurrency: 2,
        signal: controller.signal,
        onItem: (item) => {
          ended.push(item);
          if (ended.length === 1) controller.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    // The first job ended; the other one in flight stopped; jobs 3–6 never started.
    expect(count(SESSIONS)).toBeLessThanOrEqual(2);
    const finished = ended.filter((item) => item.status === 'done').length;
    expect(finished).toBeGreaterThanOrEqual(1);
    const rerun = await newClient().batch.export(jobs(6), { concurrency: 6 });
    expect(rerun.filter((item) => item.status === 'skipped')).toHaveLength(finished);
    expect(rerun.every((item) => item.status !== 'failed')).toBe(true);
    expect(count(MESSAGES)).toBe(6);
  });

  it('passes the journal option to every job', async () => {
    const journal = new MemoryJournal();
    const items = await newClient().batch.export(jobs(2), { journal });
    expect(items.map((item) => item.status)).toEqual(['done', 'done']);
    const entries = await journal.list();
    expect(entries.map((entry) => entry.record?.status)).toEqual(['done', 'done']);
  });
});

describe('one 429 backoff for the whole batch', () => {
  it('a 429 to one job pauses every job of the batch for the Retry-After, then all go on', async () => {
    const clock = new ManualClock(Date.now());
    // No per-request time limit: the only sleeps on the manual clock are the backoff's.
    const client = newClient({ clock, timeout: 0 });
    emulator.fail('POST /api/upload-video/nemo_agent/me/:sid', {
      status: 429,
      headers: { 'retry-after': '7' },
      times: 1,
    });
    const batch = client.batch.export(jobs(4), { concurrency: 4, journal: new MemoryJournal() });
    await clock.waitForSleep(7_000, 100_000);
    // Every other job reaches its next request and waits for the pause, unsent:
    // four waits in all (the limited request's retry and three held back).
    for (let i = 0; i < 5_000 && clock.pending().length < 4; i++) await flush();
    expect(clock.pending()).toHaveLength(4);
    for (const ms of clock.pending()) expect(ms).toBeLessThanOrEqual(7_000);
    const sent = emulator.requests.length;
    for (let i = 0; i < 20; i++) await flush();
    expect(emulator.requests.length).toBe(sent);

    await clock.advance(7_000);
    let settled = false;
    void batch.finally(() => {
      settled = true;
    });
    // Fire the zero-length waits (render polls) until the batch ends; never jump ahead.
    for (let i = 0; i < 20_000 && !settled; i++) await clock.advance(0);
    const items = await batch;
    expect(items.map((item) => item.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(count(MESSAGES)).toBe(4);
  });
});
