/**
 * The Temporal server's own account of its database time, read from its Prometheus /metrics: the
 * `persistence_latency` and `visibility_persistence_latency` histograms (seconds) and their
 * request counts, by operation. A phase's figure is the difference between two scrapes.
 */

export interface DbTime {
  /** Seconds spent in execution-store operations, and how many. */
  persistenceSeconds: number;
  persistenceRequests: number;
  /** The same for the visibility store. */
  visibilitySeconds: number;
  visibilityRequests: number;
  /** Seconds and count per operation (execution and visibility stores together). */
  byOperation: Record<string, { seconds: number; count: number }>;
}

const SAMPLE = /^(persistence_latency|visibility_persistence_latency)_(sum|count)\{([^}]*)\} ([0-9.eE+-]+)$/;

/** Adds up the histograms' sums and counts over every label set of a /metrics text. */
export function parseDbTime(text: string): DbTime {
  const out: DbTime = {
    persistenceSeconds: 0,
    persistenceRequests: 0,
    visibilitySeconds: 0,
    visibilityRequests: 0,
    byOperation: {},
  };
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, metric, kind, labels, raw] = match;
    const value = Number(raw);
    const visibility = metric === 'visibility_persistence_latency';
    if (kind === 'sum') out[visibility ? 'visibilitySeconds' : 'persistenceSeconds'] += value;
    else out[visibility ? 'visibilityRequests' : 'persistenceRequests'] += value;
    const operation = /operation="([^"]*)"/.exec(labels)?.[1] ?? 'unknown';
    const entry = (out.byOperation[operation] ??= { seconds: 0, count: 0 });
    if (kind === 'sum') entry.seconds += value;
    else entry.count += value;
  }
  return out;
}

/** What happened between two scrapes. */
export function dbTimeBetween(before: DbTime, after: DbTime): DbTime {
  const byOperation: DbTime['byOperation'] = {};
  for (const [operation, end] of Object.entries(after.byOperation)) {
    const start = before.byOperation[operation] ?? { seconds: 0, count: 0 };
    if (end.count > start.count)
      byOperation[operation] = { seconds: end.seconds - start.seconds, count: end.count - start.count };
  }
  return {
    persistenceSeconds: after.persistenceSeconds - before.persistenceSeconds,
    persistenceRequests: after.persistenceRequests - before.persistenceRequests,
    visibilitySeconds: after.visibilitySeconds - before.visibilitySeconds,
    visibilityRequests: after.visibilityRequests - before.visibilityRequests,
    byOperation,
  };
}

/** The database time of several servers together (the nodes of a cluster, each with its own /metrics). */
export function sumDbTime(times: DbTime[]): DbTime {
  const out: DbTime = {
    persistenceSeconds: 0,
    persistenceRequests: 0,
    visibilitySeconds: 0,
    visibilityRequests: 0,
    byOperation: {},
  };
  for (const time of times) {
    out.persistenceSeconds += time.persistenceSeconds;
    out.persistenceRequests += time.persistenceRequests;
    out.visibilitySeconds += time.visibilitySeconds;
    out.visibilityRequests += time.visibilityRequests;
    for (const [operation, { seconds, count }] of Object.entries(time.byOperation)) {
      const entry = (out.byOperation[operation] ??= { seconds: 0, count: 0 });
      entry.seconds += seconds;
      entry.count += count;
    }
  }
  return out;
}

async function scrapeDbTime(metricsUrl: string): Promise<DbTime> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${metricsUrl} answered ${response.status}`);
  return parseDbTime(await response.text());
}

/** Scrapes every server's /metrics (a cluster's nodes) and adds their database time up. */
export async function scrapeTotalDbTime(
  metricsUrls: string[],
  scrape: (url: string) => Promise<DbTime> = scrapeDbTime,
): Promise<DbTime> {
  return sumDbTime(await Promise.all(metricsUrls.map((url) => scrape(url))));
}

export interface DbTimeSummary {
  /** Execution plus visibility store time per correlation (ms). */
  dbMsPerCorrelation: number;
  persistenceMsPerCorrelation: number;
  visibilityMsPerCorrelation: number;
  /** Database operations per correlation, both stores. */
  requestsPerCorrelation: number;
  /** The five operations that took the most time, per correlation. */
  topOperations: Array<{ operation: string; msPerCorrelation: number; perCorrelation: number }>;
}

const round = (x: number): number => Number(x.toFixed(3));

export function summarizeDbTime(time: DbTime, correlations: number): DbTimeSummary | null {
  if (correlations <= 0) return null;
  const per = (x: number): number => round(x / correlations);
  return {
    dbMsPerCorrelation: per((time.persistenceSeconds + time.visibilitySeconds) * 1000),
    persistenceMsPerCorrelation: per(time.persistenceSeconds * 1000),
    visibilityMsPerCorrelation: per(time.visibilitySeconds * 1000),
    requestsPerCorrelation: per(time.persistenceRequests + time.visibilityRequests),
    topOperations: Object.entries(time.byOperation)
      .sort(([, a], [, b]) => b.seconds - a.seconds)
      .slice(0, 5)
      .map(([operation, { seconds, count }]) => ({
        operation,
        msPerCorrelation: per(seconds * 1000),
        perCorrelation: per(count),
      })),
  };
}
