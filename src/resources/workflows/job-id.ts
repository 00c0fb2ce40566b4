import { nodePath } from '../../core/node.js';
import { ConfigError } from '../../errors/errors.js';
import { redactValue } from '../../errors/redact.js';
import type { ExportJobInput } from './journal.js';

/** True when an input is a web link (uploaded with `uploadUrl`), not a local path. */
export function isLink(input: string): boolean {
  return /^https?:\/\//i.test(input.trim());
}

/**
 * The job's inputs in the one form they are hashed and recorded in: links
 * normalised (`new URL().href`), paths made absolute, options without
 * `undefined` keys.
 */
export async function normalizeInput(job: {
  inputs: readonly string[];
  to: string;
  prompt?: string | undefined;
  quality?: string | undefined;
  language?: string | undefined;
}): Promise<ExportJobInput> {
  if (job === null || typeof job !== 'object') {
    throw new ConfigError('workflows.export() needs a job: { inputs, to, prompt?, quality? }.');
  }
  const { inputs, to } = job;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new ConfigError(
      'workflows.export(): inputs must list at least one video link or file path.',
    );
  }
  if (typeof to !== 'string' || to.trim() === '') {
    throw new ConfigError('workflows.export(): to must be the path of the MP4 to write.');
  }
  for (const key of ['prompt', 'quality', 'language'] as const) {
    const value = job[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new ConfigError(`workflows.export(): ${key} must be a non-empty string when given.`);
    }
  }
  const path = await nodePath().catch((error: unknown) => {
    throw new ConfigError(
      'workflows.export() writes to a file path: it needs Node.js (or a runtime with node:path and node:fs).',
      { cause: error },
    );
  });
  const normalized: ExportJobInput = {
    inputs: inputs.map((input, i) => {
      if (typeof input !== 'string' || input.trim() === '') {
        throw new ConfigError(
          `workflows.export(): inputs[${i}] must be a video link or a file path (got ${JSON.stringify(input)}).`,
        );
      }
      if (!isLink(input)) return path.resolve(input);
      try {
        return new URL(input.trim()).href;
      } catch {
        throw new ConfigError(`workflows.export(): inputs[${i}] is not a valid URL.`);
      }
    }),
    to: path.resolve(to),
  };
  if (job.prompt !== undefined) normalized.prompt = job.prompt;
  if (job.quality !== undefined) normalized.quality = job.quality;
  if (job.language !== undefined) normalized.language = job.language;
  return normalized;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The stable id of an export job: `job_` and 16 hex digits of a SHA-256 of
 * the API origin and the normalised inputs (links, absolute paths, prompt,
 * output path, quality, language). The same command run again finds the same
 * entry; change any input and it is another job.
 */
export async function exportJobId(apiUrl: string, input: ExportJobInput): Promise<string> {
  const key = JSON.stringify([
    'export',
    apiUrl,
    input.inputs,
    input.prompt ?? null,
    input.to,
    input.quality ?? null,
    input.language ?? null,
  ]);
  return `job_${(await sha256Hex(key)).slice(0, 16)}`;
}

/**
 * A digest of the parts of a session state a turn changes (the timeline,
 * uploaded and generated media), to tell after a crash whether a turn ran.
 */
export async function stateDigest(raw: unknown): Promise<string> {
  const state = (raw as { state?: Record<string, unknown> | null } | null)?.state ?? {};
  const key = JSON.stringify([
    state.draft ?? null,
    state.video_infos ?? [],
    state.generated_media ?? [],
  ]);
  return `sha256:${await sha256Hex(key)}`;
}

/** The input as it may be written to disk: anything that looks like a credential redacted. */
export function recordableInput(input: ExportJobInput): {
  input: ExportJobInput;
  redacted: boolean;
} {
  const safe = redactValue(input) as ExportJobInput;
  return { input: safe, redacted: JSON.stringify(safe) !== JSON.stringify(input) };
}
