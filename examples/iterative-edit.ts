/**
 * Iterative edit: a rough cut, inspect the timeline, refine it turn by turn, then export.
 *
 *   NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/iterative-edit.ts
 */

import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { NemoClient } from 'nemovideo';
import { diffTimelines, FileTokenStore, summarizeTimeline } from 'nemovideo/helpers';

const client = new NemoClient({
  // Keep the free anonymous token between runs: the service grants one per client id at a time.
  tokenStore: new FileTokenStore(`${homedir()}/.config/nemovideo/examples-token.json`),
});
const session = await client.sessions.create();
await session.uploadUrl('https://www.youtube.com/watch?v=dQw4w9WgXcQ');

// 1. Rough cut.
await session.send('put this video on the timeline as a 1080p MP4 rough cut');
let state = await session.state();
console.log(`rough cut  → ${summarizeTimeline(state.draft)}`);

// 2. Refine: each turn reports what changed (`stateCheck: 'always'` reads the state around it).
for (const instruction of [
  'add a title "Urban Dreams" for the first 3 seconds',
  'add lo-fi background music at 35% volume',
]) {
  const turn = await session.send(instruction, { stateCheck: 'always' });
  console.log(`${instruction}\n  → ${turn.summary}`);
}

// 3. Inspect the result, compare it with the rough cut.
const before = state.draft;
state = await session.state();
console.log(`final      → ${summarizeTimeline(state.draft)}`);
console.log(`since the rough cut: ${diffTimelines(before, state.draft).summary}`);
for (const track of state.draft?.tracks ?? []) {
  console.log(`  ${track.kind} track, ${track.segments.length} segment(s)`);
}

// 4. Export.
await mkdir('demo-output', { recursive: true });
const result = await session.export({ to: 'demo-output/iterative-edit.mp4', pollInterval: 10_000 });
console.log(`saved ${result.path}`);
