/**
 * The shape of a command as data (see registry.ts). Kept free of commander and of the SDK:
 * the root help is printed from these objects without loading either.
 *
 * @module
 */
import type { Runtime } from './runtime.js';

/** Thrown by a value parser when a flag or argument value is wrong; the message says what to give. */
export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/** Turns the text of a flag or argument into its value; throws {@link ArgumentError} when it is wrong. */
export type ValueParser = (value: string, previous: unknown) => unknown;

/** A positional argument, e.g. `<session-id>` or `<file-or-url...>`. */
export interface ArgumentSpec {
  /** `<name>` (required), `[name]` (optional), `…...>` (variadic). */
  name: string;
  description: string;
  parse?: ValueParser;
}

/** An option, e.g. `-o, --output <file>`. */
export interface OptionSpec {
  /** commander's flags syntax: `-o, --output <file>`, `--json`, `--no-color`. */
  flags: string;
  description: string;
  /** The value when the option is not given (shown in the help). */
  default?: unknown;
  parse?: ValueParser;
}

/**
 * What a command does, loaded only when it runs: `args` are the parsed positional arguments
 * in order (a variadic one is an array), `flags` the parsed options by camel-case name.
 */
export type CommandRun = (
  rt: Runtime,
  args: readonly unknown[],
  flags: Readonly<Record<string, unknown>>,
) => Promise<void>;

/** One command of `nemovideo`, as data. */
export interface CommandSpec {
  /** The word after `nemovideo` (or after the parent command). */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** The paragraph at the top of the command's help (default: the summary). */
  description?: string;
  arguments?: readonly ArgumentSpec[];
  options?: readonly OptionSpec[];
  /** Command lines shown under "Example:" in the command's help. */
  examples?: readonly string[];
  /**
   * Subcommands (`nemovideo session new`). With `load` too, the command itself runs when no
   * subcommand is given (`nemovideo jobs` lists, `nemovideo jobs rm` removes).
   */
  subcommands?: readonly CommandSpec[];
  /**
   * The command parses its own arguments: everything after its name reaches `run` untouched as
   * `args[0]` (a string array), `--help` included. The text is the usage shown in the list.
   */
  passThrough?: string;
  /** Loads the implementation; called only for the command that runs. */
  load?: () => Promise<CommandRun>;
}

/** `nemovideo download [options] <video-url>`: how a command appears in a list of commands. */
export function usageOf(spec: CommandSpec): string {
  if (spec.passThrough !== undefined) return spec.passThrough;
  const parts: string[] = [];
  if (spec.subcommands?.length) parts.push('<command>');
  if (spec.options?.length) parts.push('[options]');
  for (const arg of spec.arguments ?? []) parts.push(arg.name);
  return parts.join(' ');
}
