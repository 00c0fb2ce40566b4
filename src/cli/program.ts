import { Command, CommanderError } from 'commander';
import { VERSION } from '../index.js';
import { registerBatch } from './commands/batch.js';
import { registerChat } from './commands/chat.js';
import { registerCredits } from './commands/credits.js';
import { registerDownload } from './commands/download.js';
import {
  EMULATOR_USAGE,
  EmulatorUsageError,
  parseEmulatorArgs,
  runEmulatorCommand,
} from './commands/emulator.js';
import { registerExport } from './commands/export.js';
import { registerMcp } from './commands/mcp.js';
import { registerSession } from './commands/session.js';
import { registerState } from './commands/state.js';
import { registerUpload } from './commands/upload.js';
import { describeError, ExitCode, type ExitCodeValue, usageError } from './errors.js';
import { colorAllowed, Output, type TextSink } from './output.js';
import { type Env, type GlobalOptions, Runtime, type RuntimeFactory } from './runtime.js';

/** Where the CLI reads and writes: the real process, or test doubles. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Env;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

/**
 * `nemovideo emulator`: its options are parsed by the emulator command itself
 * (src/cli/commands/emulator.ts), so they are passed through untouched.
 */
function registerEmulator(program: Command, runtime: RuntimeFactory, io: CliIo): void {
  program
    .command('emulator')
    .summary('run the offline NemoVideo emulator (API + CDN) on loopback until Ctrl-C')
    .description('Run the NemoVideo emulator (API + CDN) on loopback until Ctrl-C.')
    .usage('[--port N] [options]')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[options...]')
    .addHelpText('after', `\n${EMULATOR_USAGE.slice(EMULATOR_USAGE.indexOf('Options:'))}`)
    .action(async (args: string[], _flags: unknown, cmd: Command) => {
      const rt = runtime(cmd);
      let options: ReturnType<typeof parseEmulatorArgs>;
      try {
        options = parseEmulatorArgs(args);
      } catch (error) {
        if (error instanceof EmulatorUsageError)
          throw usageError(`${error.message}. Run "nemovideo emulator --help".`);
        throw error;
      }
      if (options === 'help') {
        io.stdout.write(EMULATOR_USAGE);
        return;
      }
      rt.exitCode = (await runEmulatorCommand(options, {
        stdout: io.stdout,
        stderr: io.stderr,
        signal: rt.signal,
      })) as ExitCodeValue;
    });
}

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    unexpected error (a bug; rerun with --verbose and report it)
  2    usage: bad option or argument, bad URL, missing or unsupported file
  3    the service refused or failed: no credits, plan limit (402), unknown session, failed render
  4    network: the service could not be reached, the connection broke, or a time limit ran out
  130  aborted (Ctrl-C)

Environment:
  NEMO_API_URL     API origin (like --api-url)
  NEMO_TOKEN       bearer token (like --token); without one, a free anonymous token is
                   obtained once and cached (0600) in ~/.config/nemovideo/token.json
  NEMO_CONFIG_DIR  where the client id and token cache live (default ~/.config/nemovideo)
  NEMO_CLIENT_ID   client id sent when requesting an anonymous token
  NO_COLOR         disable colors

Documentation: https://github.com/nemovideo/nemovideo/blob/main/docs/cli.md`;

/**
 * Builds the `nemovideo` commander program. Commands run through `factory`, which
 * gives them output, the client and the abort signal.
 */
export function buildProgram(io: CliIo, makeRuntime: (globals: GlobalOptions) => Runtime): Command {
  const program = new Command('nemovideo');
  program
    .description(
      'NemoVideo from the command line: turn a video link into an edited MP4, chat with the editing agent, upload, render and download.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // The SDK reads NEMO_API_URL and NEMO_TOKEN itself when these are not given, so it can
    // tell where the token came from.
    .option('--api-url <url>', 'API origin (default: NEMO_API_URL, else production)')
    .option(
      '--token <token>',
      'bearer token (default: NEMO_TOKEN, else a free anonymous token, cached)',
    )
    .option('--json', 'machine-readable output on stdout (NDJSON events for chat)')
    .option('-q, --quiet', 'print only the result and errors')
    .option('-v, --verbose', 'debug log (credentials redacted) and stack traces on errors')
    .option('--no-color', 'disable colors (NO_COLOR is honoured too)')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const factory: RuntimeFactory = (command) => makeRuntime(command.optsWithGlobals());
  registerDownload(program, factory);
  registerBatch(program, factory);
  registerSession(program, factory);
  registerUpload(program, factory);
  registerChat(program, factory);
  registerState(program, factory);
  registerExport(program, factory);
  registerCredits(program, factory);
  registerEmulator(program, factory, io);
  registerMcp(program, factory);

  // Subcommands report usage errors the same way as the program.
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Runs the CLI with `argv` (the arguments after the executable and script) and
 * resolves with the exit code. Never throws; never calls `process.exit`.
 *
 * @example
 * ```ts
 * const code = await runCli(['credits', '--json'], { stdout: process.stdout, stderr: process.stderr, env: process.env, signal });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCodeValue> {
  let runtime: Runtime | undefined;
  let out: Output | undefined;
  const makeRuntime = (globals: GlobalOptions): Runtime => {
    out = new Output({
      stdout: io.stdout,
      stderr: io.stderr,
      json: globals.json === true,
      quiet: globals.quiet === true,
      verbose: globals.verbose === true,
      color: colorAllowed(io.stderr, io.env, globals.color !== false),
    });
    runtime = new Runtime(out, globals, io.env, io.signal);
    return runtime;
  };
  const program = buildProgram(io, makeRuntime);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return runtime?.exitCode ?? ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exit code 0; commander already printed usage errors.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const report = describeError(error, runtime?.context ?? {});
    const aborted = report.exitCode === ExitCode.Aborted || io.signal.aborted;
    if (aborted && runtime) await runtime.runAbortCleanups();
    const sink =
      out ??
      new Output({
        stdout: io.stdout,
        stderr: io.stderr,
        json: argv.includes('--json'),
        quiet: false,
        verbose: argv.includes('--verbose') || argv.includes('-v'),
        color: colorAllowed(io.stderr, io.env, !argv.includes('--no-color')),
      });
    if (aborted) {
      sink.error({ exitCode: ExitCode.Aborted, kind: 'Aborted', message: 'Aborted.' });
      return ExitCode.Aborted;
    }
    sink.error(report, error);
    return report.exitCode;
  }
}
