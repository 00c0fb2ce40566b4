/**
 * `nemovideo emulator` in the CLI: hands the arguments to the emulator command
 * (commands/emulator.ts parses them itself) and reports its usage errors like the others.
 *
 * @module
 */
import { type ExitCodeValue, usageError } from '../errors.js';
import type { CommandRun } from '../spec.js';
import {
  EMULATOR_USAGE,
  EmulatorUsageError,
  parseEmulatorArgs,
  runEmulatorCommand,
} from './emulator.js';

/** Runs the emulator until Ctrl-C; its exit code (2 for a port in use) becomes the CLI's. */
export const run: CommandRun = async (rt, [args]) => {
  let options: ReturnType<typeof parseEmulatorArgs>;
  try {
    options = parseEmulatorArgs(args as string[]);
  } catch (error) {
    if (error instanceof EmulatorUsageError) {
      throw usageError(`${error.message}. Run "nemovideo emulator --help" for usage.`);
    }
    throw error;
  }
  if (options === 'help') {
    rt.io.stdout.write(EMULATOR_USAGE);
    return;
  }
  rt.exitCode = (await runEmulatorCommand(options, {
    stdout: rt.io.stdout,
    stderr: rt.io.stderr,
    signal: rt.signal,
  })) as ExitCodeValue;
};
