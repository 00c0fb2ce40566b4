/**
 * Progress of a transfer, the one shape uploads and downloads report:
 * `{ loadedBytes, totalBytes, percent }`.
 */
export interface TransferProgress {
  /** Bytes transferred so far. Never decreases, even across a retry. */
  loadedBytes: number;
  /** Bytes in all, when known (`Content-Length`, file sizes); `undefined` otherwise. */
  totalBytes: number | undefined;
  /** A whole number from `0` to `100`, never going back; `undefined` while `totalBytes` is unknown. The last report is `100`. */
  percent: number | undefined;
}
