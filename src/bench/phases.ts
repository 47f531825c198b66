/** The two measured phases: the orchestrator fed through NATS, and the bare-workflow ceiling. */
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { connectTemporalClient } from '../client/temporal-client';
import { ensureDecisionsStream } from '../nats/streams';
import { ceilingSender, ceilingWorkerProcess } from './ceiling';
import { signalPublisher, signalsPerCorrelation } from './load';
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
    ? { stepMs: options.stepDurationMs, factor: options.stepFactor, maxSteps: options.maxSteps, p95BoundMs: options.p95BoundMs }
    : undefined;
}

/** Correlations per minute the orchestrator phase offers (and the ceiling phase offers as workflows). */
export function correlationsPerMinute(options: BenchOptions): number {
  return options.ratePerMinute / signalsPerCorrelation(options.agents.length, options.partialShare);
}

export async function runOrchestratorPhase({ options, target, nc, say, interrupted }: PhaseContext): Promise<PhaseOutcome> {
  const js = nc.jetstream();
  const prefix = `bench-${options.runId}-`;
  const book = new CorrelationBook();
  // The worker creates DECISIONS with its first decision; creating it first (the same way) lets the
  // observer's consumer start before the first signal goes out.
  await ensureDecisionsStream(await nc.jetstreamManager(), target.decisionDedupeWindowMs);
  const watch = await watchDecisions(nc, js, prefix, book);
  say(
    `orchestrator: ${options.findCapacity ? `capacity search from ${options.ratePerMinute}` : options.ratePerMinute} signals/min ` +
      `(${(correlationsPerMinute(options) / 60).toFixed(1)} correlations/s of ${options.agents.join(' + ')}, ${options.partialShare * 100} % partial)` +
      `${options.findCapacity ? '' : ` for ${options.durationMs / 1000} s`}, correlation ids ${prefix}<n>`,
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
      ...signalPublisher({ js, book, prefix, agents: options.agents, partialShare: options.partialShare }),
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
}

export async function runCeilingPhase({ options, target, nc, say, interrupted }: PhaseContext): Promise<PhaseOutcome> {
  const taskQueue = `bench-ceiling-${options.runId}`;
  const prefix = `ceil-${options.runId}-`;
  const ratePerMinute = correlationsPerMinute(options);
  say(`ceiling: starting the bench ceiling worker on task queue ${taskQueue}`);
  const worker = ceilingWorkerProcess(target.processEnv, taskQueue, ceilingSubject(options.runId), join(target.logDir, 'ceiling-worker.log'));
  await worker.start();
  const client = await connectTemporalClient(target.temporal);
  const book = new CorrelationBook();
  const watch = watchCeilingCompletions(nc, options.runId, prefix, book);
  await nc.flush();
  say(
    `ceiling: ${options.findCapacity ? 'capacity search from ' : ''}${ratePerMinute.toFixed(0)} workflows/min (signal-with-start, complete)` +
      `${options.findCapacity ? '' : ` for ${options.durationMs / 1000} s`}, workflow ids ${prefix}<n>`,
  );
  try {
    const result = await runPhase({
      name: 'ceiling',
      unit: 'workflows',
      completion: 'workflows',
      doneWord: 'completed',
      ratePerMinute,
      unitsPerCorrelation: 1,
      durationMs: options.durationMs,
      capacity: capacityPlan(options),
      settleMs: options.settleMs,
      maxInFlight: options.maxInFlight,
      send: ceilingSender(client, taskQueue, prefix, book),
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
}
