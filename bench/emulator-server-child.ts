/**
 * Child process of bench/emulator-upload-rss.ts: runs the emulator's standalone server and
 * prints `READY <url>` once listening. Stops on SIGTERM.
 */
import { createEmulator } from '../src/testing/index.js';

const emulator = createEmulator();
emulator.listen({ port: 0 }).then((server) => {
  process.stdout.write(`READY ${server.url}\n`);
  process.once('SIGTERM', () => {
    void emulator.close().then(() => process.exit(0));
  });
});
