/**
 * Reading the docs as data: fenced code blocks with their `<!-- docs: … -->` markers, links,
 * and heading anchors. Pure functions over markdown text (no file system), used by
 * `npm run docs:check` and the newcomer journey.
 *
 * ## Markers
 *
 * An HTML comment on the last non-blank line before a fence configures that block (GitHub and
 * npm do not render it):
 *
 * ```md
 * <!-- docs: id=quickstart run expect-file=video.mp4 -->
 * ```ts
 * …
 * ```
 * ```
 *
 * | key                    | meaning                                                                    |
 * | ---------------------- | -------------------------------------------------------------------------- |
 * | `id=<name>`            | names the block, for `after=`                                              |
 * | `after=<name>`         | a continuation: checked (and run) after the named block's code            |
 * | `run`                  | also run it against the emulator, in a fresh HOME, and check its output   |
 * | `expect-file=<path>`   | (run) the block must leave a valid MP4 at that path (relative to its cwd)  |
 * | `expect-stdout=<re>`   | (run) its output must match this regular expression                       |
 * | `expect-once`          | (run) it must print some reply text, and no sentence of it twice          |
 * | `file=<path>`          | the block is a whole file of a project (copied verbatim by the journey)   |
 * | `no-check="<reason>"`  | not compiled at all; the reason is required                               |
 *
 * Values with spaces are written in double quotes. Every TypeScript block without `no-check`
 * is compiled; names it uses without declaring them (`client`, `session`, `emulator`…) are
 * declared for it by the shared preamble (scripts/docs/preamble.ts).
 */

/** The fence languages that are TypeScript. */
export const TS_LANGS = new Set(['ts', 'typescript', 'mts', 'cts', 'tsx']);

/** What a `<!-- docs: … -->` marker says about the block after it. */
export interface BlockMarker {
  id?: string;
  after?: string;
  run: boolean;
  expectFile?: string;
  expectStdout?: string;
  expectOnce: boolean;
  file?: string;
  noCheck?: string;
}

/** A fenced code block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, as given to {@link extractBlocks}. */
  doc: string;
  /** 1-based line of the block's first code line in the markdown file. */
  line: number;
  /** The first word of the info string, lower-cased (`ts`, `sh`, …; `''` when none). */
  lang: string;
  /** The whole info string. */
  info: string;
  /** The code, without the fences, with the fence's indentation removed. */
  code: string;
  marker: BlockMarker;
}

/** A problem found while reading the docs, located in a markdown file. */
export interface DocProblem {
  doc: string;
  line: number;
  message: string;
}

const MARKER = /^\s*<!--\s*docs:(.*?)-->\s*$/;
const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;

/** Parses the inside of a marker (`run id=a expect-stdout="x y"`); throws on unknown keys. */
export function parseMarker(text: string): BlockMarker {
  const marker: BlockMarker = { run: false, expectOnce: false };
  const token = /([a-z-]+)(?:=(?:"((?:[^"\\]|\\.)*)"|(\S+)))?/g;
  let rest = text.trim();
  while (rest.length > 0) {
    token.lastIndex = 0;
    const m = token.exec(rest);
    if (m?.index !== 0) throw new Error(`cannot read "${rest}" in the docs marker`);
    rest = rest.slice(m[0].length).trimStart();
    const key = m[1] as string;
    const quoted = m[2]?.replace(/\\"/g, '"'); // only \" is an escape: regexes keep their backslashes
    const value = quoted ?? m[3];
    const need = (): string => {
      if (value === undefined || value === '') throw new Error(`docs marker: ${key} needs a value`);
      return value;
    };
    const flag = (): true => {
      if (value !== undefined) throw new Error(`docs marker: ${key} takes no value`);
      return true;
    };
    switch (key) {
      case 'id':
        marker.id = need();
        break;
      case 'after':
        marker.after = need();
        break;
      case 'run':
        marker.run = flag();
        break;
      case 'expect-file':
        marker.expectFile = need();
        break;
      case 'expect-stdout':
        marker.expectStdout = need();
        new RegExp(marker.expectStdout); // a bad pattern is the author's mistake: say so now
        break;
      case 'expect-once':
        marker.expectOnce = flag();
        break;
      case 'file':
        marker.file = need();
        break;
      case 'no-check':
        marker.noCheck = need();
        break;
      default:
        throw new Error(`docs marker: unknown key "${key}"`);
    }
  }
  const runOnly = marker.expectFile ?? marker.expectStdout ?? (marker.expectOnce || undefined);
  if (runOnly !== undefined && !marker.run) throw new Error('docs marker: expect-* needs run');
  if (marker.noCheck !== undefined && (marker.run || marker.file || marker.after))
    throw new Error('docs marker: no-check cannot be combined with run, file or after');
  return marker;
}

/**
 * The fenced code blocks of a markdown text, with their markers. Markers that do not parse,
 * and markers not followed by a fence, are reported in `problems`.
 */
export function extractBlocks(
  doc: string,
  text: string,
): { blocks: CodeBlock[]; problems: DocProblem[] } {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  const problems: DocProblem[] = [];
  let pending: { marker: BlockMarker; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const markerMatch = MARKER.exec(line);
    if (markerMatch) {
      if (pending) problems.push({ doc, line: pending.line, message: 'marker without a block' });
      try {
        pending = { marker: parseMarker(markerMatch[1] as string), line: i + 1 };
      } catch (error) {
        problems.push({ doc, line: i + 1, message: (error as Error).message });
        pending = undefined;
      }
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      if (pending && line.trim() !== '') {
        problems.push({ doc, line: pending.line, message: 'marker not followed by a code block' });
        pending = undefined;
      }
      continue;
    }
    const indent = (fence[1] as string).length;
    const ticks = fence[2] as string;
    const info = (fence[3] as string).trim();
    if (ticks[0] === '`' && info.includes('`')) continue; // not a fence (inline code)
    const close = new RegExp(`^ {0,3}${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j] as string); j++) {
      const content = lines[j] as string;
      const strip = Math.min(indent, content.length - content.trimStart().length);
      body.push(content.slice(strip));
    }
    blocks.push({
      doc,
      line: i + 2,
      lang: (info.split(/\s+/)[0] ?? '').toLowerCase(),
      info,
      code: body.length > 0 ? `${body.join('\n')}\n` : '',
      marker: pending?.marker ?? { run: false, expectOnce: false },
    });
    pending = undefined;
    i = j; // past the closing fence (or the end of the file)
  }
  if (pending) problems.push({ doc, line: pending.line, message: 'marker without a block' });
  return { blocks, problems };
}

/** A link (or image) target found in markdown text. */
export interface Link {
  line: number;
  target: string;
}

/**
 * Every link target of a markdown text: inline links and images, reference definitions,
 * autolinks and HTML `href`/`src` attributes, outside code blocks and code spans.
 */
export function extractLinks(text: string): Link[] {
  const links: Link[] = [];
  const lines = text.split(/\r?\n/);
  let fence: RegExp | undefined;
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (fence) {
      if (fence.test(raw)) fence = undefined;
      return;
    }
    const open = FENCE.exec(raw);
    if (open && !(open[2]?.startsWith('`') && open[3]?.includes('`'))) {
      const ticks = open[2] as string;
      fence = new RegExp(`^ {0,3}${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`);
      return;
    }
    const text = raw.replace(/(`+)(?:(?!\1).)+?\1/g, ''); // code spans
    const reference = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(text);
    if (reference) links.push({ line, target: reference[1] as string });
    for (const m of text.matchAll(/\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      links.push({ line, target: m[1] as string });
    for (const m of text.matchAll(/<((?:https?|mailto):[^\s>]+)>/g))
      links.push({ line, target: m[1] as string });
    for (const m of text.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g))
      links.push({ line, target: m[1] as string });
  });
  return links;
}

/**
 * The anchors GitHub gives the headings of a markdown text: lower case, punctuation dropped,
 * spaces to hyphens, `-1`, `-2`… for repeats.
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: RegExp | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (fence) {
      if (fence.test(raw)) fence = undefined;
      continue;
    }
    const open = FENCE.exec(raw);
    if (open) {
      const ticks = open[2] as string;
      fence = new RegExp(`^ {0,3}${ticks[0] === '`' ? '`' : '~'}{${ticks.length},}\\s*$`);
      continue;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const slug = slugify(heading[1] as string);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** GitHub's slug of a heading's text. */
export function slugify(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images keep their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/ /g, '-');
}
