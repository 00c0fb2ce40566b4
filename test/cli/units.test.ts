/** The CLI's building blocks: formatting, the MP4 probe, error mapping, output modes. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandHints, eventJson } from '../../src/cli/commands/chat.js';
import { parseVideoUrl, renderOutputFor } from '../../src/cli/commands/common.js';
import { describeError } from '../../src/cli/describe.js';
import { CliError, ExitCode } from '../../src/cli/errors.js';
import { formatBytes, formatDuration, oneLine } from '../../src/cli/format.js';
import { probeMp4 } from '../../src/cli/mp4.js';
import { colorAllowed, Output, type TextSink } from '../../src/cli/output.js';
import {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigError,
  ConnectionError,
  DownloadError,
  DraftNotReadyError,
  ExportNotAllowedError,
  FileTooLargeError,
  InsufficientCreditsError,
  NemoError,
  RateLimitError,
  RenderFailedError,
  RenderTimeoutError,
  ResponseValidationError,
  SessionNotFoundError,
  StreamError,
  TimeoutError,
  TurnLostError,
  TurnTimeoutError,
  UnsupportedFileTypeError,
  UploadError,
} from '../../src/index.js';
import { SDK_WORDS } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nemovideo-cli-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = join(import.meta.dirname, '../../fixtures/result.mp4');

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [20_583, '20.1 KB'],
    [100 * 1024 * 1024, '100 MB'],
    [1.5 * 1024 ** 3, '1.5 GB'],
  ])('formatBytes(%d) is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    [0, '0:00'],
    [2, '0:02'],
    [75.4, '1:15'],
    [3725, '1:02:05'],
  ])('formatDuration(%d) is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('oneLine flattens and shortens', () => {
    expect(oneLine('a\n  long   reply', 8)).toBe('a long…');
    expect(oneLine('short')).toBe('short');
  });
});

function box(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(body, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

describe('probeMp4', () => {
  it('reads the brands, boxes, tracks and duration of a real MP4', async () => {
    const probe = await probeMp4(FIXTURE);
    expect(probe).toMatchObject({
      valid: true,
      majorBrand: 'isom',
      boxes: ['ftyp', 'moov', 'free', 'mdat'],
      tracks: 2,
      durationSec: 2,
      sizeBytes: readFileSync(FIXTURE).length,
    });
  });

  it('reads a version-1 mvhd and a 64-bit mdat size', async () => {
    const mvhd = new Uint8Array(4 + 8 + 8 + 4 + 8);
    const view = new DataView(mvhd.buffer);
    view.setUint8(0, 1); // version 1
    view.setUint32(20, 1000); // timescale
    view.setBigUint64(24, 12_500n); // duration
    const ftyp = box('ftyp', Buffer.from('isom\0\0\0\0isommp41', 'latin1'));
    const moov = box('moov', box('mvhd', mvhd));
    const mdat = new Uint8Array(16 + 4);
    new DataView(mdat.buffer).setUint32(0, 1);
    mdat.set(Buffer.from('mdat', 'latin1'), 4);
    new DataView(mdat.buffer).setBigUint64(8, BigInt(mdat.length));
    const file = join(dir, 'v1.mp4');
    writeFileSync(file, concat(ftyp, moov, mdat));
    expect(await probeMp4(file)).toMatchObject({
      valid: true,
      durationSec: 12.5,
      boxes: ['ftyp', 'moov', 'mdat'],
    });
  });

  it.each([
    ['a truncated file', () => readFileSync(FIXTURE).subarray(0, 1000), /bad box "moov"/],
    ['text', () => Buffer.from('<html>not a video</html>'), /bad box|not "ftyp"/],
    ['no moov', () => box('ftyp', Buffer.from('isom\0\0\0\0', 'latin1')), /no "moov" box/],
    ['an empty file', () => new Uint8Array(0), /no "moov" box/],
  ])('rejects %s', async (name, bytes, problem) => {
    const file = join(dir, `${name.replace(/\W/g, '-')}.bin`);
    writeFileSync(file, bytes());
    const probe = await probeMp4(file);
    expect(probe.valid).toBe(false);
    expect(probe.problem).toMatch(problem);
  });
});

describe('describeError', () => {
  const api = { httpStatus: 200 };
  it.each([
    [new CliError('bad', ExitCode.Usage), ExitCode.Usage, /^bad$/],
    [
      new SessionNotFoundError('gone', { ...api, code: 1002 }),
      ExitCode.Api,
      /Session 42 was not found/,
    ],
    [
      new InsufficientCreditsError('no', {
        ...api,
        code: 2001,
        registerUrl: 'https://nemovideo.com/register?bind=anon_1',
      }),
      ExitCode.Api,
      /Out of credits\. Register at https:\/\/nemovideo\.com\/register\?bind=anon_1/,
    ],
    [
      new ExportNotAllowedError('402', { httpStatus: 402 }),
      ExitCode.Api,
      /plan does not allow.*not a lack of credits/,
    ],
    [
      new UnsupportedFileTypeError('4001', { ...api, code: 4001, acceptedFormats: ['mp4', 'mov'] }),
      ExitCode.Usage,
      /Accepted formats: mp4, mov\./,
    ],
    [
      new RateLimitError('429', { httpStatus: 429, retryAfterMs: 30_000 }),
      ExitCode.Api,
      /Wait about 30 s/,
    ],
    [new RenderFailedError('render_1', 'Lambda timeout'), ExitCode.Api, /Lambda timeout/],
    [
      new ConnectionError('Could not reach x for GET /y (ECONNREFUSED). Check it.'),
      ExitCode.Network,
      /Could not reach the NemoVideo API at https:\/\/api\.test \(ECONNREFUSED\)/,
    ],
    [
      new TimeoutError('request', 30_000, 'too slow'),
      ExitCode.Network,
      /API at https:\/\/api\.test did not answer within 30 s\. Check your connection/,
    ],
    [new DownloadError('cut'), ExitCode.Network, /cut/],
    [
      new ConfigError(
        'Refusing to send credentials over plain http to http://example.com. Use https, or pass allowInsecureHttp: true if this network is trusted.',
      ),
      ExitCode.Usage,
      /plain http to http:\/\/example\.com/,
    ],
    [new AbortError(), ExitCode.Aborted, /^Aborted\. .*run the same command again/],
    [
      Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }),
      ExitCode.Usage,
      /ENOENT/,
    ],
    [new TypeError('x is undefined'), ExitCode.Internal, /Unexpected error: x is undefined/],
  ])('%s → exit %d', (error, code, message) => {
    const report = describeError(error, { apiUrl: 'https://api.test', sessionId: '42' });
    expect(report.exitCode).toBe(code);
    expect(report.message).toMatch(message);
    expect(report.message).not.toContain('\n');
  });
});

describe('describeError speaks CLI, never SDK', () => {
  // SDK messages end with advice in SDK terms; the CLI keeps at most the first sentence.
  const advice =
    'Something went wrong. Raise maxWait / maxPolls, call job.wait() again, pass clientIdFile: false or allowInsecureHttp: true, check baseUrl, the maxBytes option, the idleTimeout option, read session.state(), or use toUpload().';
  const api = { httpStatus: 500, code: 7 };
  it.each([
    new NemoError(advice),
    new ApiError(advice, api),
    new ApiError(`The service requires an X-Client-Id header (HTTP 400). ${advice}`, {
      httpStatus: 400,
    }),
    new AuthenticationError(advice, { httpStatus: 200, code: 1001 }),
    new RateLimitError(advice, { httpStatus: 429 }),
    new FileTooLargeError(advice, { httpStatus: 0, code: 4002, maxBytes: 500 * 1024 * 1024 }),
    new ConfigError(advice),
    new ConnectionError(advice),
    new TimeoutError('request', 30_000, advice),
    new TimeoutError('stream-idle', 120_000, advice),
    new TimeoutError('turn-hard-limit', 900_000, advice),
    new TurnTimeoutError('turn-heartbeats-only', 600_000, advice),
    new TimeoutError('download', 60_000, advice),
    new TimeoutError('render', 60_000, advice),
    new RenderTimeoutError('render_1', 900_000, advice),
    new RenderFailedError('render_1', 'out of memory', advice),
    new DraftNotReadyError(advice),
    new DownloadError(advice),
    new UploadError(advice),
    new StreamError(advice),
    new TurnLostError(advice),
    new ResponseValidationError(advice, { path: 'data.files' }),
  ])('%s', (error) => {
    const report = describeError(error, { apiUrl: 'https://api.test', sessionId: '42' });
    expect(report.message).not.toMatch(SDK_WORDS);
    expect(report.message).not.toContain('\n');
    // Each one names a next step the user can type or do.
    expect(report.message).toMatch(/nemovideo |--[a-z]|NEMO_|try again|Run |Check |Compress/);
  });

  it('names the command that exports the session again, with its flags', () => {
    const report = describeError(new RenderTimeoutError('render_1', 900_000, advice), {
      sessionId: '42',
      exportAgain: 'nemovideo export 42 -o out.mp4',
    });
    expect(report.message).toBe(
      'Render render_1 did not finish within 15 min (--max-wait). It may still complete on the server: export again with a longer wait ("nemovideo export 42 -o out.mp4 --max-wait 1800"); export costs no credits.',
    );
  });

  it('a 429 on the anonymous-token request says how to get out of it, not to wait', () => {
    const report = describeError(new RateLimitError(advice, { httpStatus: 429 }), {
      awaitingToken: true,
      configDir: '/home/u/.config/nemovideo',
    });
    expect(report.message).toMatch(/one per client id while the last one is valid/);
    expect(report.message).toContain('/home/u/.config/nemovideo/token.json');
    expect(report.message).toMatch(/Set NEMO_TOKEN .* or set NEMO_CLIENT_ID to a new id/);
    expect(report.message).not.toMatch(/Wait/);
  });
});

describe('arguments', () => {
  it('accepts http(s) video links and rejects the rest with what to do', () => {
    expect(parseVideoUrl('https://youtu.be/x')).toBe('https://youtu.be/x');
    expect(() => parseVideoUrl('youtu.be/x')).toThrow(/not a valid video URL/);
    expect(() => parseVideoUrl('file:///tmp/a.mp4')).toThrow(/nemovideo upload/);
  });

  it('maps --quality to the render output', () => {
    expect(renderOutputFor('1080p')).toEqual({ format: 'mp4', quality: 'high' });
    expect(renderOutputFor('720p')).toEqual({ format: 'mp4', quality: 'medium' });
  });
});

describe('chat helpers', () => {
  it('maps GUI wording in replies to CLI commands', () => {
    expect(commandHints('Done! Click the Export button to download it.', '7')).toEqual([
      'nemovideo export 7 -o video.mp4',
    ]);
    expect(commandHints('All set.', '7')).toEqual([]);
  });

  it('drops the raw payload from NDJSON events, except for unknown ones', () => {
    expect(eventJson({ type: 'heartbeat', raw: ': ping' })).toEqual({ type: 'heartbeat' });
    expect(eventJson({ type: 'unknown', raw: { x: 1 } })).toEqual({
      type: 'unknown',
      raw: { x: 1 },
    });
  });
});

class Sink implements TextSink {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function output(options: Partial<{ json: boolean; quiet: boolean; tty: boolean }> = {}) {
  const stdout = new Sink(false);
  const stderr = new Sink(options.tty ?? false);
  const out = new Output({
    stdout,
    stderr,
    json: options.json ?? false,
    quiet: options.quiet ?? false,
    verbose: false,
    color: false,
  });
  return { out, stdout, stderr };
}

describe('output', () => {
  it('colors only when allowed: NO_COLOR wins, FORCE_COLOR forces, TERM=dumb and pipes disable', () => {
    const tty = new Sink(true);
    const pipe = new Sink(false);
    expect(colorAllowed(tty, {}, true)).toBe(true);
    expect(colorAllowed(tty, {}, false)).toBe(false);
    expect(colorAllowed(tty, { NO_COLOR: '1' }, true)).toBe(false);
    expect(colorAllowed(tty, { TERM: 'dumb' }, true)).toBe(false);
    expect(colorAllowed(pipe, {}, true)).toBe(false);
    expect(colorAllowed(pipe, { FORCE_COLOR: '1' }, true)).toBe(true);
    expect(colorAllowed(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, true)).toBe(false);
  });

  it('prints plain progress lines every 25 % when stderr is not a terminal', () => {
    const { out, stderr } = output();
    const bar = out.progress('render', 'percent');
    for (const p of [0, 5, 20, 26, 49, 50, 80, 99, 100]) bar.update(p);
    bar.stop();
    expect(stderr.text).toBe(
      '  render: 0%\n  render: 26%\n  render: 50%\n  render: 80%\n  render: 100%\n',
    );
  });

  it('prints byte progress with sizes, and the last value on stop', () => {
    const { out, stderr } = output();
    const bar = out.progress('download', 'bytes', 4096);
    bar.update(0);
    bar.update(2048);
    bar.update(3000);
    bar.stop();
    expect(stderr.text).toBe(
      '  download: 0% (0 B / 4 KB)\n  download: 50% (2 KB / 4 KB)\n  download: 73% (2.93 KB / 4 KB)\n',
    );
  });

  it('draws a bar with carriage returns on a terminal', () => {
    const { out, stderr } = output({ tty: true });
    const bar = out.progress('render', 'percent');
    bar.update(40);
    bar.stop();
    expect(stderr.text).toContain('40%');
    expect(stderr.text).toContain('█');
  });

  it('--quiet keeps only results; --json keeps only JSON', () => {
    const quiet = output({ quiet: true });
    quiet.out.stage('Uploading');
    quiet.out.progress('render', 'percent').update(50);
    quiet.out.result('done');
    quiet.out.emit({ ignored: true });
    expect(quiet.stderr.text).toBe('');
    expect(quiet.stdout.text).toBe('done\n');

    const json = output({ json: true });
    json.out.stage('Uploading');
    json.out.result('done');
    json.out.emit({ ok: true });
    json.out.error({ exitCode: 3, kind: 'SessionNotFoundError', message: 'gone' });
    expect(json.stdout.text).toBe('{"ok":true}\n');
    expect(JSON.parse(json.stderr.text)).toEqual({
      error: { kind: 'SessionNotFoundError', message: 'gone', exitCode: 3 },
    });
  });
});
