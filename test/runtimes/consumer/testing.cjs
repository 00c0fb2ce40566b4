// `nemovideo/testing` from the packed tarball (CommonJS), over a loopback server.
//   node testing.cjs
const { NemoClient, toUpload } = require('nemovideo');
const { createEmulator } = require('nemovideo/testing');

async function main() {
  const emulator = createEmulator({ renderDurationMs: 30 });
  const server = await emulator.listen({ port: 0 });
  try {
    const client = new NemoClient({ baseUrl: server.url, clientIdFile: false, clientId: 'cjs' });
    const session = await client.sessions.create();
    await session.uploadUrl('https://media.example.com/city.mp4');
    await session.send('Put the uploaded video on the timeline in MP4 at 1080p');
    const result = await session.export({ pollInterval: 10 });
    // A file upload, parsed by the emulator with busboy (bundled; only it reports a hash).
    const upload = await session.upload(toUpload(new Uint8Array(4096), { filename: 'clip.mp4' }));
    const hash = upload.files[0]?.hash;
    return {
      ok:
        typeof result.url === 'string' &&
        result.url.startsWith(server.cdnUrl) &&
        /^[0-9a-f]{32}$/.test(hash ?? ''),
      url: result.url,
      uploadHash: hash,
    };
  } finally {
    await server.close();
  }
}

main().then(
  (r) => {
    console.log(`RUNTIME_RESULT ${JSON.stringify(r)}`);
    if (!r.ok) process.exitCode = 1;
  },
  (error) => {
    console.log(
      `RUNTIME_RESULT ${JSON.stringify({ ok: false, error: `${error?.name}: ${error?.message}` })}`,
    );
    process.exitCode = 1;
  },
);
