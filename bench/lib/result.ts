/**
 * The shape every benchmark reports, and the child-process protocol of `bench/run.ts`.
 *
 * A benchmark script exports `run(): Promise<BenchResult[]>`. Run directly
 * (`node --import tsx bench/x.ts`), it prints a human line per result and one
 * machine line `BENCH_RESULT <json array>` that the runner parses.
 */

/** How a figure is judged against its goal. */
export interface Goal {
  /** `<=`: at most `value`; `>=`: at least `value`; `==`: exactly `value`. */
  op: '<=' | '>=' | '==';
  value: number;
  /** What the goal applies to: the ratio, or the SDK's absolute figure. */
  on: 'ratio' | 'sdk';
  /** Human form, e.g. "≤ 1.25×". */
  label: string;
}

/** One measured figure: the SDK's number, the raw baseline's, and their ratio. */
export interface BenchResult {
  /** Stable id, e.g. `request-overhead`. */
  id: string;
  /** Short title for the table. */
  title: string;
  /** Unit of `sdk` and `baseline` (`ms`, `MB/s`, `requests`, `KB`…). */
  unit: string;
  /** The SDK's figure. */
  sdk: number;
  /** The raw baseline's figure, measured in the same run. */
  baseline: number;
  /** What the baseline is, e.g. "fetch + JSON.parse". */
  baselineLabel: string;
  /** `sdk / baseline`. */
  ratio: number;
  /** The goal, if the issue sets one. */
  goal?: Goal | undefined;
  /** Whether the goal is met (`undefined` when there is no goal). */
  pass?: boolean | undefined;
  /** Extra figures (per-round samples, RSS, sizes…). */
  details?: Record<string, unknown> | undefined;
}

/** Build a result, computing the ratio and checking the goal. */
export function result(
  fields: Omit<BenchResult, 'ratio' | 'pass'> & { ratio?: number },
): BenchResult {
  const ratio = fields.ratio ?? (fields.baseline === 0 ? Number.NaN : fields.sdk / fields.baseline);
  const out: BenchResult = { ...fields, ratio };
  if (fields.goal) out.pass = meets(fields.goal, fields.goal.on === 'ratio' ? ratio : fields.sdk);
  return out;
}

function meets(goal: Goal, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  switch (goal.op) {
    case '<=':
      return value <= goal.value;
    case '>=':
      return value >= goal.value;
    case '==':
      return value === goal.value;
  }
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Print results for the runner (one machine line) and for a human. */
export function emit(results: BenchResult[]): void {
  for (const r of results) {
    const verdict = r.pass === undefined ? '' : r.pass ? ' ok' : ' MISSED';
    console.error(
      `${r.title}: sdk ${fmt(r.sdk)} ${r.unit}, baseline ${fmt(r.baseline)} ${r.unit} (${r.baselineLabel}), ratio ${fmt(r.ratio)}${r.goal ? `, goal ${r.goal.label}` : ''}${verdict}`,
    );
  }
  console.log(`${RESULT_PREFIX}${JSON.stringify(results)}`);
}

/** Parse the machine line(s) out of a child's stdout. */
export function parseResults(stdout: string): BenchResult[] {
  const out: BenchResult[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(RESULT_PREFIX)) {
      const parsed = JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult | BenchResult[];
      out.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    }
  }
  return out;
}

/** A number with sensible precision for tables. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs === 0 || Number.isInteger(n)) return String(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** Run `main` when the file is the entry point (`node --import tsx bench/x.ts`). */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return new URL(importMetaUrl).pathname === new URL(`file://${entry}`).pathname;
  } catch {
    return false;
  }
}
