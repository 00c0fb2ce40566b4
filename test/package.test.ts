import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as helpers from '../src/helpers.js';
import * as sdk from '../src/index.js';

const ENTRIES = ['../src/index.ts', '../src/helpers.ts'].map(
  (f) => new URL(f, import.meta.url).pathname,
);
let program: ts.Program | undefined;

/** Every name an entry file exports, values and types alike, as the compiler sees them. */
function exportedNames(file: string): string[] {
  const path = new URL(file, import.meta.url).pathname;
  program ??= ts.createProgram(ENTRIES, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(path);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`no module symbol for ${file}`);
  return checker
    .getExportsOfModule(symbol)
    .map((s) => s.name)
    .sort();
}

/** The root surface, values and types (#14.4: at most 50). Adding a name is a decision: update this list. */
const ROOT = [
  // the client
  'NemoClient',
  'NemoClientOptions',
  'RequestOptions',
  'TransferProgress',
  'VERSION',
  // errors
  'AbortError',
  'ApiError',
  'AuthenticationError',
  'ConfigError',
  'ConnectionError',
  'DownloadError',
  'DraftNotReadyError',
  'ExportNotAllowedError',
  'FileTooLargeError',
  'InsufficientCreditsError',
  'JobLockedError',
  'JournalError',
  'NemoError',
  'RateLimitError',
  'RenderFailedError',
  'RenderTimeoutError',
  'ResponseValidationError',
  'SessionNotFoundError',
  'StreamError',
  'TimeoutError',
  'TurnLostError',
  'TurnTimeoutError',
  'UnsupportedFileTypeError',
  'UploadError',
  'isNemoError',
  // sessions, chat, state
  'ChatEvent',
  'ChatOptions',
  'ChatStream',
  'SendOptions',
  'Session',
  'SessionState',
  'Timeline',
  'TurnResult',
  // uploads
  'UploadInput',
  'UploadOptions',
  'UploadResult',
  'toUpload',
  // renders and downloads
  'DownloadOptions',
  'DownloadResult',
  'ExportOptions',
  'ExportResult',
  'RenderJob',
  'RenderResult',
].sort();

describe('package surface', () => {
  it('exports the client and reports the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(typeof sdk.NemoClient).toBe('function');
    expect(sdk.VERSION).toBe(pkg.version);
  });

  it('keeps the root to the listed names, at most 50 values and types', () => {
    const names = exportedNames('../src/index.ts');
    expect(names).toEqual(ROOT);
    expect(names.length).toBeLessThanOrEqual(50);
  });

  it('names every error class after itself, with no Nemo prefix but on the base', () => {
    const api = { httpStatus: 500, acceptedFormats: [], maxBytes: 1 };
    /** Constructor arguments of the classes whose first argument is not the message. */
    const args: Record<string, unknown[]> = {
      TimeoutError: ['request', 1, 'x'],
      TurnTimeoutError: ['turn-heartbeats-only', 1, 'x'],
      RenderTimeoutError: ['render_1', 1, 'x'],
      RenderFailedError: ['render_1', 'x'],
      JournalError: ['x', { jobId: 'job_1', problem: 'corrupt' }],
      JobLockedError: ['x', { jobId: 'job_1', pid: 1 }],
    };
    const classes = Object.entries(sdk).filter(
      ([name, value]) => typeof value === 'function' && /^[A-Z]\w*Error$/.test(name),
    );
    expect(classes.length).toBe(24);
    for (const [name, Class] of classes) {
      if (name !== 'NemoError') expect(name.startsWith('Nemo')).toBe(false);
      const made = new (Class as new (...a: unknown[]) => Error)(...(args[name] ?? ['x', api]));
      expect(made).toBeInstanceOf(sdk.NemoError);
      expect(sdk.isNemoError(made)).toBe(true);
      expect(made.name).toBe(name);
    }
  });

  it('keeps building blocks and the remaining types in nemovideo/helpers, not the root', () => {
    const root = new Set(exportedNames('../src/index.ts'));
    for (const name of [
      'routeIntent',
      'translateReply',
      'decodeDraft',
      'encodeDraft',
      'summarizeTimeline',
      'diffTimelines',
      'createTrack',
      'createSegment',
      'isExportReady',
      'DEFAULT_BACKEND',
      'ErrorCode',
      'systemClock',
      'FileTokenStore',
      'MemoryTokenStore',
    ]) {
      expect(name in helpers, name).toBe(true);
      expect(root.has(name), name).toBe(false);
    }
    for (const name of exportedNames('../src/helpers.ts')) {
      // One name per concept: a helper never shadows a root name with another meaning.
      if (root.has(name)) expect(name).toBe('Timeline');
    }
  });
});
