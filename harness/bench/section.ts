/**
 * What a bench section is. Sections live beside this file and are listed in `main.ts` (no globbing), so
 * `npm run bench -- <name>` and the code cannot drift.
 */

/** One measured figure. */
export interface BenchRow {
  /** What was measured, e.g. `decode STDOUT (1 MiB chunks)`. */
  readonly name: string;
  readonly value: number;
  /** Unit of `value`, e.g. `MB/s` (10^6 bytes per second) or `req/s`. */
  readonly unit: string;
  /** The row this one is compared with (same section), and the ratio the issue asks for, if any. */
  readonly baseline?: { readonly name: string; readonly goal?: number };
  /**
   * The ratio to the baseline when it was measured otherwise than `value / baseline.value`, e.g. the median
   * of round-by-round ratios of runs made back to back; the goal is judged on it.
   */
  readonly ratio?: number;
  /** One short remark: sizes, repetitions, what the figure includes. */
  readonly note?: string;
}

/** A named group of measurements. `run` does its own warm-up and repetitions. */
export interface BenchSection {
  readonly name: string;
  readonly title: string;
  run(): Promise<BenchRow[]>;
}
