/**
 * Child process of bench/batch-exports.ts: the emulator in its own process (so the batch
 * process's memory and event loop are measured alone), with a fixed render time. Prints
 * `READY <url>` once listening; stops on SIGTERM.
 */
import { createEmulator } from '../src/testing/index.js';

const renderDurationMs = Number(process.env.RENDER_MS ?? 3000);
const emulator = createEmulator({
  renderDurationMs,
  initialCredits: 1_000_000,
  heartbeatMs: 0,
  requestLogLimit: 100,
});
emulator.listen({ port: 0 }).then((server) => {
  process.stdout.write(`READY ${server.url}\n`);
  process.once('SIGTERM', () => {
    void emulator.close().then(() => process.exit(0));
  });
});
