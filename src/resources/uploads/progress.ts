import type { TransferProgress } from '../../core/progress.js';
import type { PreparedSource } from './sources.js';

/** Progress of the file currently being sent. */
export interface UploadFileProgress {
  /** Position of the file in the `upload()` input (0 for a single file). */
  index: number;
  filename: string;
  /** Bytes of this file sent so far. */
  loadedBytes: number;
  /** Size of this file; `undefined` for a stream of unknown size until it ends. */
  totalBytes: number | undefined;
}

/**
 * One `onProgress` report of an upload: the {@link TransferProgress} of all files
 * (file bytes, multipart framing excluded; `totalBytes` is `undefined` while a
 * stream of unknown size is still being read), and the file being sent.
 */
export interface UploadProgress extends TransferProgress {
  /** The file these bytes belong to. */
  file: UploadFileProgress;
}

/**
 * Turns per-attempt byte counts into monotonic progress reports: a retry reads
 * the sources again from the start, and reports resume only once it passes the
 * furthest point already reported.
 */
export class ProgressTracker {
  readonly #sources: readonly PreparedSource[];
  readonly #callback: ((progress: UploadProgress) => void) | undefined;
  readonly #total: number | undefined;
  #loaded = 0;
  #fileLoaded: number[];
  #reported = 0;
  #complete = false;

  constructor(
    sources: readonly PreparedSource[],
    callback: ((progress: UploadProgress) => void) | undefined,
  ) {
    this.#sources = sources;
    this.#callback = callback;
    this.#fileLoaded = sources.map(() => 0);
    let total: number | undefined = 0;
    for (const s of sources)
      total = s.size === undefined || total === undefined ? undefined : total + s.size;
    this.#total = total;
  }

  /** A new attempt starts reading from zero. */
  restart(): void {
    this.#loaded = 0;
    this.#fileLoaded = this.#sources.map(() => 0);
  }

  add(source: PreparedSource, bytes: number): void {
    this.#loaded += bytes;
    this.#fileLoaded[source.index] = (this.#fileLoaded[source.index] ?? 0) + bytes;
    if (this.#loaded <= this.#reported || this.#complete) return;
    this.#reported = this.#loaded;
    if (this.#total !== undefined && this.#loaded >= this.#total) this.#complete = true;
    this.#emit(source, this.#total, this.#fileLoaded[source.index] ?? 0, source.size);
  }

  /**
   * The upload is over: report 100 % unless that was done. `everything` (the
   * server accepted the upload) counts any bytes it did not read as sent.
   */
  end(everything = false): void {
    if (this.#complete) return;
    this.#complete = true;
    const last = this.#sources[this.#sources.length - 1];
    if (!last) return;
    let loaded = Math.max(this.#loaded, this.#reported);
    let fileLoaded = this.#fileLoaded[last.index] ?? 0;
    if (everything && this.#total !== undefined) {
      loaded = this.#total;
      fileLoaded = last.size ?? fileLoaded;
    }
    this.#reported = loaded;
    this.#emit(last, this.#total ?? loaded, fileLoaded, last.size ?? fileLoaded, loaded);
  }

  #emit(
    source: PreparedSource,
    total: number | undefined,
    fileLoaded: number,
    fileTotal: number | undefined,
    loaded = this.#loaded,
  ): void {
    if (!this.#callback) return;
    // A whole number, as for downloads (one progress shape): 100 only once everything is sent.
    const percent =
      total === undefined
        ? undefined
        : total === 0 || loaded >= total
          ? 100
          : Math.min(99, Math.floor((loaded / total) * 100));
    this.#callback({
      loadedBytes: loaded,
      totalBytes: total,
      percent,
      file: {
        index: source.index,
        filename: source.filename,
        loadedBytes: fileLoaded,
        totalBytes: fileTotal,
      },
    });
  }
}
