import { join } from 'node:path';
import { FileJournal, type JobListEntry, type JobRecord } from '../../helpers.js';
import { JobLockedError } from '../../index.js';
import { ExitCode, usageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { configDir, type Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import { displayPath, shellWord } from './common.js';
import { type JobRunFlags, reportJob, runJob, tokenLine } from './download.js';

/** The journal the CLI and the SDK share: `<config folder>/jobs`. */
function journalOf(rt: Runtime): FileJournal {
  return new FileJournal(join(configDir(rt.env), 'jobs'));
}

/** `--quality` label of a recorded render quality. */
const QUALITY_LABELS: Readonly<Record<string, string>> = {
  high: '1080p',
  medium: '720p',
  low: '480p',
};

/** The last step a job completed, in words: `session`, `upload 1/2`, `message sent`, `download 45%`… */
export function stepOf(record: JobRecord): string {
  if (record.status === 'done') return 'done';
  const { steps } = record;
  if (steps.download) {
    const { loadedBytes, totalBytes } = steps.download;
    return totalBytes
      ? `download ${Math.floor((100 * loadedBytes) / totalBytes)}%`
      : `download ${formatBytes(loadedBytes)}`;
  }
  if (steps.render) return steps.render.state === 'completed' ? 'rendered' : 'render';
  if (steps.message) return steps.message.state === 'sent' ? 'message sent' : 'message sending';
  const uploaded = (steps.uploads ?? []).filter((u) => u.state === 'uploaded').length;
  if (uploaded > 0 || steps.uploads?.length)
    return `upload ${uploaded}/${record.input.inputs.length}`;
  if (steps.session) return 'session';
  return 'new';
}

/** `done`, `failed (RenderFailedError)`, `running (pid 123)`, `interrupted`, or `unreadable`. */
function statusOf(entry: JobListEntry): string {
  if (!entry.record) return 'unreadable';
  const { record, lockedBy } = entry;
  if (lockedBy) return `running${lockedBy.pid !== undefined ? ` (pid ${lockedBy.pid})` : ''}`;
  if (record.status === 'done') return 'done';
  if (record.status === 'failed') return `failed (${record.error?.name ?? 'error'})`;
  return 'interrupted';
}

/** `12 s`, `5 min`, `3 h`, `2 d`. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `nemovideo jobs`: the saved jobs, newest first. */
async function list(rt: Runtime): Promise<void> {
  const { out } = rt;
  const entries = await journalOf(rt).list();
  const now = Date.now();
  if (out.json) {
    for (const entry of entries) {
      const { record } = entry;
      out.emit({
        jobId: entry.jobId,
        status: statusOf(entry).split(' ')[0],
        step: record ? stepOf(record) : null,
        ageSec: record ? Math.round((now - Date.parse(record.updatedAt)) / 1000) : null,
        updatedAt: record?.updatedAt ?? null,
        output: record?.input.to ?? null,
        inputs: record?.input.inputs ?? null,
        apiUrl: record?.apiUrl ?? null,
        sessionId: record?.steps.session?.sessionId ?? null,
        renderId: record?.steps.render?.renderId ?? null,
        runningPid: entry.lockedBy?.pid ?? null,
        error: entry.error
          ? { kind: entry.error.name, problem: entry.error.problem, message: entry.error.message }
          : record?.error
            ? { kind: record.error.name, message: record.error.message }
            : null,
      });
    }
    return;
  }
  if (entries.length === 0) {
    out.result('No saved jobs.');
    return;
  }
  const rows = [['JOB', 'STATUS', 'STEP', 'AGE', 'OUTPUT']];
  for (const entry of entries) {
    const { record } = entry;
    rows.push([
      entry.jobId,
      statusOf(entry),
      record ? stepOf(record) : '-',
      record ? age(now - Date.parse(record.updatedAt)) : '-',
      record ? displayPath(record.input.to) : (entry.error?.problem ?? ''),
    ]);
  }
  out.result(table(rows));
  const resumable = entries.find((e) => e.record && e.record.status !== 'done' && !e.lockedBy);
  if (resumable) out.detail(`Resume one with "nemovideo jobs resume ${resumable.jobId}".`);
  for (const entry of entries) {
    if (entry.error) out.warn(`Job ${entry.jobId}: ${entry.error.message}`);
  }
}

/** `nemovideo jobs resume <job-id>`: run a saved job again, from where it stopped. */
async function resume(rt: Runtime, jobId: string, flags: JobRunFlags): Promise<void> {
  const { out, signal } = rt;
  const journal = journalOf(rt);
  const record = await journal.load(jobId);
  if (!record) {
    throw usageError(`No saved job ${jobId}. List the saved jobs with "nemovideo jobs".`);
  }
  // The job runs against the API it started on, unless --api-url / NEMO_API_URL say otherwise.
  const chosen = rt.globals.apiUrl ?? rt.env.NEMO_API_URL;
  if (chosen === undefined || chosen === '') rt.globals.apiUrl = record.apiUrl;
  const client = await rt.client();
  if (client.baseUrl !== record.apiUrl) {
    throw usageError(
      `Job ${jobId} was started against ${record.apiUrl}, not ${client.baseUrl}: resume it there with "nemovideo jobs resume ${jobId} --api-url ${shellWord(record.apiUrl)}".`,
    );
  }
  const again = `nemovideo jobs resume ${jobId}${rt.globals.apiUrl !== record.apiUrl && rt.globals.apiUrl !== undefined ? ` --api-url ${shellWord(rt.globals.apiUrl)}` : ''}`;
  rt.context.jobId = jobId;
  rt.context.resumeCommand = again;
  rt.context.exportAgain = again;
  rt.context.afterAbort = `Job ${jobId} is saved: run "${again}" to resume it; what is done is not done again and the instruction is never sent twice.`;

  out.stage(
    `Resuming job ${jobId}: ${record.input.inputs.join(', ')} → ${displayPath(record.input.to)}`,
  );
  await client.getToken({ signal });
  out.done(tokenLine(client));
  const quality = QUALITY_LABELS[record.input.quality ?? 'high'] ?? record.input.quality;
  const result = await runJob(rt, { ...flags, quality }, (options) =>
    client.workflows.resume(jobId, { ...options, journal }),
  );
  await reportJob(rt, result);
}

/** `nemovideo jobs rm <job-id...>` / `--all`: forget saved jobs (and their partial downloads). */
async function remove(rt: Runtime, ids: readonly string[], all: boolean): Promise<void> {
  const { out } = rt;
  if (all && ids.length > 0) throw usageError('Give job ids or --all, not both.');
  if (!all && ids.length === 0) {
    throw usageError('Name the jobs to remove (see "nemovideo jobs"), or pass --all.');
  }
  const journal = journalOf(rt);
  const client = await rt.client();
  const targets = all ? (await journal.list()).map((e) => e.jobId) : ids;
  const removed: string[] = [];
  const missing: string[] = [];
  const running: { jobId: string; pid: number | undefined }[] = [];
  for (const jobId of targets) {
    try {
      if (await client.workflows.remove(jobId, { journal })) removed.push(jobId);
      else missing.push(jobId);
    } catch (error) {
      if (!(error instanceof JobLockedError)) throw error;
      running.push({ jobId, pid: error.pid });
    }
  }
  if (out.json) {
    out.emit({ removed, running, missing });
  } else {
    for (const jobId of removed) out.done(`Removed job ${jobId}`);
    for (const { jobId, pid } of running) {
      out.warn(
        `Job ${jobId} is running${pid !== undefined ? ` in process ${pid}` : ''}: not removed. Stop it first, or wait for it to end.`,
      );
    }
    for (const jobId of missing) {
      out.warn(`No saved job ${jobId} (see "nemovideo jobs").`);
    }
    out.result(
      removed.length === 0
        ? 'No job removed.'
        : `Removed ${removed.length} job${removed.length === 1 ? '' : 's'}.`,
    );
  }
  // A job named on the command line that is still there is a failure; --all skips running ones.
  if (!all && (missing.length > 0 || running.length > 0)) rt.exitCode = ExitCode.Usage;
}

/** `nemovideo jobs`. */
export const runList: CommandRun = (rt) => list(rt);

/** `nemovideo jobs resume <job-id>`. */
export const runResume: CommandRun = (rt, [jobId], flags) =>
  resume(rt, jobId as string, flags as unknown as JobRunFlags);

/** `nemovideo jobs rm [job-id...] [--all]`. */
export const runRemove: CommandRun = (rt, [ids], flags) =>
  remove(rt, (ids as string[] | undefined) ?? [], flags.all === true);
