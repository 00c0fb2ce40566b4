/**
 * `nemovideo batch <file>`: the durable export workflow over every line of a
 * list file, a bounded number at a time, with a credit check first and a
 * summary at the end. See docs/cli.md.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { BatchItem, BatchProgress, ExportJob, JobJournal } from '../../helpers.js';
import type { NemoClient } from '../../index.js';
import { describeError } from '../describe.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { formatBytes, oneLine } from '../format.js';
import type { TextSink } from '../output.js';
import { QUALITIES } from '../parse.js';
import type { Runtime } from '../runtime.js';
import type { CommandRun } from '../spec.js';
import { type BatchLine, parseBatchFile } from './batch-file.js';
import { pollIntervalMs } from './common.js';
import { defaultPrompt } from './download.js';

/** Options of `nemovideo batch`. */
export interface BatchFlags {
  concurrency: number;
  outDir?: string | undefined;
  prompt?: string | undefined;
  quality: string;
  language?: string | undefined;
  pollInterval?: number | undefined;
  maxWait: number;
  fresh?: boolean | undefined;
  yes?: boolean | undefined;
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

/** `name` in `width` columns: the end of a longer one (the file name is what tells jobs apart). */
function barLabel(name: string, width: number): string {
  return name.length <= width ? name.padEnd(width) : `…${name.slice(-(width - 1))}`;
}

/** An item of the batch as the command follows it. */
interface Tracked {
  line: BatchLine;
  job: ExportJob;
  name: string;
  /** What the item does now, for the bar ("rendering 40 %"). */
  doing: string;
  /** Overall progress 0–100 across the steps. */
  percent: number;
  /** The last step printed as a line (plain output prints each change once). */
  lastLine: string;
}

/**
 * How far along a job is, 0–100, and what it is doing: the session and uploads
 * are quick, the turn and the render take most of the time, the download ends it.
 */
function describeProgress(p: BatchProgress): { percent: number; doing: string } {
  const fraction = (loaded: number, total: number | undefined) =>
    total && total > 0 ? Math.min(1, loaded / total) : 0;
  switch (p.step) {
    case 'session':
      return { percent: 5, doing: p.resumed ? 'session (resumed)' : 'session' };
    case 'upload':
      return p.done
        ? { percent: 15, doing: 'uploaded' }
        : {
            percent: 5 + 10 * fraction(p.progress?.loadedBytes ?? 0, p.progress?.totalBytes),
            doing: 'uploading',
          };
    case 'message':
      return p.done ? { percent: 40, doing: 'edited' } : { percent: 20, doing: 'asking the agent' };
    case 'render':
      return { percent: 40 + 0.4 * p.percent, doing: `rendering ${Math.floor(p.percent)}%` };
    case 'download':
      return {
        percent: 80 + 20 * fraction(p.loadedBytes, p.totalBytes),
        doing: 'downloading',
      };
  }
}

/** The step a plain line reports (one line each time it changes). */
function stepLine(p: BatchProgress): string | undefined {
  switch (p.step) {
    case 'session':
      return `session ${p.sessionId}${p.resumed ? ' (resumed)' : ''}`;
    case 'upload':
      return p.done
        ? `uploaded ${oneLine(p.input, 80)}${p.resumed ? ' (resumed)' : ''}`
        : undefined;
    case 'message':
      return p.done
        ? `edited${p.resumed ? ' (resumed)' : ''}${p.summary ? `: ${oneLine(p.summary, 100)}` : ''}`
        : 'asking the agent';
    case 'render':
      return `rendering (render ${p.renderId})`;
    case 'download':
      return 'downloading';
  }
}

/**
 * One bar per job in flight, redrawn in place below the lines already printed
 * (at most ten times a second). Lines printed while it is drawn go above it.
 */
class LiveBoard {
  readonly #sink: TextSink;
  readonly #rows: () => string[];
  #drawn = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(sink: TextSink, rows: () => string[]) {
    this.#sink = sink;
    this.#rows = rows;
    this.#timer = setInterval(() => this.draw(), 100);
    this.#timer.unref?.();
  }

  #erase(): string {
    return this.#drawn > 0 ? `\u001b[${this.#drawn}A\r\u001b[J` : '\r\u001b[J';
  }

  draw(): void {
    const width = Math.max(20, (this.#sink.columns ?? 80) - 1);
    const rows = this.#rows().map((row) => (row.length > width ? row.slice(0, width) : row));
    this.#sink.write(`${this.#erase()}${rows.map((r) => `${r}\n`).join('')}`);
    this.#drawn = rows.length;
  }

  log(line: string): void {
    this.#sink.write(`${this.#erase()}${line}\n`);
    this.#drawn = 0;
    this.draw();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sink.write(this.#erase());
    this.#drawn = 0;
  }
}

/** Jobs that will send a message (neither done nor sent by an earlier run), from the journal. */
async function jobsToPay(client: NemoClient, tracked: Tracked[], fresh: boolean): Promise<number> {
  if (fresh) return tracked.length;
  let journal: JobJournal | undefined;
  try {
    journal = await client.workflows.journal();
  } catch {
    return tracked.length;
  }
  let count = 0;
  for (const item of tracked) {
    const record = await journal
      .load(await client.workflows.jobId(item.job))
      .catch(() => undefined);
    const paid = record?.status === 'done' || record?.steps.message !== undefined;
    if (!paid) count += 1;
  }
  return count;
}

/** Stop (unless `--yes`) when the balance cannot pay for every job that will be edited. */
async function checkCredits(
  rt: Runtime,
  client: NemoClient,
  tracked: Tracked[],
  flags: BatchFlags,
) {
  const { out, signal } = rt;
  const price = client.backend.costs.editSession;
  const toPay = await jobsToPay(client, tracked, flags.fresh === true);
  if (toPay === 0 || price <= 0) return;
  const { available } = await client.credits.balance({ signal });
  const affordable = Math.floor(available / price);
  if (affordable >= toPay) {
    out.detail(
      `${toPay} job(s) to edit at about ${price} credits each; ${available} credits available`,
    );
    return;
  }
  const userId = client.anonymousGrant?.userId;
  const more = userId
    ? `register at ${client.backend.registerUrl(userId, client.backend.webUrl)} to add credits to this anonymous account`
    : `add credits to your account at ${client.backend.webUrl}`;
  const message =
    `This batch edits ${toPay} video(s) at about ${price} credits each (${toPay * price} credits); ` +
    `${available} credits are available, enough for ${affordable}. To get more, ${more}, or pass a token that has credits (--token / NEMO_TOKEN).`;
  if (flags.yes) {
    out.warn(`${message} Starting anyway (--yes): the jobs beyond the balance will fail.`);
    return;
  }
  throw new CliError(`${message} Run with --yes to start anyway, or split the list.`, ExitCode.Api);
}

/** The end of one job, as `--json` prints it. */
function itemJson(item: BatchItem, tracked: Tracked, rt: Runtime) {
  const base = {
    line: tracked.line.line,
    inputs: tracked.job.inputs,
    output: tracked.job.to,
    status: item.status,
    jobId: item.jobId ?? null,
  };
  if (item.status === 'failed') {
    const report = describeError(item.error, rt.context);
    return { ...base, error: { kind: report.kind, message: report.message } };
  }
  const r = item.result;
  return {
    ...base,
    path: r.path,
    bytes: r.bytes,
    sessionId: r.sessionId,
    renderId: r.renderId,
    resumedSteps: r.resumedSteps,
  };
}

/** The summary table: one row per job, failures with their reason. */
function summaryTable(items: (BatchItem | undefined)[], tracked: Tracked[], rt: Runtime): string {
  const rows = tracked.map((t, i) => {
    const item = items[i];
    const status = item?.status ?? 'not run';
    const detail =
      item === undefined
        ? 'interrupted: run the same command again to resume'
        : item.status === 'failed'
          ? `${item.error.name}: ${oneLine(describeError(item.error, rt.context).message, 160)}`
          : item.status === 'skipped'
            ? `already exported (${formatBytes(item.result.bytes)})`
            : formatBytes(item.result.bytes);
    return [String(t.line.line), status, displayPath(t.job.to), detail];
  });
  const header = ['LINE', 'STATUS', 'OUTPUT', 'DETAIL'];
  const widths = header.map((h, c) =>
    Math.min(60, Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length))),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const count = (s: string) => items.filter((item) => item?.status === s).length;
  const notRun = tracked.length - items.filter(Boolean).length;
  const title =
    `Batch: ${count('done')} done, ${count('skipped')} skipped, ${count('failed')} failed` +
    `${notRun > 0 ? `, ${notRun} not run` : ''} (${tracked.length} job${tracked.length === 1 ? '' : 's'})`;
  return [title, format(header), ...rows.map(format)].join('\n');
}

/**
 * Run `nemovideo batch`: parse and check the list, check the credits, run the
 * jobs, print the summary. Sets the exit code: 0 only when every job is done
 * or was already done.
 */
export async function runBatch(rt: Runtime, file: string, flags: BatchFlags): Promise<void> {
  const { out, signal } = rt;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      code === 'ENOENT'
        ? `File not found: ${file}. Give a list with one video link or file path per line.`
        : `Could not read ${file}: ${(error as Error).message}.`,
    );
  }
  const client = await rt.client();
  const outDir = resolve(flags.outDir ?? '.');
  const { items: lines, problems } = await parseBatchFile(text, {
    outDir,
    cwd: process.cwd(),
    acceptedFormats: client.backend.acceptedFormats,
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((p) => `  ${file}:${p.line}: ${p.message}`);
    if (problems.length > 20) shown.push(`  … and ${problems.length - 20} more`);
    throw usageError(
      `${file} has ${problems.length} line(s) that cannot run; nothing was started:\n${shown.join('\n')}`,
    );
  }
  if (lines.length === 0) {
    throw usageError(
      `${file} lists no video: give one link or file path per line (blank lines and # comments are skipped).`,
    );
  }

  const quality = QUALITIES[flags.quality] ?? 'high';
  const tracked: Tracked[] = lines.map((line) => {
    const job: ExportJob = {
      inputs: line.inputs,
      prompt: line.prompt ?? flags.prompt ?? defaultPrompt(flags.quality),
      to: line.output,
      quality,
    };
    if (flags.language !== undefined) job.language = flags.language;
    return {
      line,
      job,
      name: displayPath(line.output),
      doing: 'waiting',
      percent: 0,
      lastLine: '',
    };
  });
  for (const dir of new Set(tracked.map((t) => dirname(t.job.to)))) {
    await mkdir(dir, { recursive: true });
  }

  await checkCredits(rt, client, tracked, flags);
  out.stage(
    `Exporting ${tracked.length} video(s), ${Math.min(flags.concurrency, tracked.length)} at a time, to ${displayPath(outDir) || '.'}`,
  );

  // Progress: one bar per job in flight on a terminal; one line per step change otherwise.
  const active = new Set<number>();
  const sink = out.liveSink();
  const board = sink
    ? new LiveBoard(sink, () =>
        [...active].map((i) => {
          const t = tracked[i] as Tracked;
          const size = 20;
          const filled = Math.round((t.percent / 100) * size);
          const bar = `${'█'.repeat(filled)}${'░'.repeat(size - filled)}`;
          return `  ${barLabel(t.name, 24)} ${out.dim(bar)} ${String(Math.floor(t.percent)).padStart(3)}% ${t.doing}`;
        }),
      )
    : undefined;
  const say = (line: string) => (board ? board.log(line) : out.detail(line));
  const label = (t: Tracked) => `[line ${t.line.line}] ${t.name}`;

  const settled: (BatchItem | undefined)[] = new Array(tracked.length);
  const interval = pollIntervalMs(client.baseUrl, {
    quality: flags.quality,
    maxWait: flags.maxWait,
    pollInterval: flags.pollInterval,
  });
  try {
    await client.batch.export(
      tracked.map((t) => t.job),
      {
        concurrency: flags.concurrency,
        signal,
        fresh: flags.fresh === true,
        pollInterval: interval,
        maxWait: flags.maxWait * 1000,
        onProgress: (p) => {
          const t = tracked[p.index] as Tracked;
          active.add(p.index);
          const now = describeProgress(p);
          t.percent = Math.max(t.percent, now.percent);
          t.doing = now.doing;
          const line = stepLine(p);
          if (!board && line !== undefined && line !== t.lastLine) {
            t.lastLine = line;
            say(`${label(t)}: ${line}`);
          }
        },
        onItem: (item) => {
          const t = tracked[item.index] as Tracked;
          settled[item.index] = item;
          active.delete(item.index);
          if (out.json) {
            out.emit(itemJson(item, t, rt));
            return;
          }
          if (item.status === 'failed') {
            const report = describeError(item.error, rt.context);
            if (report.exitCode === ExitCode.Aborted) return;
            say(`✗ ${label(t)}: ${oneLine(report.message, 200)}`);
          } else if (item.status === 'skipped') {
            say(`• ${label(t)}: already exported`);
          } else {
            say(`✓ ${label(t)} (${formatBytes(item.result.bytes)})`);
          }
        },
      },
    );
  } catch (error) {
    board?.stop();
    if (!out.json) out.result(summaryTable(settled, tracked, rt));
    throw error;
  }
  board?.stop();
  if (!out.json) out.result(summaryTable(settled, tracked, rt));
  const firstFailure = settled.find((item) => item?.status === 'failed');
  if (firstFailure?.status === 'failed') {
    rt.exitCode = describeError(firstFailure.error, rt.context).exitCode;
    out.warn(
      'Some jobs failed. Fix what the table says and run the same command again: finished jobs are skipped, the others resume.',
    );
  }
}

/** `nemovideo batch <file>`. */
export const run: CommandRun = (rt, [file], flags) =>
  runBatch(rt, file as string, flags as unknown as BatchFlags);
