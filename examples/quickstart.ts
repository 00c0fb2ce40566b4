/**
 * Quick start: a video link → a 1080p MP4 on disk, in the SDK's reference workflow.
 *
 *   NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/quickstart.ts [video-url] [out.mp4]
 *
 * Without NEMO_API_URL it talks to the real service (NEMO_TOKEN, else a free anonymous token).
 * Start a local emulator with `npx nemovideo emulator --port 4010`.
 */

import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { NemoClient } from 'nemovideo';
import { FileTokenStore } from 'nemovideo/helpers';

const videoUrl = process.argv[2] ?? 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const output = process.argv[3] ?? 'demo-output/quickstart.mp4';

const client = new NemoClient({
  // Keep the free anonymous token between runs: the service grants one per client id at a time.
  tokenStore: new FileTokenStore(`${homedir()}/.config/nemovideo/examples-token.json`),
});
const session = await client.sessions.create();
await session.uploadUrl(videoUrl);

// The instruction is a chat turn. About 30% of turns carry no text: `summary` then says what changed.
const turn = await session.send('download this video in MP4 at 1080p');
console.log(turn.silent ? `(no reply) ${turn.summary}` : `agent: ${turn.text}`);

await mkdir(dirname(output), { recursive: true });
const result = await session.export({
  to: output,
  pollInterval: 10_000, // the service renders in 30–90 s; it documents 10 s as a poll cadence
  onProgress: (p) => console.log(`${p.stage} ${p.percent ?? '?'}%`),
});
console.log(`saved ${result.path} (${result.bytes} bytes)`);
