// The reference workflow as a CommonJS consumer of the packed `nemovideo` tarball.
//   node workflow.cjs <apiUrl> <outFile> <clipFile> <clientIdFile> <label>
const { isNemoError, NemoClient, VERSION } = require('nemovideo');
const { summarizeTimeline } = require('nemovideo/helpers');

const [baseUrl, out, clip, clientIdFile, label] = process.argv.slice(2);

async function main() {
  const client = new NemoClient({
    baseUrl,
    clientIdFile,
    logLevel: 'warn',
    attribution: { platform: label },
    backend: { render: { pollIntervalMs: 50, maxPolls: 200 } },
  });
  const session = await client.sessions.create();
  const uploaded = await session.upload(clip);
  await session.uploadUrl('https://media.example.com/city.mp4');
  const turn = await session.send('Put the uploaded video on the timeline in MP4 at 1080p');
  const state = await session.state();
  const result = await session.export({ to: out, pollInterval: 50 });
  return {
    ok: true,
    runtime: `node ${process.versions.node} (cjs)`,
    sdk: VERSION,
    sessionId: session.id,
    uploaded: uploaded.files.length,
    replyChars: turn.text.length,
    summary: summarizeTimeline(state.draft),
    bytes: result.bytes,
  };
}

main().then(
  (result) => console.log(`RUNTIME_RESULT ${JSON.stringify(result)}`),
  (error) => {
    console.log(
      `RUNTIME_RESULT ${JSON.stringify({
        ok: false,
        nemoError: isNemoError(error),
        error: `${error?.name}: ${error?.message}`,
      })}`,
    );
    process.exitCode = 1;
  },
);
