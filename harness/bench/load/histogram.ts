/**
 * A latency histogram with bounded relative error, in the manner of HdrHistogram: log-linear buckets over
 * integer nanoseconds, 1024 linear sub-buckets per power of two, so any recorded value is known to within
 * 1/1024 (0.1 %) of itself. Fixed memory (about 115 KiB), O(1) to record, no allocation per value.
 */

// 2048 exact buckets for 0..2047 ns; above, each power of two [2^k, 2^(k+1)) splits into SUB buckets.
const SUB_BITS = 10;
const SUB = 1 << SUB_BITS;
const EXACT = 2 * SUB;
/** Largest value held in a bucket of its own: 2^40 ns ≈ 18 minutes; larger values count in the last bucket. */
const MAX_SHIFT = 40 - SUB_BITS;
const BUCKETS = EXACT + MAX_SHIFT * SUB;

// Index of the highest set bit of a non-negative integer below 2^53.
function topBit(n: number): number {
  const high = Math.floor(n / 2 ** 32);
  return high > 0 ? 63 - Math.clz32(high) : 31 - Math.clz32(n);
}

function bucketOf(ns: number): number {
  if (ns < EXACT) return ns;
  // ns >= 2048: shifted right by `shift`, it lands in 1024..2047, the sub-bucket of its power of two.
  const shift = topBit(ns) - SUB_BITS;
  if (shift > MAX_SHIFT) return BUCKETS - 1;
  const top = Math.floor(ns / 2 ** shift);
  return EXACT + (shift - 1) * SUB + (top - SUB);
}

/** The largest value (ns) a bucket holds. */
function highestOf(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const shift = Math.floor((bucket - EXACT) / SUB) + 1;
  const top = SUB + ((bucket - EXACT) % SUB);
  return (top + 1) * 2 ** shift - 1;
}

/** Latency percentiles in milliseconds, as the report model names them. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly 'p99.9': number;
  readonly max: number;
}

/** A histogram of durations. Record in milliseconds (as `performance.now()` differences); read in milliseconds. */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #sum = 0;

  /** Values recorded. */
  get count(): number {
    return this.#count;
  }
  /** Exact largest value recorded, ms (0 when empty). */
  get max(): number {
    return this.#max;
  }
  /** Exact smallest value recorded, ms (0 when empty). */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }
  /** Mean, ms (0 when empty). */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Records one duration in ms; negative and non-finite values count as 0. */
  record(ms: number): void {
    const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#counts[bucketOf(Math.round(v * 1e6))]! += 1;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
    if (v < this.#min) this.#min = v;
  }

  /** Adds another histogram's values to this one. */
  add(other: LatencyHistogram): void {
    const theirs = other.#counts;
    const mine = this.#counts;
    for (let i = 0; i < BUCKETS; i++) if (theirs[i] !== 0) mine[i]! += theirs[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#count > 0) {
      this.#max = Math.max(this.#max, other.#max);
      this.#min = Math.min(this.#min, other.#min);
    }
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#min = Number.POSITIVE_INFINITY;
    this.#max = 0;
    this.#sum = 0;
  }

  /**
   * The value at or below which `q` (0..1) of the values fall, ms: the highest value of the bucket holding
   * the ⌈q·count⌉-th smallest value, never above the exact maximum. Non-decreasing in `q`; 0 when empty.
   */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * this.#count));
    if (rank >= this.#count) return this.#max;
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i]!;
      // The last bucket also holds everything past its range: only the exact maximum bounds it.
      if (seen >= rank) return i === BUCKETS - 1 ? this.#max : Math.min(this.#max, highestOf(i) / 1e6);
    }
    return this.#max;
  }

  /** p50, p90, p99, p99.9 and the maximum, ms. */
  summary(): LatencySummary {
    return { p50: this.percentile(0.5), p90: this.percentile(0.9), p99: this.percentile(0.99), 'p99.9': this.percentile(0.999), max: this.#max };
  }
}

/** @internal For tests: the bucket arithmetic. */
export const histogramInternals = { bucketOf, highestOf, BUCKETS, EXACT, SUB };
