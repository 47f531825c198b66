/** The measured phases: the orchestrator fed through NATS, and the engine's two ceilings. */
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { connectTemporalClient } from '../temporal/client';
import { reconcileStream } from '../nats/streams';
import { bareLoad, ceilingWorkerProcess, fanInLoad } from './ceiling';
import { type DbTime, dbTimeBetween, scrapeTotalDbTime } from './engine-metrics';
import { signalLoad, signalsPerCorrelation } from './load';
import { ceilingSubject, CorrelationBook, type DlqCount, watchCeilingCompletions, watchDecisions } from './observer';
import type { BenchOptions } from './options';
import { ResourceSampler } from './resources';
import { type CapacityPlan, type PhaseResult, runPhase } from './run';
import type { BenchTarget } from './target';

export interface PhaseOutcome {
  result: PhaseResult;
  book: CorrelationBook;
  ratePerMinute: number;
  dlq?: DlqCount;
  /** The engine's database time during the phase, when the target exposes its metrics. */
  dbTime?: DbTime;
}

export interface PhaseContext {
  options: BenchOptions;
  target: BenchTarget;
  nc: NatsConnection;
  say: (line: string) => void;
  interrupted: () => boolean;
}

function capacityPlan(options: BenchOptions): CapacityPlan | undefined {
  return options.findCapacity
    ? {
        stepMs: options.stepDurationMs,
        factor: options.stepFactor,
        maxSteps: options.maxSteps,
        p95BoundMs: options.p95BoundMs,
      }
    : undefined;
}

/** Correlations per minute the orchestrator phase offers (and the ceiling phases offer as workflows). */
export function correlationsPerMinute(options: BenchOptions): number {
  return options.ratePerMinute / signalsPerCorrelation(options.agents.length, options.partialShare);
}

/** Runs `phase` between two scrapes of the engine's metrics (every node's, added up), when it has any. */
async function withDbTime(
  target: BenchTarget,
  phase: () => Promise<Omit<PhaseOutcome, 'dbTime'>>,
): Promise<PhaseOutcome> {
  const urls = target.temporalMetricsUrls;
  const before = urls.length > 0 ? await scrapeTotalDbTime(urls) : undefined;
  const outcome = await phase();
  return before ? { ...outcome, dbTime: dbTimeBetween(before, await scrapeTotalDbTime(urls)) } : outcome;
}

export function runOrchestratorPhase({ options, target, nc, say, interrupted }: PhaseContext): Promise<PhaseOutcome> {
  return withDbTime(target, async () => {
    const js = nc.jetstream();
    const prefix = `bench-${options.runId}-`;
    const book = new CorrelationBook();
    // The worker creates DECISIONS with its first decision; creating it first (the same way) lets the
    // observer's consumer start before the first signal goes out.
    await reconcileStream(await nc.jetstreamManager(), target.decisions);
    const watch = await watchDecisions(nc, js, prefix, book);
    say(
      `orchestrator: ${options.findCapacity ? `capacity search from ${options.ratePerMinute}` : options.ratePerMinute} signals/min ` +
        `(${(correlationsPerMinute(options) / 60).toFixed(1)} correlations/s of ${options.agents.join(' + ')}, ${options.partialShare * 100} % partial, ` +
        `agents spread over ${options.agentSpreadMs} ms)${options.findCapacity ? '' : ` for ${options.durationMs / 1000} s`}, correlation ids ${prefix}<n>`,
    );
    try {
      const result = await runPhase({
        name: 'orchestrator',
        unit: 'signals',
        completion: 'decisions',
        doneWord: 'decided',
        ratePerMinute: options.ratePerMinute,
        unitsPerCorrelation: signalsPerCorrelation(options.agents.length, options.partialShare),
        durationMs: options.durationMs,
        capacity: capacityPlan(options),
        settleMs: options.settleMs,
        maxInFlight: options.maxInFlight,
        ...signalLoad({
          js,
          book,
          prefix,
          agents: options.agents,
          partialShare: options.partialShare,
          spreadMs: options.agentSpreadMs,
        }),
        book,
        sampler: new ResourceSampler({ ...target.pids(), bench: process.pid }),
        headlineProcess: 'worker',
        say,
        interrupted,
      });
      return { result, book, ratePerMinute: options.ratePerMinute, dlq: watch.dlq };
    } finally {
      await watch.stop();
    }
  });
}

/**
 * C1: one signal-with-start per correlation, of a workflow that completes in one task.
 * C2: the orchestrator's arrivals, batched as the bridge batches them, into a fan-in workflow.
 */
export type CeilingKind = 'c1' | 'c2';

const CEILING_DESCRIPTIONS: Record<CeilingKind, string> = {
  c1: 'C1, bare workflows: signal-with-start, complete',
  c2: "C2, bare fan-in: the bridge's signal-with-starts, wait for all, one no-op local activity, complete",
};

export function runCeilingPhase(
  { options, target, nc, say, interrupted }: PhaseContext,
  kind: CeilingKind,
): Promise<PhaseOutcome> {
  return withDbTime(target, async () => {
    const name = `ceiling ${kind.toUpperCase()}`;
    const taskQueue = `bench-${kind}-${options.runId}`;
    const prefix = `${kind}-${options.runId}-`;
    say(`${name}: starting the bench ceiling worker on task queue ${taskQueue}`);
    const worker = ceilingWorkerProcess(
      target.processEnv,
      taskQueue,
      ceilingSubject(options.runId),
      join(target.logDir, `ceiling-${kind}-worker.log`),
    );
    await worker.start();
    const client = await connectTemporalClient(target.temporal);
    const book = new CorrelationBook();
    const watch = watchCeilingCompletions(nc, options.runId, prefix, book);
    await nc.flush();
    const fanIn = kind === 'c2';
    const ratePerMinute = fanIn ? options.ratePerMinute : correlationsPerMinute(options);
    say(
      `${name}: ${options.findCapacity ? 'capacity search from ' : ''}${ratePerMinute.toFixed(0)} ${fanIn ? 'signals' : 'workflows'}/min (${CEILING_DESCRIPTIONS[kind]})` +
        `${options.findCapacity ? '' : ` for ${options.durationMs / 1000} s`}, workflow ids ${prefix}<n>`,
    );
    const load = fanIn
      ? fanInLoad({
          client,
          taskQueue,
          prefix,
          book,
          agents: options.agents,
          partialShare: options.partialShare,
          spreadMs: options.agentSpreadMs,
          windowMs: target.batchWindowMs,
          timeoutMs: options.timeoutMs,
        })
      : bareLoad(client, taskQueue, prefix, book);
    try {
      const result = await runPhase({
        name,
        unit: fanIn ? 'signals' : 'workflows',
        completion: 'workflows',
        doneWord: 'completed',
        ratePerMinute,
        unitsPerCorrelation: fanIn ? signalsPerCorrelation(options.agents.length, options.partialShare) : 1,
        durationMs: options.durationMs,
        capacity: capacityPlan(options),
        settleMs: options.settleMs,
        maxInFlight: options.maxInFlight,
        ...load,
        book,
        sampler: new ResourceSampler({ ...target.pids(), 'ceiling-worker': worker.pid, bench: process.pid }),
        headlineProcess: 'ceiling-worker',
        say,
        interrupted,
      });
      return { result, book, ratePerMinute };
    } finally {
      watch.stop();
      await client.connection.close();
      await worker.stop();
    }
  });
}
