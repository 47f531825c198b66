import { percentile, roundStats, sortedCopy, summarize } from '../../src/bench/stats';

describe('bench stats', () => {
  it('takes percentiles by the nearest-rank method', () => {
    const data = [15, 20, 35, 40, 50];
    expect(percentile(data, 5)).toBe(15);
    expect(percentile(data, 30)).toBe(20);
    expect(percentile(data, 40)).toBe(20);
    expect(percentile(data, 50)).toBe(35);
    expect(percentile(data, 100)).toBe(50);
  });

  it('gives the expected percentiles of 1..1000', () => {
    const data = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(data, 50)).toBe(500);
    expect(percentile(data, 95)).toBe(950);
    expect(percentile(data, 99)).toBe(990);
    expect(percentile(data, 99.9)).toBe(999);
  });

  it('is NaN for no data and refuses a percentile outside (0, 100]', () => {
    expect(percentile([], 95)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('sorts numerically, not as strings', () => {
    expect(sortedCopy([10, 9, 100, 1.5])).toEqual([1.5, 9, 10, 100]);
  });

  it('summarizes unsorted data: count, min, percentiles, max and mean', () => {
    const data = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(summarize(data)).toEqual({ count: 100, min: 1, p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(summarize([7])).toEqual({ count: 1, min: 7, p50: 7, p95: 7, p99: 7, max: 7, mean: 7 });
  });

  it('summarizes no data as count 0 and nulls once rounded for JSON', () => {
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(empty.p95).toBeNaN();
    expect(roundStats(empty)).toEqual({ count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null });
    expect(roundStats(summarize([1.234, 5.678])).mean).toBe(3.5);
  });
});
