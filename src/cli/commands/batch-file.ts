/**
 * The list file of `nemovideo batch`: one item per line, checked as a whole
 * before anything runs, so a typo on line 180 is reported before line 1 costs
 * credits.
 *
 * - `input`, `input<TAB>prompt` or `input<TAB>prompt<TAB>output`: a video link
 *   (http/https) or a local file path; an empty prompt takes the default;
 * - a JSON object: `{"input": "…", "prompt": "…", "output": "…"}` (`input` may
 *   also be an array: several clips in one video);
 * - blank lines and lines starting with `#` are skipped.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, resolve } from 'node:path';

/** One item of the list, with the line it came from. */
export interface BatchLine {
  /** 1-based line number in the file. */
  line: number;
  /** Links as given (trimmed), paths absolute. */
  inputs: string[];
  prompt: string | undefined;
  /** The absolute output path. */
  output: string;
}

/** A line that cannot run, and why. */
export interface BatchLineProblem {
  line: number;
  message: string;
}

export interface ParseBatchOptions {
  /** Folder of the outputs (`-o`), absolute. */
  outDir: string;
  /** Folder relative input paths are resolved against (the current directory). */
  cwd: string;
  /** Extensions the service accepts (lower case, no dot). */
  acceptedFormats: readonly string[];
}

const JSON_KEYS = new Set(['input', 'prompt', 'output']);

function isLink(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/** A file-name-safe slug: letters, digits, `-`, `_`, `.`; at most 60 characters. */
function slug(text: string): string {
  const cleaned = text
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  return cleaned === '' ? 'video' : cleaned;
}

/**
 * The output name when the line gives none: `<file name>.mp4` for a local
 * file; `<last path segment>-<6 hex>.mp4` for a link (links often end alike,
 * `watch?v=…`; a digest of the line's inputs and prompt keeps the name stable
 * across reruns, which is what lets a rerun find the job again).
 */
function defaultName(inputs: readonly string[], prompt: string | undefined) {
  const input = inputs[0] ?? '';
  const digest = shortHash(`${inputs.join('\n')}\t${prompt ?? ''}`);
  if (isLink(input)) {
    let base = 'video';
    try {
      const url = new URL(input);
      const last = url.pathname.split('/').filter(Boolean).pop();
      base = last ? last.replace(/\.[^.]*$/, '') : url.hostname;
    } catch {
      // reported by the input check
    }
    return { name: `${slug(base)}-${digest}.mp4`, digest, unique: true };
  }
  return { name: `${slug(basename(input, extname(input)))}.mp4`, digest, unique: false };
}

function splitFields(
  text: string,
): { inputs: string[]; prompt?: string; output?: string } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return { problem: `not valid JSON (${(error as Error).message})` };
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return {
        problem: 'a JSON line must be an object: {"input": "…", "prompt": "…", "output": "…"}',
      };
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((k) => !JSON_KEYS.has(k));
    if (unknown.length > 0) {
      return {
        problem: `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (use "input", "prompt" and "output")`,
      };
    }
    const { input, prompt, output } = record;
    const inputs = typeof input === 'string' ? [input] : input;
    if (
      !Array.isArray(inputs) ||
      inputs.length === 0 ||
      !inputs.every((i): i is string => typeof i === 'string')
    ) {
      return { problem: '"input" must be a link or a path (or a non-empty array of them)' };
    }
    for (const [key, field] of [
      ['prompt', prompt],
      ['output', output],
    ] as const) {
      if (field !== undefined && field !== null && typeof field !== 'string') {
        return { problem: `"${key}" must be a string` };
      }
    }
    const out: { inputs: string[]; prompt?: string; output?: string } = { inputs };
    if (typeof prompt === 'string' && prompt.trim() !== '') out.prompt = prompt.trim();
    if (typeof output === 'string' && output.trim() !== '') out.output = output.trim();
    return out;
  }
  const fields = text.split('\t');
  if (fields.length > 3) {
    return {
      problem: `${fields.length} tab-separated fields; a line has at most 3 (input, prompt, output)`,
    };
  }
  const [input = '', prompt = '', output = ''] = fields.map((f) => f.trim());
  const out: { inputs: string[]; prompt?: string; output?: string } = { inputs: [input] };
  if (prompt !== '') out.prompt = prompt;
  if (output !== '') out.output = output;
  return out;
}

async function checkInput(
  input: string,
  options: ParseBatchOptions,
): Promise<{ value: string } | { problem: string }> {
  const value = input.trim();
  if (value === '') return { problem: 'no input (a video link or a file path comes first)' };
  if (isLink(value)) {
    try {
      return { value: new URL(value).href };
    } catch {
      return { problem: `"${value}" is not a valid link` };
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return { problem: `"${value}" is not an http(s) link or a file path` };
  }
  const path = resolve(options.cwd, value);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return { problem: `file not found: ${value}` };
  }
  if (!info.isFile()) return { problem: `not a file: ${value}` };
  const ext = extname(path).slice(1).toLowerCase();
  if (!options.acceptedFormats.includes(ext)) {
    return {
      problem: `${value}: ${ext === '' ? 'no file extension' : `.${ext} files are not accepted`} (accepted: ${options.acceptedFormats.join(', ')})`,
    };
  }
  return { value: path };
}

function outputPath(name: string, outDir: string): { path: string } | { problem: string } {
  const ext = extname(name).toLowerCase();
  if (ext !== '' && ext !== '.mp4') {
    return { problem: `output "${name}" must be an .mp4 file (or a name without extension)` };
  }
  const withExt = ext === '' ? `${name}.mp4` : name;
  return { path: isAbsolute(withExt) ? withExt : resolve(outDir, withExt) };
}

/**
 * Parse and check a batch list. Returns the items, or every problem found
 * (each with its line number); never a mix.
 */
export async function parseBatchFile(
  text: string,
  options: ParseBatchOptions,
): Promise<{ items: BatchLine[]; problems: BatchLineProblem[] }> {
  const problems: BatchLineProblem[] = [];
  const parsed: {
    line: number;
    inputs: string[];
    prompt: string | undefined;
    output?: string;
  }[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = splitFields(raw);
    if ('problem' in fields) {
      problems.push({ line, message: fields.problem });
      continue;
    }
    const inputs: string[] = [];
    let bad = false;
    for (const input of fields.inputs) {
      const checked = await checkInput(input, options);
      if ('problem' in checked) {
        problems.push({ line, message: checked.problem });
        bad = true;
      } else inputs.push(checked.value);
    }
    if (bad) continue;
    const entry: (typeof parsed)[number] = { line, inputs, prompt: fields.prompt };
    if (fields.output !== undefined) entry.output = fields.output;
    parsed.push(entry);
  }

  // Output paths: given, or derived; a derived file name that clashes gets the input's digest.
  const derived = parsed.map((p) =>
    p.output === undefined ? defaultName(p.inputs, p.prompt) : undefined,
  );
  const nameCount = new Map<string, number>();
  for (const d of derived) if (d) nameCount.set(d.name, (nameCount.get(d.name) ?? 0) + 1);
  const items: BatchLine[] = [];
  const byPath = new Map<string, number>();
  for (const [i, p] of parsed.entries()) {
    const d = derived[i];
    let name = p.output;
    if (d) {
      name =
        !d.unique && (nameCount.get(d.name) ?? 0) > 1
          ? d.name.replace(/\.mp4$/, `-${d.digest}.mp4`)
          : d.name;
    }
    const out = outputPath(name ?? '', options.outDir);
    if ('problem' in out) {
      problems.push({ line: p.line, message: out.problem });
      continue;
    }
    const first = byPath.get(out.path);
    if (first !== undefined) {
      problems.push({
        line: p.line,
        message: `writes the same file as line ${first} (${out.path}); give one of them another output name`,
      });
      continue;
    }
    byPath.set(out.path, p.line);
    items.push({ line: p.line, inputs: p.inputs, prompt: p.prompt, output: out.path });
  }
  problems.sort((a, b) => a.line - b.line);
  return problems.length > 0 ? { items: [], problems } : { items, problems };
}
