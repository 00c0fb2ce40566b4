/**
 * `npm run demo`: the seed's headline job, offline. Builds if needed, starts the emulator on
 * a free port, runs
 *
 *   nemovideo download https://www.youtube.com/watch?v=dQw4w9WgXcQ -o demo-output/video.mp4
 *
 * against it, and checks that the file is a valid MP4 (its boxes, and ffprobe when installed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { formatBytes, formatDuration } from '../src/cli/format.js';
import { probeMp4 } from '../src/cli/mp4.js';
import { BIN, bold, childEnv, ensureBuilt, green, ROOT, red, startEmulator } from './lib.js';

const VIDEO_URL = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const OUTPUT = join(ROOT, 'demo-output', 'video.mp4');

function ffprobe(file: string): string | undefined {
  const result = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,codec_name,width,height:format=format_name,duration',
      '-of',
      'json',
      file,
    ],
    { encoding: 'utf8' },
  );
  if (result.error) return undefined; // not installed
  if (result.status !== 0) throw new Error(`ffprobe rejected ${file}: ${result.stderr.trim()}`);
  const info = JSON.parse(result.stdout) as {
    streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number }>;
    format?: { format_name?: string; duration?: string };
  };
  const streams = (info.streams ?? []).map((s) =>
    s.codec_type === 'video' ? `${s.codec_name} ${s.width}x${s.height}` : `${s.codec_name}`,
  );
  return `${streams.join(' + ')}, ${Number(info.format?.duration ?? 0).toFixed(2)} s (${info.format?.format_name})`;
}

async function main(): Promise<number> {
  console.log(
    bold('nemovideo demo: a video link → an MP4 on disk, against the offline emulator\n'),
  );
  ensureBuilt();
  const emulator = await startEmulator();
  const home = mkdtempSync(join(tmpdir(), 'nemovideo-demo-'));
  try {
    console.log(`${bold('›')} Emulator listening on ${emulator.url}`);
    const args = ['download', VIDEO_URL, '-o', relative(ROOT, OUTPUT)];
    console.log(`${bold('›')} NEMO_API_URL=${emulator.url} nemovideo ${args.join(' ')}\n`);
    const code = await new Promise<number>((resolveRun) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: ROOT,
        env: childEnv(emulator.url, home),
        stdio: 'inherit',
      });
      child.once('exit', (exitCode, signal) => resolveRun(exitCode ?? (signal ? 130 : 1)));
    });
    if (code !== 0) {
      console.error(red(`\nnemovideo download failed with exit code ${code}.`));
      return code;
    }

    const probe = await probeMp4(OUTPUT);
    if (!probe.valid) {
      console.error(red(`\n${OUTPUT} is not a valid MP4: ${probe.problem}.`));
      return 1;
    }
    console.log(
      `\n${green('✓')} ${relative(ROOT, OUTPUT)} is a valid MP4: ${formatBytes(probe.sizeBytes)}, ` +
        `${formatDuration(probe.durationSec ?? 0)}, ${probe.tracks} tracks, boxes ${probe.boxes.join(' ')}, ` +
        `brands ${[probe.majorBrand, ...probe.compatibleBrands].join('/')}`,
    );
    const probed = ffprobe(OUTPUT);
    console.log(
      probed
        ? `${green('✓')} ffprobe: ${probed}`
        : '  (ffprobe is not installed: skipped the decoder check)',
    );
    return 0;
  } finally {
    await emulator.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(red(`demo failed: ${error instanceof Error ? error.message : String(error)}`));
    process.exitCode = 1;
  },
);
