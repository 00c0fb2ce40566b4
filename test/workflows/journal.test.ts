/**
 * The job journal: the file store (one 0600 file per job, atomic writes, a
 * schema version; corrupt and newer entries reported and left untouched), the
 * lock (a second holder refused with the first's pid; a dead holder's lock
 * taken over), and the memory store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileJournal,
  JOURNAL_VERSION,
  type JobJournal,
  type JobRecord,
  MemoryJournal,
  parseJobRecord,
} from '../../src/helpers.js';
import { JobLockedError, JournalError } from '../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const HOLD_LOCK = join(import.meta.dirname, 'fixtures', 'hold-lock.ts');

function record(jobId: string, changes: Partial<JobRecord> = {}): JobRecord {
  return {
    version: JOURNAL_VERSION,
    jobId,
    kind: 'export',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    apiUrl: 'http://127.0.0.1:1',
    input: { inputs: ['https://example.com/a.mp4'], to: '/tmp/a.mp4' },
    status: 'running',
    steps: { session: { sessionId: '5529798706024415232', at: '2025-01-01T00:00:01.000Z' } },
    ...changes,
  };
}

let folder: string;
beforeEach(async () => {
  folder = join(await mkdtemp(join(tmpdir(), 'nemo-journal-')), 'jobs');
});
afterEach(async () => {
  await rm(resolve(folder, '..'), { recursive: true, force: true });
});

describe('FileJournal', () => {
  it('round-trips a record in <folder>/<jobId>.json, 0600 in a 0700 folder, with no temporary file left', async () => {
    const journal = new FileJournal(folder);
    expect(await journal.load('job_a')).toBeUndefined();
    await journal.save('job_a', record('job_a'));
    await journal.save('job_a', record('job_a', { status: 'done' }));
    expect(await journal.load('job_a')).toEqual(record('job_a', { status: 'done' }));
    expect(await readdir(folder)).toEqual(['job_a.json']);
    expect((await stat(join(folder, 'job_a.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(folder)).mode & 0o777).toBe(0o700);
    await journal.remove('job_a');
    await journal.remove('job_a'); // nothing there: no error
    expect(await readdir(folder)).toEqual([]);
  });

  it('remove() also deletes the temporary file of a save cut short by kill -9, and only that job’s', async () => {
    const journal = new FileJournal(folder);
    await journal.save('job_a', record('job_a'));
    await journal.save('job_ab', record('job_ab'));
    await writeFile(join(folder, 'job_a.json.0f1e2d3c-aaaa-bbbb-cccc-123456789abc.tmp'), '{"vers');
    await journal.remove('job_a');
    expect(await readdir(folder)).toEqual(['job_ab.json']);
  });

  it('reports a corrupt entry with a typed error naming the way out, and leaves it untouched', async () => {
    const journal = new FileJournal(folder);
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'job_bad.json');
    await writeFile(file, '{"version":1,"jobId":"job_bad", trunc');
    const error = await journal.load('job_bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error).toMatchObject({ name: 'JournalError', problem: 'corrupt', jobId: 'job_bad' });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/left untouched.*nemovideo jobs rm job_bad.*--fresh/);
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"jobId":"job_bad", trunc');

    // Valid JSON, not a record: corrupt too, with the bad field.
    await writeFile(file, JSON.stringify({ ...record('job_bad'), steps: 'none' }));
    await expect(journal.load('job_bad')).rejects.toMatchObject({
      problem: 'corrupt',
      message: expect.stringContaining('steps'),
    });
    // A record under the wrong name is not this job's.
    await writeFile(file, JSON.stringify(record('job_other')));
    await expect(journal.load('job_bad')).rejects.toMatchObject({ problem: 'corrupt' });
  });

  it('refuses an entry from a newer release (higher version), leaving it as it is', async () => {
    const journal = new FileJournal(folder);
    await mkdir(folder, { recursive: true });
    const file = join(folder, 'job_new.json');
    const text = JSON.stringify({ version: JOURNAL_VERSION + 1, jobId: 'job_new', future: true });
    await writeFile(file, text);
    const error = await journal.load('job_new').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalError);
    expect(error).toMatchObject({ problem: 'newer-version' });
    expect((error as Error).message).toMatch(/newer release.*upgrade nemovideo/);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('lists entries newest first, with unreadable ones carrying their error', async () => {
    const journal = new FileJournal(folder);
    await journal.save('job_old', record('job_old', { updatedAt: '2025-01-01T00:00:00.000Z' }));
    await journal.save('job_new', record('job_new', { updatedAt: '2025-02-01T00:00:00.000Z' }));
    await writeFile(join(folder, 'job_bad.json'), 'not json');
    await writeFile(join(folder, 'notes.txt'), 'not an entry');
    const entries = await journal.list();
    expect(entries.map((e) => [e.jobId, e.record?.status ?? e.error?.problem])).toEqual([
      ['job_new', 'running'],
      ['job_old', 'running'],
      ['job_bad', 'corrupt'],
    ]);
    expect(await new FileJournal(join(folder, 'missing')).list()).toEqual([]);
  });

  it('refuses job ids that are not plain file names', async () => {
    const journal = new FileJournal(folder);
    for (const id of ['../escape', '.hidden', 'a/b', '', 'x'.repeat(200)]) {
      await expect(journal.load(id)).rejects.toMatchObject({ name: 'ConfigError' });
    }
  });
});

describe('FileJournal locks', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  /** A child process holding the lock of `jobId`; resolves once it printed "locked <pid>". */
  async function holder(jobId: string): Promise<ChildProcess & { pid: number }> {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLD_LOCK, folder, jobId], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line')) as [string];
    expect(line).toBe(`locked ${child.pid}`);
    return child as ChildProcess & { pid: number };
  }

  it('a second process is refused, naming the first one’s pid; free again once it releases', async () => {
    const first = await holder('job_x');
    const error = await new FileJournal(folder).lock('job_x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobLockedError);
    expect(error).toBeInstanceOf(JournalError);
    expect(error).toMatchObject({ name: 'JobLockedError', pid: first.pid, problem: 'locked' });
    expect((error as Error).message).toContain(`process ${first.pid}`);
    expect((error as Error).message).toContain(`kill ${first.pid}`);

    first.stdin?.end(); // releases and exits
    await once(first, 'exit');
    expect(await readdir(folder)).toEqual([]);
    const lock = await new FileJournal(folder).lock('job_x');
    await lock.release();
  });

  it('takes over the lock of a process killed with kill -9 (its pid no longer exists)', async () => {
    const first = await holder('job_y');
    first.kill('SIGKILL');
    await once(first, 'exit');
    const lockFile = join(folder, 'job_y.lock');
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: first.pid });

    const journal = new FileJournal(folder);
    const lock = await journal.lock('job_y');
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(await journal.holder('job_y')).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await readdir(folder)).toEqual([]);
  });

  it('in one process: a second lock is refused with this pid; a lock with this pid that this process does not hold is stale', async () => {
    const journal = new FileJournal(folder);
    const lock = await journal.lock('job_z');
    await expect(journal.lock('job_z')).rejects.toMatchObject({
      name: 'JobLockedError',
      pid: process.pid,
    });
    await lock.release();
    await lock.release(); // idempotent

    // Left by an earlier process that had the same pid (containers reuse pids).
    await writeFile(
      join(folder, 'job_z.lock'),
      JSON.stringify({ pid: process.pid, hostname: hostname(), since: 'earlier', nonce: 'gone' }),
    );
    const again = await journal.lock('job_z');
    await again.release();
  });

  it('respects a lock from another host, and an unreadable fresh lock', async () => {
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, 'job_h.lock'),
      JSON.stringify({ pid: 4242, hostname: 'elsewhere', since: 'now', nonce: 'n' }),
    );
    await expect(new FileJournal(folder).lock('job_h')).rejects.toMatchObject({
      name: 'JobLockedError',
      pid: 4242,
      hostname: 'elsewhere',
      message: expect.stringContaining('process 4242 on host elsewhere'),
    });
    await writeFile(join(folder, 'job_u.lock'), '');
    await expect(new FileJournal(folder).lock('job_u')).rejects.toMatchObject({
      name: 'JobLockedError',
    });
  });

  it('a release after a takeover leaves the new holder’s lock alone', async () => {
    const journal = new FileJournal(folder);
    const lock = await journal.lock('job_t');
    // Another process decided this one was gone and took the lock over.
    const theirs = { pid: 1, hostname: 'other', since: 'now', nonce: 'theirs' };
    await writeFile(join(folder, 'job_t.lock'), JSON.stringify(theirs));
    await lock.release();
    expect(JSON.parse(await readFile(join(folder, 'job_t.lock'), 'utf8'))).toEqual(theirs);
  });
});

describe('MemoryJournal', () => {
  it('stores copies, locks per job, lists newest first', async () => {
    const journal: JobJournal = new MemoryJournal();
    const r = record('job_m');
    await journal.save('job_m', r);
    r.status = 'failed'; // the journal kept a copy
    expect((await journal.load('job_m'))?.status).toBe('running');
    const lock = await journal.lock('job_m');
    await expect(journal.lock('job_m')).rejects.toBeInstanceOf(JobLockedError);
    await lock.release();
    await (await journal.lock('job_m')).release();
    await journal.save('job_n', record('job_n', { updatedAt: '2026-01-01T00:00:00.000Z' }));
    expect((await journal.list?.())?.map((e) => e.jobId)).toEqual(['job_n', 'job_m']);
    await journal.remove('job_m');
    expect(await journal.load('job_m')).toBeUndefined();
  });
});

describe('parseJobRecord (for custom journals)', () => {
  it('accepts a record, refuses newer versions and other shapes', () => {
    expect(parseJobRecord('job_p', record('job_p'))).toEqual(record('job_p'));
    expect(() => parseJobRecord('job_p', { ...record('job_p'), version: 99 })).toThrow(
      /newer release/,
    );
    expect(() => parseJobRecord('job_p', null, 'row 7')).toThrow(/row 7.*not a valid job record/);
  });
});
