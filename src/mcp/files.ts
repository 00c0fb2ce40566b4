/**
 * The local files the MCP server may touch. An agent names paths; the server reads media to
 * upload and writes MP4s only inside the allowed folders (`--root`, default the working
 * directory), checked on the real path so a symlink or `..` cannot lead outside.
 *
 * @module
 */

import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import {
  basename,
  dirname,
  extname,
  isAbsolute,
  join,
  parse,
  relative,
  resolve,
  sep,
} from 'node:path';
import { fileURLToPath } from 'node:url';
import { ToolInputError } from './results.js';

/** One allowed folder: as given (absolute) and as resolved on disk. */
interface Root {
  given: string;
  real: string;
}

/** Thrown for a bad `--root`. */
export class RootsError extends Error {
  override name = 'RootsError';
}

/** The allowed folders. The first one is where relative paths start. */
export class AllowedFolders {
  readonly #roots: readonly Root[];

  private constructor(roots: readonly Root[]) {
    this.#roots = roots;
  }

  /**
   * Resolve `--root` folders (relative to `cwd`); each must exist and be a folder. Without any,
   * the working directory, or the home folder when the working directory is the filesystem
   * root (as for servers some desktop hosts start).
   */
  static async resolve(dirs: readonly string[], cwd: string): Promise<AllowedFolders> {
    const wanted = dirs.length > 0 ? dirs : [parse(cwd).root === cwd ? homedir() : cwd];
    const roots: Root[] = [];
    for (const dir of wanted) {
      const given = resolve(cwd, expandHome(dir));
      let real: string;
      try {
        real = await realpath(given);
      } catch {
        throw new RootsError(`--root ${dir}: no such folder (${given}).`);
      }
      if (!(await stat(real)).isDirectory()) throw new RootsError(`--root ${dir}: not a folder.`);
      if (!roots.some((r) => r.real === real)) roots.push({ given, real });
    }
    return new AllowedFolders(roots);
  }

  /** The allowed folders as given, for messages. */
  get list(): string[] {
    return this.#roots.map((r) => r.given);
  }

  /** Where relative paths start: the first allowed folder. */
  get base(): string {
    return this.#roots[0]!.given;
  }

  #lexicallyInside(path: string): boolean {
    return this.#roots.some((r) => inside(r.given, path) || inside(r.real, path));
  }

  #reallyInside(realPath: string): boolean {
    return this.#roots.some((r) => inside(r.real, realPath));
  }

  #outside(input: string, verb: 'read' | 'write'): ToolInputError {
    return new ToolInputError(
      'PathNotAllowed',
      `"${input}" is outside the folders this server may ${verb}: ${this.list.join(', ')}.`,
      verb === 'read'
        ? 'Use a file inside one of those folders (copy it there first), or ask the user to add its folder to the server with --root.'
        : 'Choose a path inside one of those folders (a relative path is taken from the first), or ask the user to add the folder to the server with --root.',
    );
  }

  /**
   * The real path of an existing file to read. Outside the allowed folders → `PathNotAllowed`
   * (before anything on disk is looked at); missing → `FileNotFound`.
   */
  async readable(input: string): Promise<string> {
    const path = this.#absolute(input);
    if (!this.#lexicallyInside(path)) throw this.#outside(input, 'read');
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      throw new ToolInputError(
        'FileNotFound',
        `No file at "${input}" (${path}).`,
        'Check the path (relative paths start at the first allowed folder).',
      );
    }
    if (!this.#reallyInside(real)) throw this.#outside(input, 'read');
    return real;
  }

  /**
   * Where to write an MP4: `input` (a file path ending in .mp4, or a folder to put
   * `defaultName` in), default `defaultName` in the first allowed folder. Creates missing
   * folders inside the allowed ones. Refuses an existing file unless `overwrite`.
   */
  async writable(
    input: string | undefined,
    defaultName: string,
    overwrite: boolean,
  ): Promise<string> {
    let path = input === undefined ? join(this.base, defaultName) : this.#absolute(input);
    const shown = input ?? path;
    if (!this.#lexicallyInside(path)) throw this.#outside(shown, 'write');
    if (input !== undefined && (/[\\/]$/.test(input) || (await isFolder(path))))
      path = join(path, defaultName);
    if (extname(path).toLowerCase() !== '.mp4') {
      throw new ToolInputError(
        'InvalidPath',
        `"${shown}" does not end in .mp4: the export is an MP4 file.`,
        'Pass a path such as "videos/result.mp4", or a folder to save it in.',
      );
    }
    // The nearest existing folder must really be inside (a symlinked folder cannot lead out).
    let existing = dirname(path);
    while (!(await exists(existing))) existing = dirname(existing);
    if (!this.#reallyInside(await realpath(existing))) throw this.#outside(shown, 'write');
    await mkdir(dirname(path), { recursive: true });
    const folder = await realpath(dirname(path));
    if (!this.#reallyInside(folder)) throw this.#outside(shown, 'write');
    const target = join(folder, basename(path));
    if (!overwrite && (await exists(target))) {
      throw new ToolInputError(
        'FileExists',
        `"${shown}" already exists.`,
        'Pass overwrite: true to replace it, or choose another path.',
      );
    }
    return target;
  }

  #absolute(input: string): string {
    let text = input.trim();
    if (/^file:\/\//i.test(text)) {
      try {
        text = fileURLToPath(text);
      } catch {
        throw new ToolInputError(
          'InvalidPath',
          `"${input}" is not a usable file: URL.`,
          'Pass a plain path.',
        );
      }
    }
    if (text === '' || text.includes('\0')) {
      throw new ToolInputError('InvalidPath', 'The path is empty.', 'Pass a file path.');
    }
    return resolve(this.base, expandHome(text));
  }
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith(`~${sep}`)) return join(homedir(), path.slice(2));
  return path;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
