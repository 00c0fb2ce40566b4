/**
 * The static half of `npm run docs:check`: links, file references, and the programs the
 * TypeScript blocks become. Pure over the docs' text plus a "does this path exist" callback,
 * so it is unit-tested without a consumer install (test/docs/).
 */
import { posix } from 'node:path';
import {
  type CodeBlock,
  type DocProblem,
  extractBlocks,
  extractLinks,
  headingAnchors,
  TS_LANGS,
} from './markdown.js';
import { type PackageExport, preambleFor } from './preamble.js';

/** A markdown file of the docs: its path relative to the repository root, and its text. */
export interface DocFile {
  path: string;
  text: string;
}

/** What the checks need to know about the repository. */
export interface RepoView {
  /** Whether a repository-relative path is a file or folder of the repository. */
  exists(path: string): boolean;
  /** The text of a repository markdown file (for anchors), or undefined. */
  read(path: string): string | undefined;
}

/** The absolute URL prefix of repository files. */
export const BLOB_URL =
  /^https:\/\/github\.com\/nemovideo\/nemovideo\/(?:blob|tree)\/main\/([^#?]*)(#.*)?$/;

/**
 * References that name something a user of the package does not have: the wire contract and
 * its section numbers live outside the repository.
 */
export const FORBIDDEN: readonly [RegExp, string][] = [
  [/\bprotocol\.md\b/, 'names protocol.md, which is not in the repository'],
  [/\/work\//, 'names a path outside the repository'],
  [/\bshared\//, 'names shared/, which is not in the repository'],
  [
    /§\s*\d/,
    'cites a section of the wire contract, which users do not have: say what the rule is instead',
  ],
];

/** Top-level folders whose backticked paths (`src/core/x.ts`) must exist. */
const REPO_DIRS = /^(src|docs|examples|fixtures|bench|scripts|test)\//;
/** Paths that exist only after a command (`npm run docs` writes docs/api/, `npm run bench` results.json). */
const GENERATED = /^(docs\/api(\/|$)|demo-output\/|bench\/results\.json$)/;

function checkAnchor(
  problems: DocProblem[],
  repo: RepoView,
  doc: string,
  line: number,
  file: string,
  anchor: string | undefined,
): void {
  if (!anchor || !file.endsWith('.md')) return;
  const text = repo.read(file);
  if (text === undefined) return;
  const id = decodeURIComponent(anchor.slice(1));
  if (!headingAnchors(text).has(id))
    problems.push({ doc, line, message: `${file} has no heading for the anchor #${id}` });
}

/** Links of one doc: relative ones resolve (and are absent from the README), absolute ones into the repo resolve. */
export function checkLinks(doc: DocFile, repo: RepoView): DocProblem[] {
  const problems: DocProblem[] = [];
  const isReadme = doc.path === 'README.md';
  for (const { line, target } of extractLinks(doc.text)) {
    const at = { doc: doc.path, line };
    const blob = BLOB_URL.exec(target);
    if (blob) {
      const path = decodeURIComponent((blob[1] as string).replace(/\/$/, ''));
      if (!repo.exists(path))
        problems.push({ ...at, message: `${target}: ${path} is not in the repository` });
      else checkAnchor(problems, repo, doc.path, line, path, blob[2]);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // another site, mailto:
    if (target.startsWith('#')) {
      const id = decodeURIComponent(target.slice(1));
      if (!headingAnchors(doc.text).has(id))
        problems.push({ ...at, message: `no heading here for the anchor #${id}` });
      continue;
    }
    const [pathPart = '', anchorPart] = target.split(/(?=#)/);
    const path = posix.normalize(posix.join(posix.dirname(doc.path), decodeURIComponent(pathPart)));
    if (isReadme) {
      problems.push({
        ...at,
        message: `relative link ${target}: the README is also the npm page, where the repository's files are not; link to https://github.com/nemovideo/nemovideo/blob/main/${path.replace(/\/$/, '')}`,
      });
      continue;
    }
    if (path.startsWith('..') || !repo.exists(path.replace(/\/$/, '')))
      problems.push({ ...at, message: `link ${target}: ${path} is not in the repository` });
    else checkAnchor(problems, repo, doc.path, line, path, anchorPart);
  }
  return problems;
}

/** Mentions of files a user does not have, and backticked repository files that do not exist. */
export function checkReferences(doc: DocFile, repo: RepoView): DocProblem[] {
  const problems: DocProblem[] = [];
  doc.text.split(/\r?\n/).forEach((text, index) => {
    const line = index + 1;
    for (const [pattern, message] of FORBIDDEN)
      if (pattern.test(text)) problems.push({ doc: doc.path, line, message });
    for (const m of text.matchAll(/`([^`\s]+)`/g)) {
      const path = (m[1] as string).replace(/[#:].*$/, '').replace(/\/$/, '');
      // Files only: a folder may be named before it exists (a rule for src/redis, say).
      if (!REPO_DIRS.test(path) || !/\.\w+$/.test(path) || GENERATED.test(path)) continue;
      if (/[*<>{}]/.test(path)) continue;
      if (!repo.exists(path))
        problems.push({ doc: doc.path, line, message: `\`${path}\` is not in the repository` });
    }
  });
  return problems;
}

/** One TypeScript file made from one block (with the blocks it continues, and its preamble). */
export interface BlockProgram {
  /** The block this file checks. */
  block: CodeBlock;
  /** File name relative to the blocks folder (`README.md-L25.ts`, `docs-testing.md/app.test.ts`). */
  fileName: string;
  /** The file's text. */
  text: string;
  /** Where each block's code starts in the file (0-based line), for mapping diagnostics. */
  segments: { block: CodeBlock; startLine: number; lineCount: number }[];
}

/** Written between a block and the one it continues, so a run can tell their output apart. */
export const BLOCK_SEPARATOR = '<docs: next block>';

/** The name of a doc as a file-name part (`docs/testing.md` → `docs-testing.md`). */
const docSlug = (doc: string) => doc.replace(/\//g, '-');

/**
 * The TypeScript blocks of the docs, as files to compile. Blocks marked `no-check` are left
 * out (and returned in `skipped`); `after=` chains are resolved.
 */
export function blockPrograms(
  docs: readonly DocFile[],
  exports: ReadonlyMap<string, PackageExport> = new Map(),
): {
  programs: BlockProgram[];
  skipped: CodeBlock[];
  problems: DocProblem[];
} {
  const problems: DocProblem[] = [];
  const all: CodeBlock[] = [];
  for (const doc of docs) {
    const extracted = extractBlocks(doc.path, doc.text);
    problems.push(...extracted.problems);
    all.push(...extracted.blocks);
  }
  const byId = new Map<string, CodeBlock>();
  for (const block of all) {
    const { id } = block.marker;
    if (id === undefined) continue;
    if (byId.has(id))
      problems.push({ doc: block.doc, line: block.line, message: `duplicate docs id "${id}"` });
    byId.set(id, block);
  }
  const programs: BlockProgram[] = [];
  const skipped: CodeBlock[] = [];
  for (const block of all) {
    if (!TS_LANGS.has(block.lang)) {
      if (block.marker.run || block.marker.file || block.marker.id)
        problems.push({
          doc: block.doc,
          line: block.line,
          message: `a docs marker on a "${block.lang}" block: only TypeScript blocks are checked`,
        });
      continue;
    }
    if (block.marker.noCheck !== undefined) {
      skipped.push(block);
      continue;
    }
    const chain: CodeBlock[] = [block];
    for (let at = block; at.marker.after !== undefined; ) {
      const previous = byId.get(at.marker.after);
      if (!previous) {
        problems.push({
          doc: at.doc,
          line: at.line,
          message: `no block has id=${at.marker.after}`,
        });
        break;
      }
      if (chain.includes(previous)) {
        problems.push({ doc: at.doc, line: at.line, message: 'an after= cycle' });
        break;
      }
      chain.unshift(previous);
      at = previous;
    }
    const lines: string[] = [];
    const segments: BlockProgram['segments'] = [];
    const code = chain.map((b) => b.code).join('\n');
    if (block.marker.file === undefined) lines.push(...preambleFor(code, exports));
    chain.forEach((b, index) => {
      if (index > 0) lines.push(`console.log(${JSON.stringify(BLOCK_SEPARATOR)});`);
      const blockLines = b.code.replace(/\n$/, '').split('\n');
      segments.push({ block: b, startLine: lines.length, lineCount: blockLines.length });
      lines.push(...blockLines);
    });
    const fileName =
      block.marker.file !== undefined
        ? `${docSlug(block.doc)}/${block.marker.file}`
        : `${docSlug(block.doc)}-L${block.line}.${block.lang === 'tsx' ? 'tsx' : block.lang === 'cts' ? 'cts' : 'ts'}`;
    programs.push({ block, fileName, text: `${lines.join('\n')}\n`, segments });
  }
  return { programs, skipped, problems };
}

/** Maps a 0-based line of a block program to its markdown location (undefined: another block's line). */
export function mapLine(
  program: BlockProgram,
  line: number,
): { doc: string; line: number } | undefined {
  for (const segment of program.segments) {
    if (line >= segment.startLine && line < segment.startLine + segment.lineCount) {
      if (segment.block !== program.block) return undefined; // reported by that block's own file
      return { doc: segment.block.doc, line: segment.block.line + (line - segment.startLine) };
    }
  }
  return { doc: program.block.doc, line: program.block.line }; // the preamble or a separator
}

/**
 * The output of each block of a run, in chain order: split at the separators. A run that
 * stopped early has fewer parts than blocks.
 */
export function blockOutputs(stdout: string): string[] {
  return stdout.split(`${BLOCK_SEPARATOR}\n`);
}

/**
 * `expect-once`: the output has reply text, and no sentence of it appears twice (a stream
 * loop that prints the deltas and then the final full text prints every sentence twice).
 */
export function repeatedSentences(output: string): { sentences: number; repeated: string[] } {
  const sentences = output
    .split(/(?<=[.!?。！？])|\n/)
    .map((s) => s.trim())
    .filter((s) => s.length >= 12 && /\p{L}{3}/u.test(s));
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const s of sentences) {
    if (seen.has(s)) repeated.add(s);
    seen.add(s);
  }
  return { sentences: sentences.length, repeated: [...repeated] };
}

/** Lines of a markdown text outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(raw)?.[1];
    if (fence) {
      if (open && open[0] === fence[0] && open.length >= fence.length) fence = undefined;
      return;
    }
    if (open) {
      fence = open;
      return;
    }
    lines.push({ line: index + 1, text: raw });
  });
  return lines;
}

/**
 * Error classes named in the prose of a doc (`` `TimeoutError` ``) must be exports of the
 * package (or JavaScript's own), so a rename cannot leave the docs naming a class that is gone.
 */
export function checkErrorNames(doc: DocFile, exported: ReadonlySet<string>): DocProblem[] {
  const problems: DocProblem[] = [];
  for (const { line, text } of proseLines(doc.text)) {
    for (const m of text.matchAll(/`([A-Z][A-Za-z]*Error)`/g)) {
      const name = m[1] as string;
      if (exported.has(name) || name in globalThis) continue;
      problems.push({ doc: doc.path, line, message: `\`${name}\` is not exported by the package` });
    }
  }
  return problems;
}

/**
 * The README's configuration section (`## Configuration`, up to the next `## `) documents
 * every client option and every environment variable the package reads, and no option that
 * does not exist: its tables' first cells are `` `option` `` or `` `NEMO_…` ``.
 */
export function checkConfiguration(
  readme: DocFile,
  options: readonly string[],
  envVars: readonly string[],
): DocProblem[] {
  const lines = readme.text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^## Configuration\s*$/.test(l));
  const at = { doc: readme.path, line: start + 1 };
  if (start < 0) return [{ ...at, line: 0, message: 'no "## Configuration" section' }];
  const next = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const section = lines.slice(start, next < 0 ? undefined : next);
  const documented = new Map<string, number>();
  section.forEach((l, i) => {
    const cell = /^\|\s*`([A-Za-z_][\w]*)`\s*\|/.exec(l)?.[1];
    if (cell) documented.set(cell, start + i + 1);
  });
  const problems: DocProblem[] = [];
  for (const option of options)
    if (!documented.has(option))
      problems.push({ ...at, message: `the client option \`${option}\` is not in its table` });
  for (const name of envVars)
    if (!documented.has(name))
      problems.push({ ...at, message: `the environment variable ${name} is not in its table` });
  for (const [name, line] of documented) {
    const known = /^[A-Z][A-Z0-9_]+$/.test(name) ? true : options.includes(name);
    if (!known)
      problems.push({ doc: readme.path, line, message: `\`${name}\` is not a client option` });
  }
  return problems;
}

/** The `NEMO_*` environment variables named as string literals in source text. */
export function envVarsIn(source: string): string[] {
  return [
    ...new Set([...source.matchAll(/['"`](NEMO_[A-Z0-9_]+)['"`]/g)].map((m) => m[1] as string)),
  ];
}
