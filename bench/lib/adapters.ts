/**
 * Adapters for benchmark scripts that print human lines instead of a
 * `BENCH_RESULT` line: each turns the printed figures into results. The
 * preferred way is for a script to call `emit()` (lib/result.ts); an adapter
 * is only used when a script prints no `BENCH_RESULT` line.
 */
import { type BenchResult, result } from './result.js';

export interface Adapter {
  /** Extra arguments for the script. */
  args: string[];
  parse(stdout: string): BenchResult[];
}

function num(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  if (!m?.[1]) throw new Error(`no match for ${pattern} in the output`);
  return Number(m[1]);
}

export const ADAPTERS: Record<string, Adapter> = {
  'sse-throughput': {
    args: [],
    parse(stdout) {
      const mb = num(stdout, /stream: ([\d.]+) MB/);
      const bare = num(stdout, /bare fetch \+ eventsource-parser[^\n]*?, ([\d.]+) MB\/s/);
      const sdk = num(stdout, /session\.chat\(\)[^\n]*?, ([\d.]+) MB\/s/);
      return [
        result({
          id: 'sse-throughput',
          title: `SSE throughput, ${Math.round(mb)} MB of ADK events through session.chat()`,
          unit: 'MB/s',
          sdk,
          baseline: bare,
          baselineLabel: 'fetch + eventsource-parser + JSON.parse',
          goal: { op: '>=', value: 0.8, on: 'ratio', label: '≥ 0.8×' },
          details: { streamMB: mb },
        }),
      ];
    },
  },
  'emulator-upload-rss': {
    args: [],
    parse(stdout) {
      const size = num(stdout, /upload: ([\d.]+) MB multipart/);
      const growth = num(stdout, /server RSS growth: ([\d.]+) MB/);
      return [
        result({
          id: 'emulator-upload-rss',
          title: `Emulator server RSS growth, ${size} MB multipart upload`,
          unit: 'MB',
          sdk: growth,
          baseline: size,
          baselineLabel: 'upload size (what buffering would cost)',
          goal: { op: '<=', value: 64, on: 'sdk', label: '< 64 MB' },
          details: { throughputMBs: num(stdout, /\(([\d.]+) MB\/s\)/) },
        }),
      ];
    },
  },
};
