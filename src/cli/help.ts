/**
 * The help of `nemovideo` itself, printed from the command table without loading commander,
 * the SDK or any command (so `nemovideo --help` costs little more than starting Node).
 * program.ts prints the same text when commander asks for the root help.
 *
 * @module
 */
import { COMMANDS, GLOBAL_OPTIONS } from './registry.js';
import { usageOf } from './spec.js';

/** Where the CLI reference lives (absolute: the npm package has no docs/ folder). */
export const DOCS_URL = 'https://github.com/nemovideo/nemovideo/blob/main/docs/cli.md';

const DESCRIPTION =
  'NemoVideo from the command line: turn a video link into an edited MP4, chat with the editing agent, upload, render and download.';

const EXIT_CODES = `Exit codes:
  0    success
  1    unexpected error (a bug; rerun with --verbose and report it)
  2    usage: bad option or argument, bad URL, missing or unsupported file
  3    the service refused or failed: no credits, plan limit (402), unknown session, failed render
  4    network: the service could not be reached, the connection broke, or a time limit ran out
  130  aborted (Ctrl-C)`;

const ENVIRONMENT = `Environment:
  NEMO_API_URL     API origin (like --api-url)
  NEMO_TOKEN       bearer token (like --token); without one, a free anonymous token is
                   obtained once and cached (0600) in ~/.config/nemovideo/token.json
  NEMO_CONFIG_DIR  where the client id and token cache live (default ~/.config/nemovideo)
  NEMO_CLIENT_ID   client id sent when requesting an anonymous token
  NO_COLOR         disable colors`;

/** Words of `text` in lines of at most `width` characters (a longer word gets its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line !== '' && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** `  term   description`, the description wrapped and aligned in its column. */
function twoColumns(rows: ReadonlyArray<readonly [string, string]>, width: number): string {
  const termWidth = Math.min(40, Math.max(...rows.map(([term]) => term.length)));
  const descWidth = Math.max(30, width - termWidth - 4);
  const out: string[] = [];
  for (const [term, description] of rows) {
    const [first = '', ...rest] = wrap(description, descWidth);
    if (term.length > termWidth) {
      out.push(`  ${term}`, `  ${' '.repeat(termWidth)}  ${first}`);
    } else {
      out.push(`  ${term.padEnd(termWidth)}  ${first}`);
    }
    for (const line of rest) out.push(`  ${' '.repeat(termWidth)}  ${line}`);
  }
  return out.join('\n');
}

/**
 * The text of `nemovideo --help`, wrapped for a terminal of `columns` (default 80).
 *
 * @example
 * ```ts
 * process.stdout.write(rootHelp(process.stdout.columns));
 * ```
 */
export function rootHelp(columns?: number): string {
  const width = Math.max(60, Math.min(columns ?? 80, 120));
  const commands: Array<[string, string]> = COMMANDS.map((c) => [
    `${c.name} ${usageOf(c)}`.trimEnd(),
    c.summary,
  ]);
  commands.push(['help [command]', 'show the help of a command']);
  const options: Array<[string, string]> = [
    ...GLOBAL_OPTIONS.map((o): [string, string] => [o.flags, o.description]),
    ['-V, --version', 'print the version'],
    ['-h, --help', 'show help'],
  ];
  return [
    'Usage: nemovideo [options] <command>',
    '',
    wrap(DESCRIPTION, width).join('\n'),
    '',
    'Commands:',
    twoColumns(commands, width),
    '',
    'Options (before or after the command):',
    twoColumns(options, width),
    '',
    'Run "nemovideo <command> --help" for the arguments and options of a command.',
    '',
    EXIT_CODES,
    '',
    ENVIRONMENT,
    '',
    `Documentation: ${DOCS_URL}`,
    '',
  ].join('\n');
}
