/**
 * One measured phase (the orchestrator's, or the ceiling's): paced load at a fixed rate or in
 * rising capacity steps, a sample every second, progress every 5 s, then the settle.
 */
import { type ArrivalPlan, Pacer, type PacerStats, type Send } from './load';
import type { CorrelationBook } from './observer';
import type { ProcessSample, ResourceSampler } from './resources';
import { percentile, sortedCopy } from './stats';

const PROGRESS_EVERY_S = 5;
/** A tick may fire a little early or late: a duration ends on the tick nearest to it. */
const TICK_SLACK_MS = 100;

export interface CapacityPlan {
  stepMs: number;
  factor: number;
  maxSteps: number;
  p95BoundMs: number;
}

export interface PhaseConfig {
  /** `orchestrator` or `ceiling`: the progress lines' prefix. */
  name: string;
  /** What one unit of load is: `signals` or `workflows`. */
  unit: string;
  /** What one completion is: `decisions` or `workflows`. */
  completion: string;
  /** What happened to a completed correlation: `decided` or `completed`. */
  doneWord: string;
  /** Units per minute (the first step's with a capacity plan). */
  ratePerMinute: number;
  /** Average units per correlation, to convert rates. */
  unitsPerCorrelation: number;
  durationMs: number;
  capacity?: CapacityPlan;
  settleMs: number;
  maxInFlight: number;
  /** When each correlation's units go out, and how one is sent (see Pacer). */
  plan: ArrivalPlan;
  send: Send;
  book: CorrelationBook;
  sampler: ResourceSampler;
  /** The process whose RSS the progress lines show. */
  headlineProcess: string;
  say: (line: string) => void;
  /** True once the user asked to stop (Ctrl-C): the load ends and the phase settles. */
  interrupted: () => boolean;
}

export interface SecondSample {
  /** Seconds since the load started (end of the second). */
  t: number;
  /** Offered rate during this second, units per minute (0 while settling). */
  rate: number;
  /** Units due during this second at that rate. */
  offered: number;
  /** Units sent during this second. */
  sent: number;
  /** Correlations started during this second. */
  started: number;
  /** Correlations decided during this second. */
  decided: number;
  /** p95 latency (ms) of the complete correlations decided during this second. */
  p95Ms: number | null;
  /** Correlations started and not yet decided. */
  undecided: number;
  resources: Record<string, ProcessSample>;
}

export interface CapacityStep {
  index: number;
  ratePerMinute: number;
  correlationsPerSecond: number;
  startS: number;
  endS: number;
  correlations: number;
  /** p95 of the step's complete correlations, counting those undecided at the check as above any bound. */
  p95Ms: number | null;
  undecidedAtCheck: number;
  /** Units sent over units offered during the step. */
  keptUp: number;
  sustainable: boolean;
  reason?: string;
}

export interface PhaseResult {
  /** How long the load ran (ms). */
  loadMs: number;
  /** How long the settle took (ms). */
  settledMs: number;
  pacer: PacerStats;
  errorSamples: string[];
  /** Correlations decided while the load ran. */
  decidedDuringLoad: number;
  series: SecondSample[];
  steps?: CapacityStep[];
  cpuSeconds: Record<string, number>;
  interrupted: boolean;
}

interface OpenStep {
  step: CapacityStep;
  startN: number;
  endN?: number;
  offeredAtStart: number;
  sentAtStart: number;
  checkAtS?: number;
}

/** Judges a finished capacity step from its correlations' latencies; pure. */
export function judgeStep(
  latencies: Array<number | undefined>,
  keptUp: number,
  p95BoundMs: number,
): Pick<CapacityStep, 'p95Ms' | 'undecidedAtCheck' | 'sustainable' | 'reason'> {
  const undecided = latencies.filter((l) => l === undefined).length;
  if (latencies.length === 0)
    return { p95Ms: null, undecidedAtCheck: 0, sustainable: false, reason: 'no complete correlation in the step' };
  const p95 = percentile(sortedCopy(latencies.map((l) => l ?? Number.POSITIVE_INFINITY)), 95);
  if (keptUp < 0.95)
    return {
      p95Ms: Number.isFinite(p95) ? p95 : null,
      undecidedAtCheck: undecided,
      sustainable: false,
      reason: `the publisher sent only ${(keptUp * 100).toFixed(0)} % of the offered load`,
    };
  if (!(p95 <= p95BoundMs)) {
    return {
      p95Ms: Number.isFinite(p95) ? p95 : null,
      undecidedAtCheck: undecided,
      sustainable: false,
      reason: Number.isFinite(p95)
        ? `p95 ${Math.round(p95)} ms above the bound of ${p95BoundMs} ms`
        : `decisions fell behind: ${undecided} of ${latencies.length} undecided ${p95BoundMs} ms after the step`,
    };
  }
  return { p95Ms: p95, undecidedAtCheck: undecided, sustainable: true };
}

export async function runPhase(config: PhaseConfig): Promise<PhaseResult> {
  const { book, sampler, say, capacity } = config;
  const pacer = new Pacer(
    config.ratePerMinute,
    config.unitsPerCorrelation,
    config.maxInFlight,
    config.plan,
    config.send,
  );
  const series: SecondSample[] = [];
  const steps: OpenStep[] = [];
  const startedAt = performance.now();
  const elapsedS = (): number => (performance.now() - startedAt) / 1000;

  let loading = true;
  let loadMs = 0;
  let decidedDuringLoad = 0;
  let settleStartS = 0;
  let allDecidedTicks = 0;
  let interrupted = false;
  let last = { offered: 0, sent: 0, started: 0, decided: 0 };

  const openStep = (index: number, ratePerMinute: number): void => {
    const stats = pacer.stats();
    steps.push({
      step: {
        index,
        ratePerMinute,
        correlationsPerSecond: ratePerMinute / 60 / config.unitsPerCorrelation,
        startS: elapsedS(),
        endS: 0,
        correlations: 0,
        p95Ms: null,
        undecidedAtCheck: 0,
        keptUp: 1,
        sustainable: false,
      },
      startN: book.count,
      offeredAtStart: stats.offered,
      sentAtStart: stats.sent,
    });
  };
  const closeStep = (open: OpenStep): void => {
    const stats = pacer.stats();
    open.endN = book.count;
    open.step.endS = elapsedS();
    const offered = stats.offered - open.offeredAtStart;
    open.step.keptUp = offered > 0 ? (stats.sent - open.sentAtStart) / offered : 1;
    open.checkAtS = open.step.endS + capacity!.p95BoundMs / 1000;
  };
  const checkStep = (open: OpenStep): boolean => {
    const latencies: Array<number | undefined> = [];
    for (let n = open.startN; n < (open.endN ?? book.count); n++)
      if (!book.isPartial(n)) latencies.push(book.latencyOf(n));
    open.step.correlations = latencies.length;
    Object.assign(open.step, judgeStep(latencies, open.step.keptUp, capacity!.p95BoundMs));
    open.checkAtS = undefined;
    const s = open.step;
    say(
      `[${config.name}] step ${s.index + 1}: ${Math.round(s.ratePerMinute)} ${config.unit}/min (${s.correlationsPerSecond.toFixed(1)} correlations/s): ` +
        (s.sustainable ? `sustainable, p95 ${Math.round(s.p95Ms ?? 0)} ms` : `not sustainable: ${s.reason}`),
    );
    return s.sustainable;
  };
  /** Ends the running step without judging it: it does not count. */
  const cutShort = (why: string): void => {
    const current = steps[steps.length - 1];
    if (!current || current.endN !== undefined) return;
    closeStep(current);
    current.checkAtS = undefined;
    Object.assign(current.step, { sustainable: false, reason: `cut short: ${why}` });
  };
  const stopLoading = async (): Promise<void> => {
    loading = false;
    loadMs = performance.now() - startedAt;
    await pacer.stop();
    decidedDuringLoad = book.decided;
    settleStartS = elapsedS();
    say(
      `[${config.name}] load stopped after ${(loadMs / 1000).toFixed(1)} s; waiting up to ${config.settleMs / 1000} s for the last ${config.completion}`,
    );
  };

  if (capacity) openStep(0, config.ratePerMinute);
  pacer.start();
  for (let tick = 1; ; tick++) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + tick * 1000 - performance.now())));
    const stats = pacer.stats();
    const window = book.takeWindow();
    const sortedWindow = sortedCopy(window.latencies);
    series.push({
      t: tick,
      rate: loading ? pacer.rate : 0,
      offered: stats.offered - last.offered,
      sent: stats.sent - last.sent,
      started: book.count - last.started,
      decided: book.decided - last.decided,
      p95Ms: sortedWindow.length > 0 ? Math.round(percentile(sortedWindow, 95) * 10) / 10 : null,
      undecided: book.undecided,
      resources: sampler.sample(),
    });
    last = { offered: stats.offered, sent: stats.sent, started: book.count, decided: book.decided };
    if (tick % PROGRESS_EVERY_S === 0) say(progressLine(config, series, stats, loading));

    if (loading) {
      if (config.interrupted()) {
        interrupted = true;
        cutShort('interrupted');
        await stopLoading();
      } else if (!capacity) {
        if (elapsedS() * 1000 + TICK_SLACK_MS >= config.durationMs) await stopLoading();
      } else {
        const current = steps[steps.length - 1];
        let failed = false;
        for (const open of steps)
          if (open.checkAtS !== undefined && elapsedS() >= open.checkAtS && !checkStep(open)) failed = true;
        if (failed) {
          cutShort('an earlier step was not sustainable');
          await stopLoading();
        } else if ((elapsedS() - current.step.startS) * 1000 + TICK_SLACK_MS >= capacity.stepMs) {
          closeStep(current);
          if (steps.length >= capacity.maxSteps) await stopLoading();
          else {
            const rate = current.step.ratePerMinute * capacity.factor;
            pacer.setRate(rate);
            openStep(steps.length, rate);
          }
        }
      }
      continue;
    }

    // Settling: capacity checks fall due, then wait until every correlation is decided (and one second more for any
    // duplicate).
    for (const open of steps)
      if (open.checkAtS !== undefined && (elapsedS() >= open.checkAtS || book.undecided === 0)) checkStep(open);
    allDecidedTicks = book.undecided === 0 ? allDecidedTicks + 1 : 0;
    const pendingChecks = steps.some((o) => o.checkAtS !== undefined);
    if ((allDecidedTicks >= 2 && !pendingChecks) || (elapsedS() - settleStartS) * 1000 >= config.settleMs) break;
  }
  for (const open of steps) if (open.checkAtS !== undefined) checkStep(open);

  return {
    loadMs,
    settledMs: Math.round((elapsedS() - settleStartS) * 1000),
    pacer: pacer.stats(),
    errorSamples: pacer.errorMessages(),
    decidedDuringLoad,
    series,
    ...(capacity ? { steps: steps.map((o) => o.step) } : {}),
    cpuSeconds: sampler.cpuSecondsUsed(),
    interrupted,
  };
}

function progressLine(config: PhaseConfig, series: SecondSample[], stats: PacerStats, loading: boolean): string {
  const { book } = config;
  const recent = series.slice(-PROGRESS_EVERY_S);
  const perSecond = recent.reduce((sum, s) => sum + s.decided, 0) / Math.max(1, recent.length);
  const p95 = percentile(sortedCopy(book.completeLatencies), 95);
  const rss = series[series.length - 1]?.resources[config.headlineProcess]?.rssMb;
  const t = series[series.length - 1]?.t ?? 0;
  const parts = [
    loading ? `${stats.sent} ${config.unit} sent, ${book.count} correlations started` : 'settling',
    `${book.decided} ${config.doneWord}`,
    `in flight ${book.undecided}`,
    `p95 so far ${Number.isFinite(p95) ? `${Math.round(p95)} ms` : '-'}`,
    `${perSecond.toFixed(1)} ${config.completion}/s`,
    ...(rss != null ? [`${config.headlineProcess} RSS ${Math.round(rss)} MB`] : []),
    ...(stats.errors > 0 ? [`${stats.errors} send errors`] : []),
  ];
  return `[${config.name} ${String(t).padStart(4)}s] ${parts.join(' | ')}`;
}
