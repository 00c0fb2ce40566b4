/**
 * Every test gets its own empty config folder (NEMO_CONFIG_DIR), so the client
 * id and the tokens the SDK persists by default never leak from one test to
 * another, nor into the developer's ~/.config/nemovideo. A test may set its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

let dir: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nemo-config-'));
  process.env.NEMO_CONFIG_DIR = dir;
});
afterEach(() => {
  delete process.env.NEMO_CONFIG_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});
