/**
 * #16.4: the BullMQ example under load and faults. A real redis-server, the
 * loopback emulator with faults switched on (5xx, cut streams and downloads,
 * 429s with Retry-After), three worker processes of examples/bullmq/worker.ts
 * sharing one anonymous token and one 429 budget through nemovideo/redis, 30
 * export jobs, and one worker killed with kill -9 in the middle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportJobData, type ExportJobReturn, QUEUE } from '../../examples/bullmq/shared.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/testing/index.js';
import { type RedisServer, skipWithoutRedis, startRedis } from './redis-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKER = fileURLToPath(new URL('fixtures/bullmq-worker.ts', import.meta.url));
const JOBS = 30;

interface WorkerEvent {
  worker: string;
  event: 'ready' | 'active' | 'step' | 'completed' | 'failed';
  job?: string;
  step?: string;
  error?: string;
}

/** A worker process and the events it printed. */
class WorkerProcess {
  readonly events: WorkerEvent[] = [];
  readonly child: ChildProcess;
  #waiters: { test: (e: WorkerEvent) => boolean; resolve: () => void }[] = [];
  stderr = '';

  constructor(
    readonly name: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      cwd: ROOT,
      env: { ...env, WORKER_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as WorkerEvent;
        this.events.push(event);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.test(event)) return true;
          w.resolve();
          return false;
        });
      }
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  /** Resolves at the first event (past or future) that passes `test`. */
  when(test: (e: WorkerEvent) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (this.events.some(test)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${this.name}: no ${what} in ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Jobs this worker started and had not finished. */
  inFlight(): Set<string> {
    const jobs = new Set<string>();
    for (const e of this.events) {
      if (!e.job) continue;
      if (e.event === 'active') jobs.add(e.job);
      if (e.event === 'completed' || e.event === 'failed') jobs.delete(e.job);
    }
    return jobs;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const force = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      this.child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}

describe.skipIf(skipWithoutRedis)('BullMQ workers (examples/bullmq)', () => {
  let redisServer: RedisServer;
  let emulator: Emulator;
  let api: EmulatorServer;
  let dir: string;
  let queue: Queue<ExportJobData, ExportJobReturn>;
  let connection: Redis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    [redisServer, dir] = await Promise.all([startRedis(), mkdtemp(join(tmpdir(), 'nemo-bullmq-'))]);
    emulator = createEmulator({
      initialCredits: 1_000_000,
      renderDurationMs: 1_500,
      heartbeatMs: 0,
    });
    api = await emulator.listen({ port: 0 });
    connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE, { connection });
  }, 30_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await queue?.close();
    await connection?.quit().catch(() => {});
    await api?.close();
    await redisServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('30 jobs on 3 workers under faults, one killed: one token, no message sent twice, every job ends', async () => {
    // Faults: 5xx on session creation and state reads, cut chat streams and downloads, and
    // 429s with Retry-After on render polls (one pause for every worker, through Redis).
    emulator.fail('POST /api/tasks/me/with-session/nemo_agent', { status: 503, times: 3 });
    emulator.fail('GET /api/state/nemo_agent/me/:sid/latest', { status: 500, times: 3 });
    emulator.fail('POST /run_sse', { cutAfterEvents: 1, times: 3 });
    emulator.fail('GET /api/render/proxy/lambda/:id', {
      status: 429,
      headers: { 'retry-after': '1' },
      times: 4,
    });
    emulator.fail('GET /renders/*', { cutAfterBytes: 4_000, times: 3 });

    const env = {
      ...process.env,
      REDIS_URL: redisServer.url,
      NEMO_API_URL: api.url,
    };
    for (const name of ['w1', 'w2', 'w3']) {
      // Each worker has its own config folder, as on its own machine: only Redis is shared.
      workers.push(new WorkerProcess(name, { ...env, NEMO_CONFIG_DIR: join(dir, name) }));
    }
    await Promise.all(workers.map((w) => w.when((e) => e.event === 'ready', 'ready')));

    const added = await queue.addBulk(
      Array.from({ length: JOBS }, (_, i) => ({
        name: 'export',
        data: {
          export: {
            inputs: [`https://cdn.example.com/videos/clip-${i + 1}.mp4`],
            to: join(dir, 'out', `clip-${i + 1}.mp4`),
          },
        },
        opts: { attempts: 3, backoff: { type: 'fixed', delay: 200 } },
      })),
    );
    const ids = added.map((job) => job.id as string);

    // Kill w1 in the middle of a job: one of its jobs is rendering (the message was sent).
    const [w1] = workers as [WorkerProcess];
    await w1.when((e) => e.event === 'step' && e.step === 'render', 'render step');
    const orphaned = w1.inFlight();
    w1.child.kill('SIGKILL');
    expect(orphaned.size).toBeGreaterThan(0);

    // Wait for every job to end (stalled jobs are noticed after lockDuration, 2 s).
    const deadline = Date.now() + 45_000;
    let jobs: Job<ExportJobData, ExportJobReturn>[] = [];
    for (;;) {
      jobs = (await Promise.all(ids.map((id) => queue.getJob(id)))).filter(
        (job): job is Job<ExportJobData, ExportJobReturn> => job !== undefined,
      );
      const states = await Promise.all(jobs.map((job) => job.getState()));
      if (states.every((s) => s === 'completed' || s === 'failed')) break;
      if (Date.now() > deadline) {
        throw new Error(
          `jobs still running: ${states.filter((s) => s !== 'completed' && s !== 'failed').length}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    // Read the jobs again: the copies above may predate the last job's end (read before its state).
    jobs = (await Promise.all(ids.map((id) => queue.getJob(id)))).filter(
      (job): job is Job<ExportJobData, ExportJobReturn> => job !== undefined,
    );
    // By state: a job that failed an attempt and then completed keeps its last failedReason.
    const finalStates = await Promise.all(jobs.map((job) => job.getState()));
    const done = jobs.filter((_, i) => finalStates[i] === 'completed');
    const failed = jobs.filter((_, i) => finalStates[i] === 'failed');
    console.log(
      `bullmq: ${done.length} done, ${failed.length} failed of ${JOBS}; w1 killed with ${orphaned.size} job(s) in flight`,
    );
    for (const job of failed) console.log(`  job ${job.id} failed: ${job.failedReason}`);
    expect(done.length + failed.length).toBe(JOBS);
    // A failure is typed: the worker puts the error's class name first.
    for (const job of failed) expect(job.failedReason).toMatch(/^[A-Z]\w*Error: /);
    // Done jobs wrote their MP4, of the size they report.
    for (const job of done) {
      const result = job.returnvalue;
      expect((await stat(result.path)).size).toBe(result.bytes);
    }

    // One anonymous-token request for the three workers (nemovideo/redis).
    expect(emulator.stats()['POST /api/auth/anonymous-token']?.count).toBe(1);

    // No job sent its message twice: at most one POST /run_sse per job's session.
    const posts = new Map<string, number>();
    for (const request of emulator.requests) {
      if (request.method !== 'POST' || request.path !== '/run_sse' || request.body.type !== 'json')
        continue;
      const sid = String((request.body.value as { session_id?: unknown }).session_id);
      posts.set(sid, (posts.get(sid) ?? 0) + 1);
    }
    const sessions = new Set<string>();
    for (const job of jobs) {
      const sid = job.data.journal?.steps.session?.sessionId;
      if (!sid) continue;
      sessions.add(sid);
      expect(posts.get(sid) ?? 0, `job ${job.id}`).toBeLessThanOrEqual(1);
    }
    // Every session the emulator saw a message for belongs to a job (no orphan sessions resent).
    for (const sid of posts.keys()) expect(sessions.has(sid)).toBe(true);

    // w1's jobs finished on the other workers, resuming what w1 had done.
    for (const id of orphaned) {
      const job = jobs.find((j) => j.id === id) as Job<ExportJobData, ExportJobReturn>;
      if (!done.includes(job)) continue;
      expect(job.returnvalue.worker).not.toBe('w1');
      expect(job.returnvalue.resumedSteps).toContain('session');
    }
    // No token in any job's data.
    const data = JSON.stringify(jobs.map((job) => job.data));
    expect(data).not.toMatch(/nmv_usr_|Bearer /);
  }, 90_000);
});
