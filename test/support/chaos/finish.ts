/**
 * The end of a run: stops the load, waits for the stack to settle, reads what JetStream and
 * Temporal hold, has the verifier judge the decisions, checks Temporal and the DLQ, and writes the
 * report.
 */
import { cpus, loadavg } from 'node:os';
import type { StoredMsg, JetStreamManager } from 'nats';
import type { OrchestrationDecision } from '../../../src/contract/decision';
import { DECISIONS_STREAM, DLQ_STREAM } from '../../../src/nats/streams';
import { pollUntil } from '../poll';
import { faultFigures, type FaultLog } from './faults';
import type { DecisionLedger } from './ledger';
import type { ChaosLoad } from './load';
import { SEED } from './random';
import { type ChaosReport, seconds, writeReport } from './report';
import { SCALE } from './scale';
import { bridgeConsumerIdle, type ChaosStack, redeliveries } from './stack';
import { type Problem, type StoredEntry, verifyDecisions } from './verify';

export interface VerifyOptions {
  stack: ChaosStack;
  load: ChaosLoad;
  ledger: DecisionLedger;
  faults: FaultLog;
  policyTimeoutMs: number;
  startedAt: number;
  loadavgStart: number[];
  /** DLQ entries the scenario caused on purpose (by their Orch-Original-Seq or body). */
  isDeliberateDlq?: (entry: StoredMsg) => boolean;
  /**
   * Correlations outside the load the scenario created on purpose and checks itself (the poisoned
   * ones): their stored decisions are not counted as unexpected. Returns problems found.
   */
  otherCorrelations?: (entries: StoredEntry[]) => Problem[];
  extra?: Record<string, unknown>;
}

/**
 * Stops the load, waits for every correlation to be decided and for the system to go quiet (the
 * bridge consumer has nothing pending, no correlation workflow is running), then checks everything
 * stored against what was published, writes the report and returns it. It does not assert: the
 * test does, after the report is written, so a failed run still leaves its figures.
 */
export async function finishAndVerify(options: VerifyOptions): Promise<ChaosReport> {
  const { stack, load, ledger, faults, policyTimeoutMs } = options;
  await load.stop();
  const problems: Problem[] = [];
  const waitMs = policyTimeoutMs + 180_000;
  await pollUntil(
    'a decision for every published correlation',
    () => (load.correlations.every((c) => ledger.decided(c.corrId)) ? true : undefined),
    waitMs,
    250,
  ).catch((error: Error) => problems.push({ corrId: '*', problem: error.message }));
  // Quiet: nothing left for the bridge, no correlation workflow running. Then no decision can follow.
  const prefixQuery = `WorkflowId STARTS_WITH "corr-${load.prefix}"`;
  await pollUntil(
    'the stack to go quiet',
    async () =>
      (await bridgeConsumerIdle(stack.jsm)) &&
      (await stack.client.workflow.count(`${prefixQuery} AND ExecutionStatus = "Running"`)).count === 0
        ? true
        : undefined,
    120_000,
    500,
  ).catch((error: Error) => problems.push({ corrId: '*', problem: error.message }));

  // What JetStream stored: every decision, judged against what was published.
  const stored: StoredEntry[] = (await readStream(stack.jsm, DECISIONS_STREAM)).map((m) => {
    let decision: OrchestrationDecision | undefined;
    try {
      decision = m.json<OrchestrationDecision>();
    } catch {
      decision = undefined;
    }
    return { seq: m.seq, msgId: m.header?.get('Nats-Msg-Id') || undefined, decision };
  });
  const verdict = verifyDecisions(load.correlations, stored, options.otherCorrelations);
  problems.push(...verdict.problems);

  // Every correlation ran as one workflow, and it completed (visibility may lag a moment behind).
  const workflowCounts = async (): Promise<{ total: number; completed: number }> => ({
    total: (await stack.client.workflow.count(prefixQuery)).count,
    completed: (await stack.client.workflow.count(`${prefixQuery} AND ExecutionStatus = "Completed"`)).count,
  });
  const counts = await pollUntil(
    'visibility to list every correlation workflow as completed',
    async () => {
      const c = await workflowCounts();
      return c.total === load.started && c.completed === load.started ? c : undefined;
    },
    30_000,
    500,
  ).catch(() => workflowCounts());
  if (counts.total !== load.started || counts.completed !== load.started) {
    problems.push({
      corrId: '*',
      problem: `Temporal has ${counts.total} correlation workflows (${counts.completed} completed) for ${load.started} correlations`,
    });
  }

  // The DLQ holds only what the scenario put there on purpose.
  const dlq = await readStream(stack.jsm, DLQ_STREAM);
  const deliberate = dlq.filter((entry) => options.isDeliberateDlq?.(entry) ?? false);
  for (const entry of dlq.filter((e) => !deliberate.includes(e))) {
    problems.push({
      corrId: tryCorrId(entry),
      problem: `unexpected DLQ entry: ${entry.header?.get('Orch-Dlq-Reason')} ${entry.header?.get('Orch-Dlq-Detail')}`,
    });
  }

  const redelivered = await redeliveries(stack.jsm);
  let rawPublishes = 0;
  for (const c of load.correlations) rawPublishes += ledger.rawPublishes.get(c.corrId) ?? 0;
  await ledger.stop();

  const faultList = faults.faults.map((f) => faultFigures(f, load.correlations, ledger));
  const recoveries = faultList.map((f) => f.recovery_s);
  const { decided, lost, duplicated, mismatched } = verdict;
  const report: ChaosReport = {
    scenario: stack.scenario,
    scale: SCALE,
    seed: SEED,
    fault_classes: [...new Set(faults.faults.map((f) => f.kind))],
    faults_injected: faults.faults.length,
    faults: faultList,
    correlations: load.started,
    partial_correlations: load.correlations.filter((c) => c.partial).length,
    signals_published: load.signalsPublished,
    decided,
    lost,
    duplicated,
    mismatched,
    dlq_unexpected: dlq.length - deliberate.length,
    dlq_deliberate: deliberate.length,
    republishes_deduped: Math.max(0, rawPublishes - decided),
    redelivered_signals: redelivered,
    agent_publish_retries: load.publishRetries,
    recovery_s:
      recoveries.some((r) => r === null) || recoveries.length === 0 ? null : Math.max(...(recoveries as number[])),
    policy_timeout_ms: policyTimeoutMs,
    duration_s: seconds(Date.now() - options.startedAt),
    started_at: new Date(options.startedAt).toISOString(),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadavg_start: options.loadavgStart.map(round2),
      loadavg_end: loadavg().map(round2),
    },
    extra: options.extra ?? {},
    problems: problems.slice(0, 50),
    data_dir: stack.dir,
  };
  writeReport(report);
  return report;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

async function readStream(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const info = await jsm.streams.info(stream);
  const messages: StoredMsg[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    messages.push(await jsm.streams.getMessage(stream, { seq }));
  }
  return messages;
}

function tryCorrId(entry: StoredMsg): string {
  try {
    return (entry.json<{ corr_id?: string }>().corr_id ?? `dlq seq ${entry.seq}`) as string;
  } catch {
    return `dlq seq ${entry.seq}`;
  }
}
