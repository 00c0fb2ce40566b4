/**
 * Stream the agent's reply as it arrives: `for await` over `session.chat()`.
 *
 *   NEMO_API_URL=http://127.0.0.1:4010 npx tsx examples/chat-stream.ts ["your instruction"]
 */
import { homedir } from 'node:os';
import { NemoClient } from 'nemovideo';
import { FileTokenStore, summarizeTimeline } from 'nemovideo/helpers';

const instruction = process.argv[2] ?? 'add lo-fi background music';

const client = new NemoClient({
  // Keep the free anonymous token between runs: the service grants one per client id at a time.
  tokenStore: new FileTokenStore(`${homedir()}/.config/nemovideo/examples-token.json`),
});
const session = await client.sessions.create();
await session.uploadUrl('https://www.youtube.com/watch?v=dQw4w9WgXcQ');

const stream = session.chat(instruction);
let atLineStart = true;
for await (const event of stream) {
  switch (event.type) {
    case 'text':
      // Each piece of the reply exactly once, streamed or not: print it as it comes.
      process.stdout.write(event.text);
      atLineStart = event.text.endsWith('\n');
      break;
    case 'tool_call':
      if (!atLineStart) process.stdout.write('\n');
      atLineStart = true;
      console.log(`[tool] ${event.name}(${JSON.stringify(event.args)})`);
      break;
    case 'tool_result':
      console.log(`[done] ${event.name}`);
      break;
    default:
      break; // whole messages (already printed piece by piece), heartbeats, reasoning, unknown payloads
  }
}
if (!atLineStart) process.stdout.write('\n');

// The same turn, summed up: the reply text, every tool call, and whether it was silent.
const { text, toolCalls, silent } = await stream.result();
console.log(`\n${text.length} characters, ${toolCalls.length} tool calls, silent: ${silent}`);

// A silent turn (no text, only tool activity) is answered by reading the state.
const state = await session.state();
console.log(summarizeTimeline(state.draft));
