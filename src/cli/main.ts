import { ExitCode } from './errors.js';
import { rootHelp } from './help.js';
import { VERSION } from './version.js';

/**
 * Answers `nemovideo`, `nemovideo --help` and `nemovideo --version` from the command table,
 * without loading commander, the SDK or any command. Returns the exit code, or undefined when
 * the arguments ask for more.
 */
export function answerAtOnce(
  argv: readonly string[],
  out: { write(text: string): unknown; columns?: number | undefined },
  err: { write(text: string): unknown; columns?: number | undefined },
): number | undefined {
  if (argv.length === 0) {
    // No command: the help on stderr, as a usage error.
    err.write(rootHelp(err.columns));
    return ExitCode.Usage;
  }
  if (argv.length !== 1) return undefined;
  const [only] = argv;
  if (only === '--help' || only === '-h' || only === 'help') {
    out.write(rootHelp(out.columns));
    return ExitCode.Ok;
  }
  if (only === '--version' || only === '-V') {
    out.write(`${VERSION}\n`);
    return ExitCode.Ok;
  }
  return undefined;
}

/**
 * The process entry of `nemovideo`: wires Ctrl-C / SIGTERM to an AbortController
 * (a second Ctrl-C exits at once), runs the command and sets the exit code. The program
 * (commander and the command table's declarations) loads only when a command runs.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const quick = answerAtOnce(argv, process.stdout, process.stderr);
  if (quick !== undefined) {
    process.exitCode = quick;
    return;
  }
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write('\nInterrupted again: exiting now.\n');
      process.exit(ExitCode.Aborted);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    controller.abort(new DOMException(`Interrupted by ${signal}.`, 'AbortError'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `nemovideo … | head` closes stdout early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

  const { runCli } = await import('./program.js');
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
