import { AbortError } from '../index.js';
import { runCli } from './program.js';

/**
 * The process entry of `nemovideo`: wires Ctrl-C / SIGTERM to an AbortController
 * (a second Ctrl-C exits at once), runs the command and sets the exit code.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write('\nInterrupted again: exiting now.\n');
      process.exit(130);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    controller.abort(new AbortError(`Interrupted by ${signal}.`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `nemovideo … | head` closes stdout early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.exitCode = code;
  // Idle keep-alive sockets must not hold the process open after the work is done.
  setTimeout(() => process.exit(code), 1500).unref();
}
