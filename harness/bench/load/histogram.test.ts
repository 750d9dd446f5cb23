import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, histogramInternals } from './histogram.ts';
import { RateSchedule } from './rate.ts';

const seed = 20_251_127;
console.log(`histogram properties: fast-check seed ${seed}`);

const { bucketOf, highestOf, BUCKETS } = histogramInternals;

// Exact nearest-rank percentile of a sorted list.
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('LatencyHistogram', () => {
  it('puts every value in a bucket whose range holds it, within 1/1024 of the value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), (ns) => {
        const b = bucketOf(ns);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(BUCKETS);
        const high = highestOf(b);
        const low = b === 0 ? 0 : highestOf(b - 1) + 1;
        expect(ns).toBeGreaterThanOrEqual(low);
        expect(ns).toBeLessThanOrEqual(high);
        expect(high - low).toBeLessThanOrEqual(Math.max(0, ns / 1024));
      }),
      { seed, numRuns: 2000 },
    );
  });

  it('bucket ranges are contiguous across powers of two', () => {
    for (const ns of [2047, 2048, 2049, 4095, 4096, 2 ** 20 - 1, 2 ** 20, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1]) {
      expect(highestOf(bucketOf(ns) - 1) + 1, `low edge of ${ns}`).toBeLessThanOrEqual(ns);
      expect(bucketOf(ns + 1)).toBeGreaterThanOrEqual(bucketOf(ns));
    }
  });

  it('percentiles are monotone, within 0.1 % of the exact ones, and never above the maximum', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 400 }), (values) => {
        const h = new LatencyHistogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        let previous = 0;
        for (const q of [0, 0.1, 0.5, 0.9, 0.99, 0.999, 1]) {
          const p = h.percentile(q);
          expect(p).toBeGreaterThanOrEqual(previous);
          previous = p;
          const want = exact(sorted, q);
          expect(Math.abs(p - want)).toBeLessThanOrEqual(want / 1000 + 1e-6);
        }
        expect(h.percentile(1)).toBe(h.max);
        expect(h.max).toBe(sorted[sorted.length - 1]);
        expect(h.count).toBe(values.length);
        const s = h.summary();
        expect([s.p50, s.p90, s.p99, s['p99.9'], s.max]).toEqual([s.p50, s.p90, s.p99, s['p99.9'], s.max].sort((a, b) => a - b));
      }),
      { seed, numRuns: 200 },
    );
  });

  it('adds and resets', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
    a.add(b);
    expect(a.count).toBe(100);
    expect(a.max).toBe(100);
    expect(a.min).toBe(1);
    expect(a.mean).toBeCloseTo(50.5, 6);
    expect(a.percentile(0.5)).toBeCloseTo(50, 1);
    a.reset();
    expect([a.count, a.max, a.percentile(0.99), a.mean]).toEqual([0, 0, 0, 0]);
  });

  it('counts bad input as 0 and clamps huge values into the last bucket', () => {
    const h = new LatencyHistogram();
    h.record(Number.NaN);
    h.record(-5);
    h.record(1e9); // 11.6 days
    expect(h.count).toBe(3);
    expect(h.percentile(0.5)).toBe(0);
    expect(h.percentile(1)).toBe(1e9);
  });
});

describe('RateSchedule', () => {
  it('hands out due times a fixed interval apart, however late they are taken', () => {
    const s = new RateSchedule(200, 1000);
    expect([s.next(), s.next(), s.next()]).toEqual([1000, 1005, 1010]);
    s.restart(50);
    expect(s.next()).toBe(50);
    expect(s.issued).toBe(1);
    expect(() => new RateSchedule(0)).toThrow(RangeError);
  });
});
