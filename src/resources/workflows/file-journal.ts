/**
 * The default journal on Node: one JSON file per job in a folder
 * (`<configDir>/jobs/<jobId>.json`, mode 0600, folder 0700), written
 * atomically (a temporary file renamed over the old one), and a lock file per
 * running job (`<jobId>.lock`) naming the process that holds it.
 *
 * @module
 */
import { nodeFs, nodeOs, nodePath } from '../../core/node.js';
import { JobLockedError, JournalError } from '../../errors/errors.js';
import {
  checkJobId,
  type JobHolder,
  type JobJournal,
  type JobListEntry,
  type JobLock,
  type JobRecord,
  parseJobRecord,
  sortEntries,
} from './journal.js';

/** What a lock file holds. `nonce` tells two holders with the same pid apart. */
interface LockContent {
  pid: number;
  hostname: string;
  since: string;
  nonce: string;
  /** Linux: the process's start time in clock ticks after boot (`/proc/<pid>/stat`), so a reused pid is not taken for the holder. */
  procStart?: number | undefined;
}

/** Nonces of the locks this process holds (a lock with our pid but another nonce was left by a previous process). */
const heldHere = new Set<string>();

type Fs = typeof import('node:fs/promises');

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function currentProcess(): { pid: number; kill(pid: number, signal: 0): unknown } | undefined {
  const proc = (globalThis as { process?: { pid?: number; kill?: unknown } }).process;
  return typeof proc?.pid === 'number' && typeof proc.kill === 'function'
    ? (proc as { pid: number; kill(pid: number, signal: 0): unknown })
    : undefined;
}

/** Linux: the start time of `pid` (field 22 of `/proc/<pid>/stat`), `undefined` elsewhere or when gone. */
async function processStart(fs: Fs, pid: number): Promise<number | undefined> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Is the lock's holder still running? Only a holder on this host can be
 * checked: `kill(pid, 0)` says whether the pid exists (EPERM: it does, under
 * another user), and on Linux its start time must match the one recorded, so
 * a pid reused by an unrelated process does not keep a dead job locked. A lock
 * with this process's pid but a nonce it does not hold was left by an earlier
 * process that had the same pid (containers often reuse pids).
 */
async function holderAlive(fs: Fs, lock: LockContent, hostname: string): Promise<boolean> {
  if (lock.hostname !== hostname) return true;
  const proc = currentProcess();
  if (!proc) return true;
  if (lock.pid === proc.pid) return heldHere.has(lock.nonce);
  try {
    proc.kill(lock.pid, 0);
  } catch (error) {
    if (errnoOf(error) === 'ESRCH') return false;
    if (errnoOf(error) !== 'EPERM') return true;
  }
  if (lock.procStart !== undefined) {
    const start = await processStart(fs, lock.pid);
    if (start !== undefined && start !== lock.procStart) return false;
  }
  return true;
}

function describeHolder(lock: LockContent, hostname: string): string {
  const where = lock.hostname === hostname ? '' : ` on host ${lock.hostname}`;
  return `process ${lock.pid}${where}`;
}

/**
 * A journal in a folder: `<folder>/<jobId>.json` per job and `<jobId>.lock`
 * while a process runs it. The default of `client.workflows` is
 * `<configDir>/jobs`. Files are 0600 in a 0700 folder and replaced atomically;
 * an entry that is corrupt or from a newer release is reported
 * ({@link JournalError}) and left as it is.
 *
 * A lock left by a process that died (`kill -9`, a crash, a reboot) is taken
 * over by the next run on the same host: the pid no longer exists, or (Linux)
 * it now belongs to a process that started at another time. A lock held from
 * another host is always respected.
 *
 * @example
 * ```ts
 * import { FileJournal } from 'nemovideo/helpers';
 *
 * const journal = new FileJournal('/var/lib/my-app/nemovideo-jobs');
 * const result = await client.workflows.export(
 *   { inputs: ['https://example.com/clip.mp4'], to: '/var/lib/my-app/out/clip.mp4' },
 *   { journal },
 * );
 * ```
 */
export class FileJournal implements JobJournal {
  /** The folder holding the entries. */
  readonly folder: string;

  constructor(folder: string) {
    this.folder = folder;
  }

  get location(): string {
    return this.folder;
  }

  async #paths(jobId: string) {
    checkJobId(jobId);
    const path = await nodePath();
    const base = path.join(path.resolve(this.folder), jobId);
    return { record: `${base}.json`, lock: `${base}.lock` };
  }

  /** The path of a job's entry (whether it exists or not). */
  async entryPath(jobId: string): Promise<string> {
    return (await this.#paths(jobId)).record;
  }

  /** @example `const record = await journal.load(jobId)` */
  async load(jobId: string): Promise<JobRecord | undefined> {
    const { record: file } = await this.#paths(jobId);
    const fs = await nodeFs();
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw new JournalError(
        `Could not read the journal entry ${file}: ${(error as Error).message}. Check the folder's permissions (NEMO_CONFIG_DIR or the configDir option choose it).`,
        { jobId, problem: 'io', location: file, cause: error },
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new JournalError(
        `The journal entry ${file} is not valid JSON (${(error as Error).message}). It was left untouched: remove it (nemovideo jobs rm ${jobId}) or run the job again with fresh / --fresh to start over.`,
        { jobId, problem: 'corrupt', location: file, cause: error },
      );
    }
    return parseJobRecord(jobId, value, file);
  }

  /** @example `await journal.save(record.jobId, record)` */
  async save(jobId: string, record: JobRecord): Promise<void> {
    const { record: file } = await this.#paths(jobId);
    const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
    const tmp = `${file}.${globalThis.crypto.randomUUID()}.tmp`;
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await fs.writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
      await fs.chmod(tmp, 0o600);
      await fs.rename(tmp, file);
    } catch (error) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new JournalError(
        `Could not write the journal entry ${file}: ${(error as Error).message}. Check the folder's permissions and free space, or choose another config folder (NEMO_CONFIG_DIR).`,
        { jobId, problem: 'io', location: file, cause: error },
      );
    }
  }

  /** @example `await journal.remove(jobId)` */
  async remove(jobId: string): Promise<void> {
    const { record: file } = await this.#paths(jobId);
    const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
    try {
      await fs.rm(file, { force: true });
      // A process killed in the middle of a save leaves its temporary file (`<id>.json.<uuid>.tmp`).
      const prefix = `${path.basename(file)}.`;
      const dir = path.dirname(file);
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      await Promise.all(
        names
          .filter((name) => name.startsWith(prefix) && name.endsWith('.tmp'))
          .map((name) => fs.rm(path.join(dir, name), { force: true })),
      );
    } catch (error) {
      throw new JournalError(
        `Could not remove the journal entry ${file}: ${(error as Error).message}.`,
        { jobId, problem: 'io', location: file, cause: error },
      );
    }
  }

  /**
   * Take the job's lock file, or throw a {@link JobLockedError} naming the
   * process that holds it. A stale lock (its process is gone) is taken over.
   *
   * @example `const lock = await journal.lock(jobId); try { … } finally { await lock.release(); }`
   */
  async lock(jobId: string): Promise<JobLock> {
    const { lock: file } = await this.#paths(jobId);
    const [fs, path, os] = await Promise.all([nodeFs(), nodePath(), nodeOs()]);
    const hostname = os.hostname();
    const proc = currentProcess();
    const mine: LockContent = {
      pid: proc?.pid ?? 0,
      hostname,
      since: new Date().toISOString(),
      nonce: globalThis.crypto.randomUUID(),
      procStart: proc ? await processStart(fs, proc.pid) : undefined,
    };
    const ioError = (error: unknown) =>
      new JournalError(
        `Could not take the lock ${file}: ${(error as Error).message}. Check the folder's permissions.`,
        { jobId, problem: 'io', location: file, cause: error },
      );
    try {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw ioError(error);
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        if (await createExclusive(fs, file, `${JSON.stringify(mine)}\n`)) {
          heldHere.add(mine.nonce);
          return { release: () => this.#release(fs, file, mine.nonce) };
        }
      } catch (error) {
        throw ioError(error);
      }
      const holder = await readLock(fs, file);
      if (holder === 'gone') continue; // released meanwhile: try again
      if (holder !== 'unreadable' && (await holderAlive(fs, holder, hostname))) {
        throw new JobLockedError(
          `Job ${jobId} is already running in ${describeHolder(holder, hostname)} (since ${holder.since}). Wait for it to finish or stop it${holder.hostname === hostname ? ` (kill ${holder.pid})` : ''}; a lock left by a process that no longer runs is taken over by the next run. Lock: ${file}`,
          { jobId, location: file, pid: holder.pid, hostname: holder.hostname },
        );
      }
      if (holder === 'unreadable' && !(await olderThan(fs, file, 10_000))) {
        // Another process may be writing it right now (a lock is created whole, so this is
        // unlikely); only an old unreadable lock is taken over.
        throw new JobLockedError(
          `Job ${jobId} is locked by ${file}, which cannot be read. If no other nemovideo process runs this job, remove that file.`,
          { jobId, location: file },
        );
      }
      await takeOver(fs, file, holder === 'unreadable' ? undefined : holder.nonce);
    }
    throw new JobLockedError(
      `Could not take the lock of job ${jobId} (${file}): other processes keep taking it. Try again.`,
      { jobId, location: file },
    );
  }

  async #release(fs: Fs, file: string, nonce: string): Promise<void> {
    if (!heldHere.delete(nonce)) return;
    const holder = await readLock(fs, file);
    // Someone who took over (after deciding we were gone) keeps their lock.
    if (typeof holder === 'object' && holder.nonce === nonce) await fs.rm(file, { force: true });
  }

  /**
   * Who holds the job's lock now, if a running process does (a stale lock
   * reads as not held).
   *
   * @example `const holder = await journal.holder(jobId); if (holder) console.log(holder.pid)`
   */
  async holder(jobId: string): Promise<JobHolder | undefined> {
    const { lock: file } = await this.#paths(jobId);
    const [fs, os] = await Promise.all([nodeFs(), nodeOs()]);
    const lock = await readLock(fs, file);
    if (lock === 'gone') return undefined;
    if (lock === 'unreadable') return {};
    if (!(await holderAlive(fs, lock, os.hostname()))) return undefined;
    return { pid: lock.pid, hostname: lock.hostname, since: lock.since };
  }

  /** Every entry of the folder, newest first; unreadable ones carry their error. */
  async list(): Promise<JobListEntry[]> {
    const [fs, path] = await Promise.all([nodeFs(), nodePath()]);
    let names: string[];
    try {
      names = await fs.readdir(path.resolve(this.folder));
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return [];
      throw new JournalError(
        `Could not list the journal folder ${this.folder}: ${(error as Error).message}.`,
        { jobId: '*', problem: 'io', location: this.folder, cause: error },
      );
    }
    const entries: JobListEntry[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const jobId = name.slice(0, -'.json'.length);
      let lockedBy: JobHolder | undefined;
      try {
        checkJobId(jobId);
        lockedBy = await this.holder(jobId);
      } catch {
        continue; // not ours
      }
      try {
        const record = await this.load(jobId);
        if (record) entries.push({ jobId, record, lockedBy });
      } catch (error) {
        if (!(error instanceof JournalError)) throw error;
        entries.push({ jobId, error, lockedBy });
      }
    }
    return sortEntries(entries);
  }
}

/**
 * Create `file` with `content` only if it does not exist, whole: the content
 * goes to a temporary file first, then a hard link publishes it atomically (a
 * reader never sees an empty lock). Where hard links are refused, an exclusive
 * create. False when the file exists.
 */
async function createExclusive(fs: Fs, file: string, content: string): Promise<boolean> {
  const tmp = `${file}.${globalThis.crypto.randomUUID()}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  try {
    await fs.link(tmp, file);
    return true;
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') {
      throw error;
    }
    try {
      await fs.writeFile(file, content, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (inner) {
      if (errnoOf(inner) === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

async function readLock(fs: Fs, file: string): Promise<LockContent | 'gone' | 'unreadable'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    return errnoOf(error) === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (
      typeof value.pid === 'number' &&
      typeof value.hostname === 'string' &&
      typeof value.nonce === 'string'
    ) {
      return {
        pid: value.pid,
        hostname: value.hostname,
        nonce: value.nonce,
        since: typeof value.since === 'string' ? value.since : 'an unknown time',
        procStart: typeof value.procStart === 'number' ? value.procStart : undefined,
      };
    }
  } catch {
    // fall through
  }
  return 'unreadable';
}

async function olderThan(fs: Fs, file: string, ms: number): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    return Date.now() - stat.mtimeMs > ms;
  } catch {
    return true;
  }
}

/**
 * Remove a stale lock without removing a fresh one another process created
 * meanwhile: move it aside (atomic; one mover wins), check it is the stale
 * lock that was read, and if it is not, publish it back.
 */
async function takeOver(fs: Fs, file: string, staleNonce: string | undefined): Promise<void> {
  const aside = `${file}.${globalThis.crypto.randomUUID()}.stale`;
  try {
    await fs.rename(file, aside);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readLock(fs, aside);
  const wasStale =
    staleNonce === undefined
      ? moved === 'unreadable'
      : typeof moved === 'object' && moved.nonce === staleNonce;
  if (!wasStale) await fs.link(aside, file).catch(() => {});
  await fs.rm(aside, { force: true }).catch(() => {});
}
