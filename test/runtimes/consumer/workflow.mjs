// The reference workflow, as an ESM consumer of the packed `nemovideo` tarball.
// Run by Node 20/22/24, Bun and Deno against the emulator over loopback:
//   <runtime> workflow.mjs <apiUrl> <outFile> <clipFile> <clientIdFile> <label>
// Prints one line `RUNTIME_RESULT <json>`.
import { isNemoError, NemoClient, VERSION } from 'nemovideo';
import { summarizeTimeline } from 'nemovideo/helpers';

const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const [baseUrl, out, clip, clientIdFile, label] = args;

function runtimeName() {
  if (globalThis.Deno) return `deno ${globalThis.Deno.version.deno}`;
  if (globalThis.Bun) return `bun ${globalThis.Bun.version}`;
  return `node ${process.versions.node}`;
}

try {
  const client = new NemoClient({
    baseUrl,
    clientIdFile,
    logLevel: 'warn',
    attribution: { platform: label },
    backend: { render: { pollIntervalMs: 50, maxPolls: 200 } },
  });
  const session = await client.sessions.create({ language: 'en' });
  const uploaded = await session.upload(clip);
  const byUrl = await session.uploadUrl('https://media.example.com/city.mp4');
  const turn = await session.send('Put the uploaded video on the timeline in MP4 at 1080p');
  const state = await session.state();
  const result = await session.export({ to: out, pollInterval: 50 });
  const credits = await client.credits.balance();
  console.log(
    `RUNTIME_RESULT ${JSON.stringify({
      ok: true,
      runtime: runtimeName(),
      sdk: VERSION,
      sessionId: session.id,
      uploaded: uploaded.files.length + byUrl.files.length,
      replyChars: turn.text.length,
      summary: summarizeTimeline(state.draft),
      bytes: result.bytes,
      credits: credits.available,
    })}`,
  );
} catch (error) {
  console.log(
    `RUNTIME_RESULT ${JSON.stringify({
      ok: false,
      runtime: runtimeName(),
      nemoError: isNemoError(error),
      error: `${error?.name}: ${error?.message}`,
      stack: String(error?.stack ?? '')
        .split('\n')
        .slice(0, 6)
        .join('\n'),
    })}`,
  );
  process.exitCode = 1;
}
