/** Latency statistics for the benchmark: pure functions, no I/O. */

export interface LatencyStats {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The p-th percentile (0 < p ≤ 100) of values sorted ascending, by the nearest-rank method: the
 * smallest value with at least p % of the values at or below it. NaN for no values.
 */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const n = sortedAscending.length;
  if (n === 0) return Number.NaN;
  // The epsilon keeps float error (99.9 % of 1000 = 999.0000000000001) from skipping a rank.
  const rank = Math.ceil((p / 100) * n - 1e-9);
  return sortedAscending[Math.min(n, Math.max(1, rank)) - 1];
}

/** Sorts a copy ascending (numbers, not strings). */
export function sortedCopy(values: Iterable<number>): number[] {
  return Array.from(Float64Array.from(values).sort());
}

/** Count, min, p50, p95, p99, max and mean of the values; every figure NaN when there are none. */
export function summarize(values: Iterable<number>): LatencyStats {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0)
    return {
      count: 0,
      min: Number.NaN,
      p50: Number.NaN,
      p95: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
    };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: sorted[0],
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[n - 1],
    mean: sum / n,
  };
}

/** The figures rounded to 0.1, and null where not finite (JSON has no NaN). */
export function roundStats(stats: LatencyStats): Record<keyof LatencyStats, number | null> {
  const round = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
  return {
    count: stats.count,
    min: round(stats.min),
    p50: round(stats.p50),
    p95: round(stats.p95),
    p99: round(stats.p99),
    max: round(stats.max),
    mean: round(stats.mean),
  };
}

/** Mean of the values, NaN when empty. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
