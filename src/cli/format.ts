/** Small, dependency-free formatting helpers for human output. */

/**
 * A byte count for people: `532 B`, `1.4 MB`, `2.03 GB` (powers of 1024, one or two decimals).
 *
 * @example
 * ```ts
 * formatBytes(1_468_006); // "1.4 MB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '? B';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const fixed = value.toFixed(digits);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return `${trimmed} ${units[unit]}`;
}

/**
 * A duration in seconds as `m:ss` or `h:mm:ss`.
 *
 * @example
 * ```ts
 * formatDuration(75.4); // "1:15"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Shortens `text` to `max` characters on one line, ending with an ellipsis when cut.
 *
 * @example
 * ```ts
 * oneLine('a\nlong reply', 8); // "a long…"
 * ```
 */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}
