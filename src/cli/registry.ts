/**
 * Every command of `nemovideo`, as data: names, arguments, options and help, in one place.
 * Nothing here loads a command's code, commander or the SDK: the root help is printed from
 * this table alone, and program.ts loads the implementation (`load`) of the one command that
 * runs. To add a command: one entry here and one module under commands/ exporting its run
 * function (see spec.ts).
 *
 * @module
 */
import {
  collect,
  parseConcurrency,
  parseJobId,
  parseQuality,
  parseSeconds,
  parseSessionId,
} from './parse.js';
import type { CommandSpec, OptionSpec } from './spec.js';

/** Options every command accepts, before or after the command name (docs/cli.md). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  // The SDK reads NEMO_API_URL and NEMO_TOKEN itself when these are not given, so it can tell
  // where the token came from.
  { flags: '--api-url <url>', description: 'API origin (default: NEMO_API_URL, else production)' },
  {
    flags: '--token <token>',
    description: 'bearer token (default: NEMO_TOKEN, else a free anonymous token, cached)',
  },
  { flags: '--json', description: 'machine-readable output on stdout (NDJSON events for chat)' },
  { flags: '-q, --quiet', description: 'print only the result and errors' },
  {
    flags: '-v, --verbose',
    description: 'debug log (credentials redacted) and stack traces on errors',
  },
  { flags: '--no-color', description: 'disable colors (NO_COLOR is honoured too)' },
];

/** The options of `download` and `export`: where the MP4 goes and how the render is awaited. */
const EXPORT_OPTIONS: readonly OptionSpec[] = [
  { flags: '-o, --output <file>', description: 'where to write the MP4 (folders are created)' },
  {
    flags: '--quality <quality>',
    description: 'output quality: 1080p, 720p or 480p',
    default: '1080p',
    parse: parseQuality,
  },
  {
    flags: '--cancel-on-abort',
    description: 'cancel the render on the server when interrupted (Ctrl-C)',
  },
  {
    flags: '--poll-interval <seconds>',
    description: 'seconds between render status checks (default 10; 1 against a local emulator)',
    parse: parseSeconds,
  },
  {
    flags: '--max-wait <seconds>',
    description: 'give up waiting for the render after this long',
    default: 900,
    parse: parseSeconds,
  },
];

const SESSION_ID = {
  name: '<session-id>',
  description: 'the session (from "nemovideo session new")',
  parse: parseSessionId,
} as const;

/** The commands, in the order the help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'download',
    summary: 'turn a video link into an MP4 on disk (the whole workflow)',
    description:
      'Upload a video link to a new session, ask the agent to prepare it, render it and download the MP4.\n' +
      'Stages are shown as they happen; progress bars on a terminal, plain lines otherwise.',
    arguments: [
      { name: '<video-url>', description: 'http(s) link to the video (YouTube, a CDN, …)' },
    ],
    options: [
      {
        flags: '-p, --prompt <text>',
        description:
          'the instruction for the agent (default: "download this video in MP4 at <quality>")',
      },
      { flags: '--language <code>', description: 'language of the agent replies (e.g. en, zh-CN)' },
      ...EXPORT_OPTIONS,
      {
        flags: '--fresh',
        description: 'start over: ignore (and replace) the saved job of this command',
      },
    ],
    examples: [
      'nemovideo download "https://www.youtube.com/watch?v=dQw4w9WgXcQ" -o video.mp4 --quality 1080p',
    ],
    load: async () => (await import('./commands/download.js')).run,
  },
  {
    name: 'jobs',
    summary: 'list, resume or remove saved download jobs (a download resumes after Ctrl-C)',
    description:
      'Every "nemovideo download" is saved as a job, step by step, in the config folder (NEMO_CONFIG_DIR/jobs):\n' +
      'run the same command again, or "nemovideo jobs resume <job-id>", and it continues where it stopped,\n' +
      'without a second session, upload or message. Without a subcommand: list the jobs (newest first).',
    examples: [
      'nemovideo jobs',
      'nemovideo jobs resume job_3f2a9c1e0b7d4a65',
      'nemovideo jobs rm --all',
    ],
    load: async () => (await import('./commands/jobs.js')).runList,
    subcommands: [
      {
        name: 'resume',
        summary: 'continue a saved job where it stopped',
        arguments: [
          { name: '<job-id>', description: 'the job (from "nemovideo jobs")', parse: parseJobId },
        ],
        options: EXPORT_OPTIONS.filter((o) => !/--output|--quality/.test(o.flags)),
        examples: ['nemovideo jobs resume job_3f2a9c1e0b7d4a65'],
        load: async () => (await import('./commands/jobs.js')).runResume,
      },
      {
        name: 'rm',
        summary: 'remove saved jobs and their partial downloads (not finished files)',
        arguments: [
          { name: '[job-id...]', description: 'the jobs to remove (from "nemovideo jobs")' },
        ],
        options: [{ flags: '--all', description: 'remove every saved job that is not running' }],
        examples: ['nemovideo jobs rm job_3f2a9c1e0b7d4a65', 'nemovideo jobs rm --all'],
        load: async () => (await import('./commands/jobs.js')).runRemove,
      },
    ],
  },
  {
    name: 'batch',
    summary: 'export every video of a list file, several at a time (resumable)',
    description:
      'Export every video listed in a file: a link or file path per line, with an optional tab-separated prompt and output name, or JSON lines {"input","prompt","output"}.\n' +
      'Every line is checked before anything runs. Jobs run several at a time; the same command run again skips finished jobs and resumes the others.\n' +
      'Credits are checked first: a batch the balance cannot pay for stops unless --yes.',
    arguments: [
      {
        name: '<file>',
        description: 'the list of videos (blank lines and # comments are skipped)',
      },
    ],
    options: [
      {
        flags: '--concurrency <n>',
        description: 'jobs run at once (1-64)',
        default: 4,
        parse: parseConcurrency,
      },
      {
        flags: '-o, --out-dir <dir>',
        description: 'folder of the MP4s (default: the current folder)',
      },
      {
        flags: '-p, --prompt <text>',
        description:
          'the instruction for lines without one (default: "download this video in MP4 at <quality>")',
      },
      {
        flags: '--quality <quality>',
        description: 'output quality: 1080p, 720p or 480p',
        default: '1080p',
        parse: parseQuality,
      },
      { flags: '--language <code>', description: 'language of the agent replies (e.g. en, zh-CN)' },
      {
        flags: '--poll-interval <seconds>',
        description:
          'seconds between render status checks (default 10; 1 against a local emulator)',
        parse: parseSeconds,
      },
      {
        flags: '--max-wait <seconds>',
        description: 'give up waiting for a render after this long',
        default: 900,
        parse: parseSeconds,
      },
      { flags: '--fresh', description: 'ignore the journal: start every job over' },
      { flags: '-y, --yes', description: 'start even when the credits do not cover every job' },
    ],
    examples: ['nemovideo batch videos.txt --concurrency 8 -o out/'],
    load: async () => (await import('./commands/batch.js')).run,
  },
  {
    name: 'session',
    summary: 'manage editing sessions',
    description: 'Editing sessions: each holds uploads, the conversation and the timeline.',
    subcommands: [
      {
        name: 'new',
        summary: 'create an editing session and print its id',
        options: [
          {
            flags: '--language <code>',
            description: 'language of the agent replies (e.g. en, zh-CN)',
          },
          { flags: '--name <name>', description: 'task name (default "project")' },
        ],
        examples: ['SID=$(nemovideo session new -q)'],
        load: async () => (await import('./commands/session.js')).runNew,
      },
    ],
  },
  {
    name: 'upload',
    summary: 'upload files or video links to a session',
    description:
      'Upload local files (mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac) and/or http(s) links to a session.\n' +
      'Prints the CDN URL of each uploaded file.',
    arguments: [
      SESSION_ID,
      { name: '<file-or-url...>', description: 'files and/or http(s) links' },
    ],
    examples: ['nemovideo upload 5529798706024415232 intro.mp4 music.mp3'],
    load: async () => (await import('./commands/upload.js')).run,
  },
  {
    name: 'chat',
    summary: 'send a message to the editing agent and stream its reply',
    description:
      'Send one message to the agent of a session and print the reply as it arrives.\n' +
      'When the agent works without replying (about 30% of edits), prints what changed in the timeline.\n' +
      'With --json, prints one JSON event per line (NDJSON), ending with {"type":"done",…}.\n' +
      'Each message may cost credits and is never re-sent automatically.',
    arguments: [
      SESSION_ID,
      { name: '<message>', description: 'what to do, e.g. "add a title \\"Urban Dreams\\""' },
    ],
    examples: ['nemovideo chat 5529798706024415232 "trim the first 5 seconds"'],
    load: async () => (await import('./commands/chat.js')).run,
  },
  {
    name: 'state',
    summary: "show a session's timeline (tracks and clips)",
    arguments: [SESSION_ID],
    examples: ['nemovideo state 5529798706024415232 --json'],
    load: async () => (await import('./commands/state.js')).run,
  },
  {
    name: 'export',
    summary: "render a session's timeline and download the MP4",
    description:
      "Render the session's current timeline to MP4 and download it (export costs no credits).",
    arguments: [SESSION_ID],
    options: EXPORT_OPTIONS,
    examples: ['nemovideo export 5529798706024415232 -o final.mp4'],
    load: async () => (await import('./commands/export.js')).run,
  },
  {
    name: 'credits',
    summary: 'show the credit balance (editing costs about 50 a session; export is free)',
    load: async () => (await import('./commands/credits.js')).run,
  },
  {
    name: 'emulator',
    summary: 'run the offline NemoVideo emulator (API + CDN) on loopback until Ctrl-C',
    description: 'Run the NemoVideo emulator (API + CDN) on loopback until Ctrl-C.',
    // Its options are parsed by the emulator command itself (commands/emulator.ts).
    passThrough: '[--port N] [options]',
    load: async () => (await import('./commands/emulator-run.js')).run,
  },
  {
    name: 'mcp',
    summary: 'run an MCP server on stdio: the whole workflow as tools for AI agents',
    description:
      'Run a Model Context Protocol server on stdio for AI agents (Claude Desktop, Claude Code, Cursor…): create_session, upload_media, send_message, get_timeline, export_video, get_render_status, get_credits.\n' +
      'Reference: https://github.com/nemovideo/nemovideo/blob/main/docs/mcp.md',
    options: [
      {
        flags: '--root <folder>',
        description:
          'a folder the tools may read media from and save videos to (repeatable; default: the working directory)',
        parse: collect,
      },
    ],
    // An MCP client configuration runs it for you.
    examples: ['npx -y nemovideo mcp --root ~/Videos'],
    load: async () => (await import('./commands/mcp.js')).run,
  },
];
