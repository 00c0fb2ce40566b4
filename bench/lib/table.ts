import { type BenchResult, fmt } from './result.js';

/** A plain-text table (also valid Markdown). */
export function table(results: readonly BenchResult[]): string {
  const header = ['Benchmark', 'SDK', 'Baseline', 'Ratio', 'Goal', 'Met'];
  const rows = results.map((r) => [
    r.title,
    `${fmt(r.sdk)} ${r.unit}`,
    `${fmt(r.baseline)} ${r.unit} (${r.baselineLabel})`,
    Number.isFinite(r.ratio) ? `${fmt(r.ratio)}×` : '—',
    r.goal ? (r.goal.on === 'ratio' ? `ratio ${r.goal.label}` : r.goal.label) : '—',
    r.pass === undefined ? '—' : r.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    // `| --- |` with spaces: the form Biome's markdown formatter keeps (docs/performance.md is linted).
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}
