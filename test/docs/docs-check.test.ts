import { describe, expect, it } from 'vitest';
import {
  BLOCK_SEPARATOR,
  blockOutputs,
  blockPrograms,
  checkConfiguration,
  checkErrorNames,
  checkLinks,
  checkReferences,
  envVarsIn,
  mapLine,
  type RepoView,
  repeatedSentences,
} from '../../scripts/docs/check.js';
import {
  extractBlocks,
  extractLinks,
  headingAnchors,
  parseMarker,
  slugify,
} from '../../scripts/docs/markdown.js';
import { declaredNames, type PackageExport, preambleFor } from '../../scripts/docs/preamble.js';

const fence = '```';

describe('markers', () => {
  it('reads flags, bare and quoted values', () => {
    expect(
      parseMarker(' id=qs run expect-file=video.mp4 expect-stdout="^saved \\(\\d+ \\"b\\"\\)$" '),
    ).toEqual({
      id: 'qs',
      run: true,
      expectFile: 'video.mp4',
      expectStdout: '^saved \\(\\d+ "b"\\)$',
      expectOnce: false,
    });
    expect(parseMarker('no-check="a type-level sketch"')).toMatchObject({
      noCheck: 'a type-level sketch',
    });
  });

  it('refuses typos and contradictions, so a marker cannot silently do nothing', () => {
    expect(() => parseMarker('runn')).toThrow(/unknown key "runn"/);
    expect(() => parseMarker('id')).toThrow(/id needs a value/);
    expect(() => parseMarker('run=yes')).toThrow(/run takes no value/);
    expect(() => parseMarker('expect-once')).toThrow(/needs run/);
    expect(() => parseMarker('no-check="x" run')).toThrow(/no-check cannot/);
    expect(() => parseMarker('run expect-stdout="("')).toThrow();
    expect(() => parseMarker('no-check=""')).toThrow(/needs a value/);
  });
});

describe('extractBlocks', () => {
  const doc = [
    '# Title', // 1
    '', // 2
    '<!-- docs: id=a run -->', // 3
    '', // 4
    `${fence}ts`, // 5
    'const a = 1;', // 6
    fence, // 7
    '', // 8
    '- item', // 9
    `  ${fence}typescript title="x"`, // 10
    '  const b = 2;', // 11
    '    nested();', // 12
    `  ${fence}`, // 13
    '~~~sh', // 14
    '```ts', // 15 (inside a ~~~ fence: text)
    '~~~', // 16
  ].join('\n');

  it('finds each block with its line, language, marker and unindented code', () => {
    const { blocks, problems } = extractBlocks('x.md', doc);
    expect(problems).toEqual([]);
    expect(blocks.map((b) => [b.line, b.lang, b.code, b.marker.id, b.marker.run])).toEqual([
      [6, 'ts', 'const a = 1;\n', 'a', true],
      [11, 'typescript', 'const b = 2;\n  nested();\n', undefined, false],
      [15, 'sh', '```ts\n', undefined, false],
    ]);
  });

  it('reports a marker that is followed by text or by nothing', () => {
    const { problems } = extractBlocks(
      'x.md',
      '<!-- docs: run -->\nsome text\n\n<!-- docs: id=z -->\n',
    );
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [1, 'marker not followed by a code block'],
      [4, 'marker without a block'],
    ]);
  });

  it('locates a marker that does not parse', () => {
    const { problems } = extractBlocks('x.md', `<!-- docs: runs -->\n${fence}ts\nx\n${fence}\n`);
    expect(problems).toEqual([
      { doc: 'x.md', line: 1, message: 'docs marker: unknown key "runs"' },
    ]);
  });
});

describe('links and anchors', () => {
  it('extracts links outside code, with their lines', () => {
    const text = [
      'See [a](docs/a.md#x) and ![img](pic.png "t") and <https://e.com/x>.',
      'Not `[code](nope.md)`.',
      `${fence}md`,
      '[in a block](nope.md)',
      fence,
      '[ref]: ./b.md',
      '<a href="c.md">c</a>',
    ].join('\n');
    expect(extractLinks(text)).toEqual([
      { line: 1, target: 'docs/a.md#x' },
      { line: 1, target: 'pic.png' },
      { line: 1, target: 'https://e.com/x' },
      { line: 6, target: './b.md' },
      { line: 7, target: 'c.md' },
    ]);
  });

  it("slugs headings as GitHub does, numbering repeats, skipping code blocks' # lines", () => {
    expect(slugify('`session.send()`: silent turns and recovery')).toBe(
      'sessionsend-silent-turns-and-recovery',
    );
    expect(slugify('Disconnect recovery (never re-send)')).toBe(
      'disconnect-recovery-never-re-send',
    );
    expect(slugify('Errors & retries')).toBe('errors--retries');
    const anchors = headingAnchors(`# A\n## A\n${fence}sh\n# not a heading\n${fence}\n### B b`);
    expect([...anchors]).toEqual(['a', 'a-1', 'b-b']);
  });

  const files: Record<string, string> = {
    'README.md': '# Readme',
    'docs/a.md': '# A\n## Part two',
    'docs/b.md': '# B',
    'src/core/backend.ts': '',
    examples: '',
  };
  const repo: RepoView = {
    exists: (p) => p in files || Object.keys(files).some((f) => f.startsWith(`${p}/`)),
    read: (p) => files[p],
  };

  it('resolves relative links of docs, and their anchors', () => {
    const doc = {
      path: 'docs/b.md',
      text: [
        '[ok](a.md) [ok](./a.md#part-two) [ok](../src/core/backend.ts) [ok](#b)',
        '[bad](c.md) [bad](a.md#nope) [bad](#nope) [bad](../../outside.md)',
        '[site](https://example.com/x.md)',
        '# B',
      ].join('\n'),
    };
    expect(checkLinks(doc, repo).map((p) => p.message)).toEqual([
      'link c.md: docs/c.md is not in the repository',
      'docs/a.md has no heading for the anchor #nope',
      'no heading here for the anchor #nope',
      'link ../../outside.md: ../outside.md is not in the repository',
    ]);
  });

  it('wants absolute links in the README, and checks those into the repository', () => {
    const base = 'https://github.com/nemovideo/nemovideo';
    const doc = {
      path: 'README.md',
      text: [
        `[a](${base}/blob/main/docs/a.md#part-two) [ex](${base}/tree/main/examples)`,
        `[gone](${base}/blob/main/docs/gone.md) [anchor](${base}/blob/main/docs/a.md#nope)`,
        '[rel](docs/a.md) [top](#readme)',
        '# Readme',
      ].join('\n'),
    };
    const messages = checkLinks(doc, repo).map((p) => `${p.line}: ${p.message}`);
    expect(messages).toEqual([
      `2: ${base}/blob/main/docs/gone.md: docs/gone.md is not in the repository`,
      '2: docs/a.md has no heading for the anchor #nope',
      `3: relative link docs/a.md: the README is also the npm page, where the repository's files are not; link to ${base}/blob/main/docs/a.md`,
    ]);
  });

  it('flags files users do not have and repository paths that do not exist', () => {
    const doc = {
      path: 'docs/a.md',
      text: [
        'The rule (contract §2.5) and `/work/shared/protocol.md`.',
        '`src/core/backend.ts` `src/core/gone.ts:12` `docs/api/index.html` `bench/*.ts` `~/.config` `src/redis`',
      ].join('\n'),
    };
    expect(checkReferences(doc, repo).map((p) => `${p.line}: ${p.message}`)).toEqual([
      '1: names protocol.md, which is not in the repository',
      '1: names a path outside the repository',
      '1: names shared/, which is not in the repository',
      '1: cites a section of the wire contract, which users do not have: say what the rule is instead',
      '2: `src/core/gone.ts` is not in the repository',
    ]);
  });
});

describe('the preamble', () => {
  const exports = new Map<string, PackageExport>([
    ['NemoClient', { module: 'nemovideo', type: false }],
    ['Track', { module: 'nemovideo', type: true }],
    ['createEmulator', { module: 'nemovideo/testing', type: false }],
  ]);

  it('knows what a snippet declares at its top level', () => {
    const code = [
      "import { a, type B, c as d } from 'x';",
      "import * as ns from 'y';",
      'const { e, f: g } = h;',
      'let k: Track = x;',
      'const [l, m = 1] = y;',
      'export async function i() { const nested = 1; }',
      'class J {}',
      '  const indented = 2;',
    ].join('\n');
    expect([...declaredNames(code)].sort()).toEqual(
      ['B', 'J', 'a', 'd', 'e', 'g', 'i', 'k', 'l', 'm', 'ns'].sort(),
    );
  });

  it('imports the public names a fragment uses, and declares the stand-ins it uses', () => {
    const code = [
      'const emulator = createEmulator();',
      'new NemoClient({});',
      'let t: Track[] = [];',
      "await session.send('client');",
    ].join('\n');
    expect(preambleFor(code, exports)).toEqual([
      "import { NemoClient, type Track } from 'nemovideo';",
      "import { createEmulator } from 'nemovideo/testing';",
      "declare const session: import('nemovideo').Session;",
    ]);
    expect(
      preambleFor("import { NemoClient } from 'nemovideo';\nnew NemoClient();", exports),
    ).toEqual([]);
  });
});

describe('block programs', () => {
  const readme = [
    '<!-- docs: id=qs run -->', // 1
    `${fence}ts`, // 2
    "import { NemoClient } from 'nemovideo';", // 3
    'const session = await new NemoClient().sessions.create();', // 4
    fence, // 5
    '<!-- docs: after=qs run expect-once -->', // 6
    `${fence}ts`, // 7
    "for await (const e of session.chat('hi')) console.log(e);", // 8
    'oops;', // 9
    fence, // 10
    '<!-- docs: no-check="shows a shape, not code" -->', // 11
    `${fence}ts`, // 12
    'interface X { a: b }', // 13
    fence, // 14
    `${fence}sh`, // 15
    'npm test', // 16
    fence, // 17
  ].join('\n');

  it('chains after= blocks with a separator, skips no-check and non-TypeScript blocks', () => {
    const { programs, skipped, problems } = blockPrograms([{ path: 'README.md', text: readme }]);
    expect(problems).toEqual([]);
    expect(skipped.map((b) => b.line)).toEqual([13]);
    expect(programs.map((p) => p.fileName)).toEqual(['README.md-L3.ts', 'README.md-L8.ts']);
    const chained = programs[1]!;
    expect(chained.text.split('\n')).toEqual([
      "import { NemoClient } from 'nemovideo';",
      'const session = await new NemoClient().sessions.create();',
      `console.log(${JSON.stringify(BLOCK_SEPARATOR)});`,
      "for await (const e of session.chat('hi')) console.log(e);",
      'oops;',
      '',
    ]);
    // A diagnostic maps to the block's markdown line; one in the earlier block belongs to it.
    expect(mapLine(chained, 4)).toEqual({ doc: 'README.md', line: 9 });
    expect(mapLine(chained, 1)).toBeUndefined();
    expect(mapLine(chained, 2)).toEqual({ doc: 'README.md', line: 8 });
  });

  it('writes file= blocks under their own name, without a preamble', () => {
    const doc = `<!-- docs: file=test/app.test.ts -->\n${fence}ts\nsession.x();\n${fence}\n`;
    const { programs } = blockPrograms([{ path: 'docs/testing.md', text: doc }]);
    expect(programs[0]).toMatchObject({
      fileName: 'docs-testing.md/test/app.test.ts',
      text: 'session.x();\n',
    });
  });

  it('reports unknown ids, duplicate ids, cycles and markers on other languages', () => {
    const doc = [
      `<!-- docs: id=a after=b -->\n${fence}ts\n1;\n${fence}`,
      `<!-- docs: id=b after=a -->\n${fence}ts\n2;\n${fence}`,
      `<!-- docs: id=c after=zzz -->\n${fence}ts\n3;\n${fence}`,
      `<!-- docs: id=c -->\n${fence}ts\n4;\n${fence}`,
      `<!-- docs: run -->\n${fence}sh\nls\n${fence}`,
    ].join('\n');
    const { problems } = blockPrograms([{ path: 'x.md', text: doc }]);
    expect(problems.map((p) => p.message)).toEqual([
      'duplicate docs id "c"',
      'an after= cycle',
      'an after= cycle',
      'no block has id=zzz',
      'a docs marker on a "sh" block: only TypeScript blocks are checked',
    ]);
  });
});

describe('run output checks', () => {
  it("splits a run's output into its blocks' parts", () => {
    expect(blockOutputs(`quick start\n${BLOCK_SEPARATOR}\nstream\n`)).toEqual([
      'quick start\n',
      'stream\n',
    ]);
    expect(blockOutputs('stopped in the first block\n')).toEqual(['stopped in the first block\n']);
  });

  it('catches a reply printed twice (deltas, then the final full text)', () => {
    const reply = 'Added background music "Lo-fi" at 35% volume. Open the audio panel.';
    expect(repeatedSentences(`\n[add_bgm]\n${reply}`)).toEqual({ sentences: 2, repeated: [] });
    expect(repeatedSentences(`\n[add_bgm]\n${reply}${reply}`).repeated).toEqual([
      'Added background music "Lo-fi" at 35% volume.',
      'Open the audio panel.',
    ]);
    expect(repeatedSentences('\n[add_text]\n')).toEqual({ sentences: 0, repeated: [] });
  });
});

describe('names the docs promise', () => {
  it('wants every error class named in prose to be exported (code blocks are compiled instead)', () => {
    const doc = {
      path: 'docs/x.md',
      text: [
        '| `TimeoutError` | `NemoTimeoutError` | `TypeError` |',
        `${fence}ts`,
        'const e: NemoGoneError = x; // `NemoGoneError`',
        fence,
        'A `RangeError`, an `OldError`.',
      ].join('\n'),
    };
    expect(
      checkErrorNames(doc, new Set(['TimeoutError'])).map((p) => `${p.line}: ${p.message}`),
    ).toEqual([
      '1: `NemoTimeoutError` is not exported by the package',
      '5: `OldError` is not exported by the package',
    ]);
  });

  it('wants the README configuration tables to list every option and variable, and no other', () => {
    const readme = {
      path: 'README.md',
      text: [
        '# x', // 1
        '## Configuration', // 2
        '| option | default |', // 3
        '| --- | --- |', // 4
        '| `token` | `NEMO_TOKEN` |', // 5
        '| `tokn` | typo |', // 6
        '| `NEMO_TOKEN` | the token |', // 7
        '| `NEMO_OLD` | gone, but only the code can say so |', // 8
        '## Errors', // 9
        '| `baseUrl` | not in the section |', // 10
      ].join('\n'),
    };
    expect(
      checkConfiguration(readme, ['token', 'baseUrl'], ['NEMO_TOKEN', 'NEMO_LOG']).map(
        (p) => `${p.line}: ${p.message}`,
      ),
    ).toEqual([
      '2: the client option `baseUrl` is not in its table',
      '2: the environment variable NEMO_LOG is not in its table',
      '6: `tokn` is not a client option',
    ]);
    expect(checkConfiguration({ path: 'README.md', text: '# x' }, [], [])).toMatchObject([
      { message: 'no "## Configuration" section' },
    ]);
  });

  it('finds the environment variables the sources read', () => {
    expect(
      envVarsIn('readEnv(\'NEMO_TOKEN\'); env["NEMO_API_URL"]; `NEMO_LOG`; const NEMO_BRAND = 1;'),
    ).toEqual(['NEMO_TOKEN', 'NEMO_API_URL', 'NEMO_LOG']);
  });
});
