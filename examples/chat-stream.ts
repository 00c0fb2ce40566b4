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
let streamed = false; // true while a run of partial deltas is being printed
for await (const event of stream) {
  switch (event.type) {
    case 'text':
      // Text streams as `partial` deltas, then the whole message once more (not partial):
      // print the deltas, or the whole message when it came without deltas.
      if (event.partial) {
        process.stdout.write(event.text);
        streamed = true;
      } else {
        if (!streamed) process.stdout.write(event.text);
        process.stdout.write('\n');
        streamed = false;
      }
      break;
    case 'tool_call':
      console.log(`[tool] ${event.name}(${JSON.stringify(event.args)})`);
      break;
    case 'tool_result':
      console.log(`[done] ${event.name}`);
      break;
    default:
      break; // heartbeats, reasoning, unknown payloads
  }
}

// The same turn, summed up: the text counted once, every tool call, and whether it was silent.
const { text, toolCalls, silent } = await stream.result();
console.log(`\n${text.length} characters, ${toolCalls.length} tool calls, silent: ${silent}`);

// A silent turn (no text, only tool activity) is answered by reading the state.
const state = await session.state();
console.log(summarizeTimeline(state.draft));
