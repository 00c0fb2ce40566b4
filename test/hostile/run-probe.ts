/**
 * Runs test/hostile/probe.ts in a child process and returns its result.
 * A folder can be given its own mount (a read-only or a tiny tmpfs) in a
 * private mount namespace (`unshare`), so no root is needed and nothing
 * outside the child sees it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProbeResult } from './probe.js';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the parent stopped the child for growing past `giveUpMB`. */
  stopped?: { growthMB: number; baselineMB: number; ms: number };
}

const MiB = 1 << 20;

/** The child's resident set size from /proc (Linux), in bytes; undefined elsewhere. */
function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Run a command. With `giveUpMB`, watch the child's RSS from the moment it
 * prints its baseline (`{"baselineRss":…}`) and kill it once it grew by more:
 * an unbounded read is then shown in seconds, even while the child's own
 * event loop is blocked in a huge synchronous step.
 */
function run(command: string, args: string[], limitMs: number, giveUpMB?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NEMO_TOKEN: '', NEMO_API_URL: '', NEMO_CLIENT_ID: '' },
    });
    let stdout = '';
    let stderr = '';
    let baseline: { rss: number; at: number } | undefined;
    let stopped: Run['stopped'];
    let peak = 0;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!baseline) {
        const match = /\{"baselineRss":(\d+)\}/.exec(stdout);
        if (match) baseline = { rss: Number(match[1]), at: performance.now() };
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const watch =
      giveUpMB === undefined
        ? undefined
        : setInterval(() => {
            if (!baseline || child.pid === undefined || stopped) return;
            peak = Math.max(peak, rssOf(child.pid) ?? 0);
            const growth = peak - baseline.rss;
            if (growth > giveUpMB * MiB) {
              stopped = {
                growthMB: Math.round(growth / MiB),
                baselineMB: Math.round(baseline.rss / MiB),
                ms: Math.round(performance.now() - baseline.at),
              };
              child.kill('SIGKILL');
            }
          }, 25);
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (watch) clearInterval(watch);
      resolve({ code, stdout, stderr, ...(stopped ? { stopped } : {}) });
    });
  });
}

function parse(result: Run): ProbeResult | undefined {
  const line = result.stdout.trim().split('\n').at(-1);
  if (!line?.startsWith('{"scenario"')) return undefined;
  return JSON.parse(line) as ProbeResult;
}

const probeArgs = (scenario: string, folder: string) => [
  '--import',
  'tsx',
  PROBE,
  scenario,
  folder,
];

/**
 * Growth past which a memory probe is stopped: far above any bound the tests
 * assert (200 MB), so an unbounded SDK shows as such within seconds.
 * HOSTILE_PROBE_GIVE_UP_MB=0 lets it run to the end (for the full figure).
 */
const GIVE_UP_MB = Number(process.env.HOSTILE_PROBE_GIVE_UP_MB ?? 400);

/** Run `scenario` with `folder` as its working folder; throws with the child's output if it printed no result. */
export async function runProbe(
  scenario: string,
  folder: string,
  limitMs = 25_000,
): Promise<ProbeResult> {
  const result = await run(
    process.execPath,
    probeArgs(scenario, folder),
    limitMs,
    GIVE_UP_MB > 0 ? GIVE_UP_MB : undefined,
  );
  if (result.stopped) {
    return {
      scenario,
      ...result.stopped,
      servedMB: Number.NaN,
      outcome: {
        ok: false,
        name: 'ProbeStopped',
        message: `grew by more than ${GIVE_UP_MB} MB; stopped`,
      },
      timedOut: false,
      stopped: true,
      extra: {},
    };
  }
  const parsed = parse(result);
  if (!parsed) {
    throw new Error(
      `probe ${scenario} printed no result (exit ${result.code}): ${result.stderr.slice(-2000)}`,
    );
  }
  return parsed;
}

export type FolderMount =
  /** a read-only tmpfs */
  | 'read-only'
  /** a 256 KiB tmpfs (a full disk); else a 256 KiB file size limit (EFBIG) */
  | 'tiny';

/**
 * Run `scenario` with `folder` mounted as `mount` inside the child only.
 * Tries an unprivileged user+mount namespace, then a mount namespace (root);
 * for `tiny`, falls back to a file size limit (`ulimit -f`, EFBIG). Returns
 * the result and how the folder was prepared.
 */
export async function runProbeOnMount(
  scenario: string,
  folder: string,
  mount: FolderMount,
  limitMs = 25_000,
): Promise<{ result: ProbeResult; how: string }> {
  const options = mount === 'read-only' ? 'ro,size=64k' : 'size=256k';
  // $0 = node, $1 = folder, $2 = probe.ts, $3 = scenario.
  const positional = [process.execPath, folder, PROBE, scenario];
  const probe = 'exec "$0" --import tsx "$2" "$3" "$1"';
  const mounted = `mount -t tmpfs -o ${options} tmpfs "$1" || exit 97; ${probe}`;
  const attempts: Array<{ how: string; command: string; args: string[] }> = [
    {
      how: 'unshare -Urm, tmpfs',
      command: 'unshare',
      args: ['-Urm', 'sh', '-c', mounted, ...positional],
    },
    {
      how: 'unshare -m, tmpfs',
      command: 'unshare',
      args: ['-m', 'sh', '-c', mounted, ...positional],
    },
  ];
  if (mount === 'read-only' && process.getuid?.() !== 0) {
    // Without namespaces, a folder without write permission (root would ignore it).
    attempts.push({
      how: 'chmod 555',
      command: 'sh',
      args: ['-c', `chmod 555 "$1" || exit 97; ${probe}`, ...positional],
    });
  }
  if (mount === 'tiny') {
    attempts.push({
      how: 'ulimit -f (EFBIG)',
      command: 'sh',
      args: ['-c', `ulimit -f 512 || exit 97; ${probe}`, ...positional],
    });
  }
  const failures: string[] = [];
  for (const attempt of attempts) {
    const result = await run(attempt.command, attempt.args, limitMs);
    const parsed = parse(result);
    if (parsed) return { result: parsed, how: attempt.how };
    failures.push(`${attempt.how}: exit ${result.code} ${result.stderr.slice(-600)}`);
  }
  throw new Error(`could not prepare a ${mount} folder here:\n${failures.join('\n')}`);
}
