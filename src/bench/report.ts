/** What a run found: the summary of each phase, the correctness checks, the table on stdout and the chart's data. */
import { type DbTime, type DbTimeSummary, summarizeDbTime } from './engine-metrics';
import type { CorrelationBook, DlqCount } from './observer';
import { MACHINE } from './resources';
import type { CapacityStep, PhaseResult, SecondSample } from './run';
import { type ChartSpec } from './svg';
import { mean, roundStats, summarize } from './stats';

export interface ResourceSummary {
  cpuAvgPct: number | null;
  cpuMaxPct: number | null;
  rssStartMb: number | null;
  rssMaxMb: number | null;
  rssEndMb: number | null;
  cpuSeconds: number | null;
  /** CPU milliseconds per correlation decided (per workflow completed for the ceiling). */
  cpuMsPerCorrelation: number | null;
  /** A process tree (PostgreSQL and its backends): the most processes it had at once. */
  processesMax?: number;
}

/**
 * The processes whose CPU counts towards a phase's total: all but the machine and the bench's own
 * process (the load generator and observer, and on the cluster engine the frontend balancer too).
 */
const NOT_IN_TOTAL = new Set([MACHINE, 'bench']);

export interface CpuTotal {
  /** CPU milliseconds of the processes below per correlation decided (per workflow completed for a ceiling). */
  msPerCorrelation: number | null;
  cpuSeconds: number;
  processes: string[];
}

export interface CapacitySummary {
  steps: CapacityStep[];
  /** The highest step rate reached before the first step that was not sustainable; null if none was. */
  sustainableRatePerMinute: number | null;
  sustainableCorrelationsPerSecond: number | null;
  reachedBound: boolean;
  stoppedBy: string | null;
}

export interface PhaseSummary {
  unit: string;
  loadSeconds: number;
  settleSeconds: number;
  interrupted: boolean;
  offeredRatePerMinute: number;
  /** The last capacity step's rate; the offered rate without a capacity search. */
  finalRatePerMinute: number;
  offeredUnits: number;
  sentUnits: number;
  achievedRatePerMinute: number;
  sendErrors: number;
  sendErrorSamples: string[];
  maxBacklog: number;
  correlations: {
    started: number;
    complete: number;
    partial: number;
    decided: number;
    lost: number;
    duplicated: number;
    duplicateMessages: number;
    unexpected: number;
    completeDecidedIncomplete: number;
  };
  latencyMs: {
    complete: ReturnType<typeof roundStats>;
    /**
     * Complete correlations again, from their last signal (with agents spread out, the time the agents themselves took
     * is left out).
     */
    completeFromLastSignal: ReturnType<typeof roundStats>;
    partial: ReturnType<typeof roundStats>;
  };
  decidedPerSecondDuringLoad: number;
  decidedPerSecondOverall: number;
  /** (send errors + lost correlations) / units sent. */
  errorRate: number;
  dlq?: DlqCount;
  /** Per process; `machine` is the whole machine (CPU of every process; its RSS figures are memory in use). */
  resources: Record<string, ResourceSummary>;
  /**
   * CPU (% of one core) the machine spent on processes this run did not sample, on average under load: how busy it was
   * otherwise.
   */
  otherWorkCpuAvgPct: number | null;
  /** Every sampled process's CPU but the bench's own, added up (each one's is under resources). */
  cpuTotal: CpuTotal;
  /**
   * The Temporal server's database time per correlation decided (its own metrics, every node's added up), when it
   * exposes them.
   */
  engine: DbTimeSummary | null;
  capacity?: CapacitySummary;
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
const orNull = (x: number): number | null => (Number.isFinite(x) ? round(x, 1) : null);

export function summarizeCapacity(steps: CapacityStep[]): CapacitySummary {
  let best: CapacityStep | undefined;
  let stoppedBy: CapacityStep | undefined;
  for (const step of steps) {
    if (!step.sustainable) {
      stoppedBy = step;
      break;
    }
    best = step;
  }
  return {
    steps,
    sustainableRatePerMinute: best ? round(best.ratePerMinute, 0) : null,
    sustainableCorrelationsPerSecond: best ? round(best.correlationsPerSecond) : null,
    reachedBound: stoppedBy !== undefined && !stoppedBy.reason?.startsWith('cut short'),
    stoppedBy: stoppedBy ? `step ${stoppedBy.index + 1}: ${stoppedBy.reason}` : null,
  };
}

/** Machine CPU minus the sampled processes' CPU, averaged over the seconds under load. */
function otherWorkCpu(series: SecondSample[]): number | null {
  const others: number[] = [];
  for (const s of series) {
    const machine = s.resources[MACHINE]?.cpuPct;
    if (s.rate <= 0 || typeof machine !== 'number') continue;
    const ours = Object.entries(s.resources).reduce(
      (sum, [name, r]) => sum + (name !== MACHINE && typeof r.cpuPct === 'number' ? r.cpuPct : 0),
      0,
    );
    others.push(Math.max(0, machine - ours));
  }
  return orNull(mean(others));
}

function summarizeResources(
  series: SecondSample[],
  cpuSeconds: Record<string, number>,
  decided: number,
): Record<string, ResourceSummary> {
  const names = new Set(series.flatMap((s) => Object.keys(s.resources)));
  const out: Record<string, ResourceSummary> = {};
  for (const name of names) {
    const loaded = series
      .filter((s) => s.rate > 0)
      .map((s) => s.resources[name]?.cpuPct)
      .filter((v): v is number => typeof v === 'number');
    const rss = series.map((s) => s.resources[name]?.rssMb).filter((v): v is number => typeof v === 'number');
    const cpu = cpuSeconds[name];
    const processes = series.map((s) => s.resources[name]?.processes).filter((v): v is number => typeof v === 'number');
    out[name] = {
      cpuAvgPct: orNull(mean(loaded)),
      cpuMaxPct: loaded.length > 0 ? Math.max(...loaded) : null,
      rssStartMb: rss.length > 0 ? rss[0] : null,
      rssMaxMb: rss.length > 0 ? Math.max(...rss) : null,
      rssEndMb: rss.length > 0 ? rss[rss.length - 1] : null,
      cpuSeconds: cpu ?? null,
      cpuMsPerCorrelation: cpu !== undefined && decided > 0 ? round((cpu * 1000) / decided, 3) : null,
      ...(processes.length > 0 ? { processesMax: Math.max(...processes) } : {}),
    };
  }
  return out;
}

/** The CPU of every sampled process but the machine and the bench, per correlation decided. */
export function summarizeCpuTotal(cpuSeconds: Record<string, number>, decided: number): CpuTotal {
  const processes = Object.keys(cpuSeconds).filter((name) => !NOT_IN_TOTAL.has(name));
  const total = processes.reduce((sum, name) => sum + cpuSeconds[name], 0);
  return {
    msPerCorrelation: decided > 0 && processes.length > 0 ? round((total * 1000) / decided, 3) : null,
    cpuSeconds: round(total),
    processes,
  };
}

export function summarizePhase(
  unit: string,
  ratePerMinute: number,
  result: PhaseResult,
  book: CorrelationBook,
  dlq?: DlqCount,
  dbTime?: DbTime,
): PhaseSummary {
  const loadMinutes = result.loadMs / 60_000;
  const partial = book.partialLatencies.length + countUndecidedPartial(book);
  const lost = book.published - book.decided;
  const sent = result.pacer.sent;
  const span =
    book.lastDecisionAt !== undefined && book.firstSentAtAll !== undefined
      ? (book.lastDecisionAt - book.firstSentAtAll) / 1000
      : 0;
  return {
    unit,
    loadSeconds: round(result.loadMs / 1000, 1),
    settleSeconds: round(result.settledMs / 1000, 1),
    interrupted: result.interrupted,
    offeredRatePerMinute: round(ratePerMinute, 1),
    finalRatePerMinute: round(result.steps?.[result.steps.length - 1]?.ratePerMinute ?? ratePerMinute, 1),
    offeredUnits: result.pacer.offered,
    sentUnits: sent,
    achievedRatePerMinute: loadMinutes > 0 ? round(sent / loadMinutes, 1) : 0,
    sendErrors: result.pacer.errors,
    sendErrorSamples: result.errorSamples,
    maxBacklog: result.pacer.maxBacklog,
    correlations: {
      started: book.published,
      complete: book.published - partial,
      partial,
      decided: book.decided,
      lost,
      duplicated: book.duplicatedCorrelations,
      duplicateMessages: book.duplicateMessages,
      unexpected: book.unexpected,
      completeDecidedIncomplete: book.decidedIncomplete,
    },
    latencyMs: {
      complete: roundStats(summarize(book.completeLatencies)),
      completeFromLastSignal: roundStats(summarize(book.completeLatenciesFromLast)),
      partial: roundStats(summarize(book.partialLatencies)),
    },
    decidedPerSecondDuringLoad: result.loadMs > 0 ? round(result.decidedDuringLoad / (result.loadMs / 1000)) : 0,
    decidedPerSecondOverall: span > 0 ? round(book.decided / span) : 0,
    errorRate: sent > 0 ? round((result.pacer.errors + lost) / sent, 6) : 0,
    ...(dlq ? { dlq } : {}),
    resources: summarizeResources(result.series, result.cpuSeconds, book.decided),
    otherWorkCpuAvgPct: otherWorkCpu(result.series),
    cpuTotal: summarizeCpuTotal(result.cpuSeconds, book.decided),
    engine: dbTime ? summarizeDbTime(dbTime, book.decided) : null,
    ...(result.steps ? { capacity: summarizeCapacity(result.steps) } : {}),
  };
}

function countUndecidedPartial(book: CorrelationBook): number {
  let n = 0;
  for (let i = 0; i < book.count; i++) if (book.isPartial(i) && book.latencyOf(i) === undefined) n++;
  return n;
}

/** What is wrong with a run, if anything: lost or duplicated decisions, DLQ entries, send errors. */
export function correctnessProblems(
  summary: PhaseSummary,
  name: string,
  capacityMode: boolean,
): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const c = summary.correlations;
  if (c.lost > 0) {
    (capacityMode ? warnings : errors).push(
      `${name}: ${c.lost} of ${c.started} correlations not decided by the end of the settle (${summary.settleSeconds} s; a longer --settle tells late from lost)`,
    );
  }
  if (c.duplicated > 0) errors.push(`${name}: ${c.duplicated} correlations decided more than once`);
  if (c.unexpected > 0) errors.push(`${name}: ${c.unexpected} decisions for correlations never published`);
  if (summary.sendErrors > 0)
    errors.push(`${name}: ${summary.sendErrors} sends failed (${summary.sendErrorSamples[0] ?? ''})`);
  if ((summary.dlq?.ours ?? 0) > 0)
    errors.push(`${name}: ${summary.dlq?.ours} signals in the DLQ (${JSON.stringify(summary.dlq?.reasons)})`);
  if (c.completeDecidedIncomplete > 0)
    warnings.push(
      `${name}: ${c.completeDecidedIncomplete} complete correlations decided with an agent missing (the timer fired before the last signal got through)`,
    );
  return { errors, warnings };
}

// ---- the table on stdout ----

const ms = (x: number | null): string =>
  x === null ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;
const pct = (x: number | null): string => (x === null ? '-' : `${Math.round(x)} %`);
const mb = (x: number | null): string => (x === null ? '-' : `${Math.round(x)} MB`);

function latencyCell(stats: PhaseSummary['latencyMs']['complete']): string {
  if (stats.count === 0) return '-';
  return `${ms(stats.p50)} / ${ms(stats.p95)} / ${ms(stats.p99)} / ${ms(stats.max)} / ${ms(stats.mean)}`;
}

export interface Ratio {
  /** What the ratios compare. */
  basis: string;
  oursOverC1: number | null;
  oursOverC2: number | null;
}

export function formatTable(phases: Array<{ name: string; summary: PhaseSummary }>, ratio: Ratio | undefined): string {
  const rows: string[][] = [['', ...phases.map((p) => p.name)]];
  const row = (label: string, cell: (s: PhaseSummary) => string): void =>
    void rows.push([label, ...phases.map((p) => cell(p.summary))]);
  row('load', (s) => `${s.loadSeconds} s + ${s.settleSeconds} s settle${s.interrupted ? ' (interrupted)' : ''}`);
  row('offered', (s) =>
    s.capacity
      ? `${Math.round(s.offeredRatePerMinute)} to ${Math.round(s.finalRatePerMinute)} ${s.unit}/min in ${s.capacity.steps.length} steps`
      : `${Math.round(s.offeredRatePerMinute)} ${s.unit}/min`,
  );
  row(
    'achieved',
    (s) => `${Math.round(s.achievedRatePerMinute)} ${s.unit}/min (${s.sentUnits} sent, max backlog ${s.maxBacklog})`,
  );
  row('correlations started', (s) => `${s.correlations.started} (${s.correlations.partial} partial)`);
  row('decided', (s) => String(s.correlations.decided));
  row('lost / duplicated', (s) => `${s.correlations.lost} / ${s.correlations.duplicated}`);
  row('latency p50/p95/p99/max/mean', (s) => latencyCell(s.latencyMs.complete));
  row('  from the last signal', (s) => latencyCell(s.latencyMs.completeFromLastSignal));
  row('  partial (incl. timeout)', (s) => latencyCell(s.latencyMs.partial));
  row('decided/s during load', (s) => String(s.decidedPerSecondDuringLoad));
  row('error rate', (s) => `${(s.errorRate * 100).toFixed(3)} % (${s.sendErrors} send errors)`);
  row('DLQ', (s) => (s.dlq ? String(s.dlq.ours) : '-'));
  const names = [...new Set(phases.flatMap((p) => Object.keys(p.summary.resources)))].filter((n) => n !== MACHINE);
  row('machine CPU avg/max (all processes)', (s) =>
    s.resources[MACHINE] ? `${pct(s.resources[MACHINE].cpuAvgPct)} / ${pct(s.resources[MACHINE].cpuMaxPct)}` : '-',
  );
  row('  of which other work', (s) => pct(s.otherWorkCpuAvgPct));
  row('machine memory in use max', (s) => mb(s.resources[MACHINE]?.rssMaxMb ?? null));
  for (const name of names) {
    row(`${name} CPU avg/max`, (s) =>
      s.resources[name] ? `${pct(s.resources[name].cpuAvgPct)} / ${pct(s.resources[name].cpuMaxPct)}` : '-',
    );
    row(`${name} RSS start/max/end`, (s) =>
      s.resources[name]
        ? `${mb(s.resources[name].rssStartMb)} / ${mb(s.resources[name].rssMaxMb)} / ${mb(s.resources[name].rssEndMb)}`
        : '-',
    );
    row(`${name} CPU ms per correlation`, (s) => String(s.resources[name]?.cpuMsPerCorrelation ?? '-'));
    if (phases.some((p) => p.summary.resources[name]?.processesMax !== undefined))
      row(`${name} processes max`, (s) => String(s.resources[name]?.processesMax ?? '-'));
  }
  row('CPU ms per correlation, all but bench', (s) =>
    s.cpuTotal.msPerCorrelation === null
      ? '-'
      : `${s.cpuTotal.msPerCorrelation} (${s.cpuTotal.processes.length} processes)`,
  );
  row('engine DB ms per correlation', (s) =>
    s.engine
      ? `${s.engine.dbMsPerCorrelation} (execution ${s.engine.persistenceMsPerCorrelation}, visibility ${s.engine.visibilityMsPerCorrelation})`
      : '-',
  );
  row('engine DB operations per correlation', (s) => (s.engine ? String(s.engine.requestsPerCorrelation) : '-'));
  if (phases.some((p) => p.summary.capacity)) {
    row('sustainable rate', (s) =>
      s.capacity?.sustainableRatePerMinute != null
        ? `${s.capacity.sustainableRatePerMinute} ${s.unit}/min (${s.capacity.sustainableCorrelationsPerSecond} correlations/s)`
        : 'none',
    );
    row('stopped by', (s) => s.capacity?.stoppedBy ?? 'max steps reached');
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  if (ratio)
    lines.push(`ours / C1: ${ratio.oursOverC1 ?? '-'}   ours / C2: ${ratio.oursOverC2 ?? '-'}   (${ratio.basis})`);
  return lines.join('\n');
}

// ---- the chart ----

export function phaseChart(
  title: string,
  subtitle: string,
  series: SecondSample[],
  completion: string,
  steps?: CapacityStep[],
): ChartSpec {
  const names = [...new Set(series.flatMap((s) => Object.keys(s.resources)))].filter((n) => n !== MACHINE);
  const loadEnd = series.find((s) => s.rate === 0);
  return {
    title,
    subtitle,
    t: series.map((s) => s.t),
    panels: [
      {
        title: 'throughput (per second)',
        lines: [
          { name: `${completion}/s`, values: series.map((s) => s.decided) },
          { name: 'correlations started/s', values: series.map((s) => s.started), dashed: true },
        ],
      },
      {
        title: 'p95 latency, complete correlations (ms)',
        lines: [{ name: 'p95 ms', values: series.map((s) => s.p95Ms) }],
      },
      {
        title: 'RSS (MB)',
        lines: names.map((name) => ({ name, values: series.map((s) => s.resources[name]?.rssMb ?? null) })),
      },
      {
        title: 'CPU (% of one core)',
        lines: [
          ...names.map((name) => ({ name, values: series.map((s) => s.resources[name]?.cpuPct ?? null) })),
          {
            name: 'machine (all processes)',
            values: series.map((s) => s.resources[MACHINE]?.cpuPct ?? null),
            color: '#7f7f7f',
            dashed: true,
          },
        ],
      },
    ],
    markers: [
      ...(steps ?? [])
        .filter((s) => s.endS - s.startS >= 2)
        .map((s) => ({ t: s.startS, label: `${Math.round(s.ratePerMinute)}/min` })),
      ...(loadEnd ? [{ t: loadEnd.t - 1, label: 'load ends' }] : []),
    ],
  };
}
