/**
 * The `nemovideo` program: commander, configured from the command table (registry.ts). Every
 * command is declared from data; only the one that runs has its implementation loaded.
 *
 * @module
 */
import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OutputConfiguration,
} from 'commander';
import { CliError, ExitCode, type ExitCodeValue } from './errors.js';
import { rootHelp } from './help.js';
import { colorAllowed, Output, type TextSink } from './output.js';
import { COMMANDS, GLOBAL_OPTIONS } from './registry.js';
import { type Env, type GlobalOptions, Runtime } from './runtime.js';
import { ArgumentError, type CommandSpec, type OptionSpec, type ValueParser } from './spec.js';
import { VERSION } from './version.js';

/** Where the CLI reads and writes: the real process, or test doubles. */
export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Env;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

/** A value parser as commander wants it: a wrong value is an InvalidArgumentError. */
function commanderParser(parse: ValueParser): (value: string, previous: unknown) => unknown {
  return (value, previous) => {
    try {
      return parse(value, previous);
    } catch (error) {
      if (error instanceof ArgumentError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

function option(spec: OptionSpec): Option {
  const o = new Option(spec.flags, spec.description);
  if (spec.default !== undefined) o.default(spec.default);
  if (spec.parse) o.argParser(commanderParser(spec.parse));
  return o;
}

/** How a usage error points at the help: the exact help command of `path`. */
function helpPointer(path: string): string {
  return `Run "${path} --help" for usage.`;
}

/** Builds the runtime of the command that runs, from its merged global options. */
type MakeRuntime = (command: Command) => Runtime;

/** How the program writes: where, and whether usage errors are JSON lines (`--json`). */
interface Writing {
  io: CliIo;
  json: boolean;
}

/**
 * Where commander writes for the command at `path`. A usage error ends with a pointer to that
 * command's help; with `--json` it is one JSON line on stderr, like every other error.
 */
function configureWriting(command: Command, path: string, { io, json }: Writing): Command {
  const output: OutputConfiguration = {
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    getOutHelpWidth: () => io.stdout.columns ?? 80,
    getErrHelpWidth: () => io.stderr.columns ?? 80,
    outputError: (text, write) => {
      if (!json) {
        write(text);
        return;
      }
      const said = text
        .replace(/^error: /, '')
        .trim()
        .replace(/\s*\n\s*/g, ' ');
      const message = `${said.endsWith('.') || said.endsWith(')') ? said : `${said}.`} ${helpPointer(path)}`;
      write(
        `${JSON.stringify({ error: { kind: 'UsageError', message, exitCode: ExitCode.Usage } })}\n`,
      );
    },
  };
  command.configureOutput(output).exitOverride();
  // With --json the pointer is inside the JSON line.
  if (!json) command.showHelpAfterError(helpPointer(path));
  return command;
}

/** Declares `spec` (and its subcommands) on `command`; the action loads the implementation. */
function declare(
  command: Command,
  spec: CommandSpec,
  path: string,
  makeRuntime: MakeRuntime,
  writing: Writing,
): void {
  configureWriting(command, path, writing)
    .summary(spec.summary)
    .description(spec.description ?? spec.summary)
    .helpOption('-h, --help', 'show help');
  if (spec.passThrough !== undefined) {
    // `nemovideo help <command>` prints this; `<command> --help` reaches the command itself.
    command
      .usage(spec.passThrough)
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[options...]')
      .configureHelp({ showGlobalOptions: false })
      .addHelpText('after', `\nIts options: run "${path} --help".`);
  }
  if (spec.subcommands?.length) command.helpCommand('help [command]', 'show the help of a command');
  for (const arg of spec.arguments ?? []) {
    if (arg.parse) command.argument(arg.name, arg.description, commanderParser(arg.parse));
    else command.argument(arg.name, arg.description);
  }
  for (const o of spec.options ?? []) command.addOption(option(o));
  if (spec.examples?.length) {
    command.addHelpText('after', `\nExample:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
  }
  for (const sub of spec.subcommands ?? []) {
    declare(command.command(sub.name), sub, `${path} ${sub.name}`, makeRuntime, writing);
  }
  const load = spec.load;
  if (load) {
    command.action(async (...params: unknown[]) => {
      // commander passes the arguments, then the options, then the command.
      const self = params.at(-1) as Command;
      const flags = params.at(-2) as Record<string, unknown>;
      const run = await load();
      await run(makeRuntime(self), params.slice(0, -2), flags);
    });
  }
}

/**
 * Builds the `nemovideo` commander program from the command table. Commands run through
 * `makeRuntime`, which gives them output, the client and the abort signal.
 */
export function buildProgram(
  io: CliIo,
  makeRuntime: MakeRuntime,
  options: { version: string; json: boolean },
): Command {
  const writing: Writing = { io, json: options.json };
  const program = configureWriting(new Command('nemovideo'), 'nemovideo', writing);
  program
    .version(options.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true });
  for (const o of GLOBAL_OPTIONS) program.addOption(option(o));
  // The root help is the one `nemovideo --help` prints without commander (help.ts).
  program.helpInformation = (context) => rootHelp((context?.error ? io.stderr : io.stdout).columns);
  for (const spec of COMMANDS) {
    declare(program.command(spec.name), spec, `nemovideo ${spec.name}`, makeRuntime, writing);
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
  const makeRuntime: MakeRuntime = (command) => {
    const globals = command.optsWithGlobals() as GlobalOptions;
    out = new Output({
      stdout: io.stdout,
      stderr: io.stderr,
      json: globals.json === true,
      quiet: globals.quiet === true,
      verbose: globals.verbose === true,
      color: colorAllowed(io.stderr, io.env, globals.color !== false),
    });
    runtime = new Runtime(out, globals, io.env, io.signal, io);
    return runtime;
  };
  // Known before parsing, so that usage errors are JSON lines too.
  const json = argv.includes('--json');
  const program = buildProgram(io, makeRuntime, { version: VERSION, json });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return runtime?.exitCode ?? ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with exit code 0; commander already printed usage errors.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const sink =
      out ??
      new Output({
        stdout: io.stdout,
        stderr: io.stderr,
        json,
        quiet: false,
        verbose: argv.includes('--verbose') || argv.includes('-v'),
        color: colorAllowed(io.stderr, io.env, !argv.includes('--no-color')),
      });
    const aborted =
      io.signal.aborted ||
      (error instanceof Error && error.name === 'AbortError' && !(error instanceof CliError));
    if (aborted && runtime) await runtime.runAbortCleanups();
    const report =
      error instanceof CliError && !aborted
        ? { exitCode: error.exitCode, kind: error.name, message: error.message }
        : // The SDK's error classes are needed only now.
          (await import('./describe.js')).describeError(
            aborted ? abortReason(io.signal, error) : error,
            runtime?.describeContext() ?? {},
          );
    sink.error(report, error);
    return report.exitCode;
  }
}

/** What an interruption is reported as: the abort, whatever error the command saw last. */
function abortReason(signal: AbortSignal, error: unknown): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === 'AbortError'
    ? reason
    : new DOMException('Aborted.', 'AbortError');
}
