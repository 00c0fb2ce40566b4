/**
 * The chaos suite (`npm run test:reliability`): at least 200 reference
 * workflows (token → session → uploadUrl → send → state → export with
 * download) against the emulator over loopback, under random faults drawn
 * from a fixed seed. Checks, for every workflow: it ends in success or a typed
 * NemoError; a message is never accepted twice (the emulator's turn count
 * moves by at most one per send); no partial file is left; and, for the whole
 * run, no unhandled rejection and no handle left open. Prints the counts.
 *
 * `NEMO_CHAOS_SEED` and `NEMO_CHAOS_WORKFLOWS` override the seed and the count.
 */
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isNemoError, NemoClient } from '../../src/index.js';
import { createEmulator, type Emulator, type EmulatorServer } from '../../src/testing/index.js';
import { type PlannedFault, planFaults, type Step } from './faults.js';
import { Rng } from './random.js';

const SEED = Number(process.env.NEMO_CHAOS_SEED ?? 20261124);
const WORKFLOWS = Number(process.env.NEMO_CHAOS_WORKFLOWS ?? 240);
const LANES = 6;
const RESULT_BYTES = 256 * 1024;
const WORKFLOW_LIMIT_MS = 30_000;
/** A small clip some workflows upload as a file (multipart) besides the URL. */
const CLIP = 'clip.mp4';

interface Lane {
  emulator: Emulator;
  server: EmulatorServer;
}

interface Outcome {
  index: number;
  faults: PlannedFault[];
  result: string;
  /** `/run_sse` POSTs per send call, and the emulator's accepted turns per call. */
  sends: { posts: number; accepted: number }[];
  violations: string[];
  requests: number;
  /** This workflow also uploaded a file (multipart). */
  uploadedFile: boolean;
}

function laneEmulator(i: number): Emulator {
  return createEmulator({
    eventStyle: i % 2 === 0 ? 'adk' : 'typed',
    errorStatus: i % 3 === 0 ? 'semantic' : 'always-200',
    renderShape: i % 2 === 0 ? 'top-level' : 'wrapped',
    heartbeatStyle: (['comment', 'empty-data', 'typed'] as const)[i % 3] ?? 'comment',
    heartbeatMs: 50,
    renderDurationMs: 60,
    resultSizeBytes: RESULT_BYTES,
  });
}

function clientFor(lane: Lane, index: number): NemoClient {
  return new NemoClient({
    baseUrl: lane.server.url,
    clientId: `chaos-client-${index}`,
    clientIdFile: false,
    logLevel: 'off',
    timeout: 3_000,
    maxRetries: 2,
    retryTiming: { initialDelayMs: 5, maxDelayMs: 40, maxRetryAfterMs: 2_000 },
    backend: {
      rateLimitDefaultWaitMs: 10,
      turn: { recoveryFirstWaitMs: 20, recoveryIntervalMs: 20, recoveryMaxUnchangedReads: 3 },
      render: { pollIntervalMs: 10, maxPolls: 400 },
    },
  });
}

async function fileState(path: string): Promise<{ size: number; head: string } | undefined> {
  try {
    const size = (await stat(path)).size;
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(8);
      await handle.read(buffer, 0, 8, 0);
      return { size, head: buffer.subarray(4, 8).toString('latin1') };
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** One reference workflow with its planned faults. Never throws: returns its outcome. */
async function workflow(lane: Lane, index: number, dir: string): Promise<Outcome> {
  const rng = new Rng(SEED * 1000 + index);
  const faults = planFaults(rng);
  const secondMessage = rng.chance(0.3);
  const uploadFile = rng.chance(0.3);
  const { emulator } = lane;
  const outcome: Outcome = {
    index,
    faults,
    result: 'ok',
    sends: [],
    violations: [],
    requests: 0,
    uploadedFile: uploadFile,
  };
  const file = join(dir, `workflow-${index}.mp4`);
  const guard = new AbortController();
  const timer = setTimeout(() => guard.abort(new Error('workflow hung')), WORKFLOW_LIMIT_MS);
  const signal = guard.signal;
  const arm = (step: Step) => {
    for (const f of faults) if (f.before === step) f.arm(emulator);
  };
  const client = clientFor(lane, index);
  let sessionId: string | undefined;

  const send = async (message: string) => {
    const session = client.sessions.open(sessionId as string);
    const from = emulator.requests.length;
    const turnsBefore = emulator.session(session.id)?.turns ?? 0;
    try {
      await session.send(message, { signal, idleTimeout: 400, heartbeatTimeout: 700 });
    } finally {
      const posts = emulator.requests
        .slice(from)
        .filter((r) => r.method === 'POST' && r.path === '/run_sse').length;
      const accepted = (emulator.session(session.id)?.turns ?? 0) - turnsBefore;
      outcome.sends.push({ posts, accepted });
      if (accepted > 1) {
        outcome.violations.push(`message "${message}" was accepted ${accepted} times`);
      }
    }
  };

  let exported: { bytes?: number | undefined } | undefined;
  try {
    arm('session');
    const session = await client.sessions.create({ signal });
    sessionId = session.id;
    arm('upload');
    await session.uploadUrl('https://media.example.com/city.mp4', { signal });
    if (uploadFile) await session.upload(join(dir, CLIP), { signal });
    arm('send');
    await send('Put the uploaded video on the timeline in MP4 at 1080p');
    if (secondMessage) await send("Add a title 'Urban Dreams'");
    arm('state');
    await session.state({ signal });
    arm('export');
    exported = await session.export({ to: file, signal, pollInterval: 10, maxPolls: 400 });
  } catch (error) {
    if (signal.aborted) outcome.violations.push(`hung for more than ${WORKFLOW_LIMIT_MS} ms`);
    if (isNemoError(error)) outcome.result = error.name;
    else {
      outcome.result = `NOT A NemoError: ${String(error)}`;
      outcome.violations.push(`rejected with a non-NemoError: ${String(error)}`);
    }
  } finally {
    clearTimeout(timer);
  }

  // No partial file: a complete MP4 on success, nothing at all on failure.
  const written = await fileState(file);
  if (outcome.result === 'ok') {
    if (!written) outcome.violations.push('export succeeded but wrote no file');
    else if (written.size !== RESULT_BYTES || exported?.bytes !== RESULT_BYTES) {
      outcome.violations.push(
        `file of ${written.size} bytes (bytes ${exported?.bytes}), expected ${RESULT_BYTES}`,
      );
    } else if (written.head !== 'ftyp') outcome.violations.push('the file is not an MP4');
  } else if (written) {
    outcome.violations.push(`failed with ${outcome.result} but left a ${written.size}-byte file`);
  }
  outcome.requests = emulator.requests.length;
  emulator.reset();
  return outcome;
}

function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

function leaked(before: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [type, n] of activeResources()) {
    const extra = n - (before.get(type) ?? 0);
    if (extra > 0) out.push(`${extra} × ${type}`);
  }
  return out;
}

function tally<T>(items: T[], key: (item: T) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe(`chaos: ${WORKFLOWS} reference workflows under seeded faults (seed ${SEED})`, () => {
  it('ends every workflow in success or a typed NemoError, leaving nothing behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const before = activeResources();
    const dir = await mkdtemp(join(tmpdir(), 'nemo-chaos-'));
    dirs.push(dir);
    await writeFile(
      join(dir, CLIP),
      Buffer.concat([Buffer.from('00000018667479706d703432', 'hex'), Buffer.alloc(64 * 1024)]),
    );
    const started = performance.now();

    const lanes: Lane[] = [];
    for (let i = 0; i < LANES; i++) {
      const emulator = laneEmulator(i);
      lanes.push({ emulator, server: await emulator.listen({ port: 0 }) });
    }
    const outcomes: Outcome[] = [];
    await Promise.all(
      lanes.map(async (lane, l) => {
        for (let index = l; index < WORKFLOWS; index += LANES) {
          outcomes.push(await workflow(lane, index, dir));
        }
      }),
    );
    for (const lane of lanes) {
      await lane.server.close();
      await lane.emulator.close();
    }

    // Sockets of closed connections and cleared timers go away within a few turns.
    let leftOpen = leaked(before);
    for (let i = 0; i < 100 && leftOpen.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      leftOpen = leaked(before);
    }
    await new Promise((r) => setImmediate(r));
    process.off('unhandledRejection', onUnhandled);

    const stray = (await readdir(dir)).filter(
      (f) =>
        f !== CLIP && !outcomes.some((o) => o.result === 'ok' && f === `workflow-${o.index}.mp4`),
    );
    const seconds = (performance.now() - started) / 1000;
    const violations = outcomes.flatMap((o) =>
      o.violations.map(
        (v) =>
          `workflow ${o.index} [${o.faults.map((f) => f.label).join('; ') || 'no fault'}]: ${v}`,
      ),
    );
    const cleanFailures = outcomes.filter(
      (o) => o.faults.every((f) => f.kind === 'latency') && o.result !== 'ok',
    );
    const sends = outcomes.flatMap((o) => o.sends);

    const lines = [
      `chaos suite: ${outcomes.length} workflows, seed ${SEED}, ${LANES} lanes, ${seconds.toFixed(1)} s`,
      `  outcomes: ${tally(outcomes, (o) => o.result)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      `  faults injected: ${tally(
        outcomes.flatMap((o) => o.faults),
        (f) => f.kind,
      )
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
      `  fault-free workflows: ${outcomes.filter((o) => o.faults.length === 0).length}; with a file upload: ${outcomes.filter((o) => o.uploadedFile).length}`,
      `  requests served: ${outcomes.reduce((a, o) => a + o.requests, 0)}`,
      `  send calls: ${sends.length}; /run_sse POSTs: ${sends.reduce((a, s) => a + s.posts, 0)}; ` +
        `calls with a replay after a refusal: ${sends.filter((s) => s.posts > 1).length}; ` +
        `max turns accepted for one call: ${Math.max(0, ...sends.map((s) => s.accepted))}`,
      `  unhandled rejections: ${unhandled.length}; handles left open: ${leftOpen.join(', ') || 'none'}; stray files: ${stray.length}`,
      `  violations: ${violations.length}`,
      ...violations.slice(0, 20).map((v) => `    ${v}`),
    ];
    if (process.env.NEMO_CHAOS_VERBOSE) {
      for (const o of [...outcomes].sort((a, b) => a.index - b.index)) {
        if (o.result === 'ok') continue;
        lines.push(
          `  #${o.index} ${o.result} ← ${o.faults.map((f) => `${f.label} @${f.before}`).join('; ')}`,
        );
      }
    }
    console.log(lines.join('\n'));

    expect(outcomes).toHaveLength(WORKFLOWS);
    expect(violations).toEqual([]);
    expect(unhandled.map(String)).toEqual([]);
    expect(leftOpen).toEqual([]);
    expect(stray).toEqual([]);
    expect(
      cleanFailures.map((o) => `workflow ${o.index}: ${o.result}`),
      'workflows without a real fault must succeed',
    ).toEqual([]);
    // The faults must bite: some workflows succeed despite them, some fail with a typed error.
    expect(outcomes.filter((o) => o.result === 'ok' && o.faults.length > 0).length).toBeGreaterThan(
      WORKFLOWS / 10,
    );
    expect(outcomes.filter((o) => o.result !== 'ok').length).toBeGreaterThan(0);
    expect(WORKFLOWS).toBeGreaterThanOrEqual(200);
  });
});
