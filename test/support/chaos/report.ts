/**
 * The report each scenario writes to .cache/chaos/<scenario>.json (scripts/chaos-table.js turns
 * those into tables): its shape, its one-line summary for the test log, and the assertions every
 * scenario ends with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../paths';
import type { ChaosScale } from './scale';
import type { DecisionsVerdict, Problem } from './verify';

const CHAOS_REPORT_DIR = join(REPO_ROOT, '.cache', 'chaos');

/** Milliseconds as seconds to a tenth, as the report gives its times. */
export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

export interface FaultFigures {
  kind: string;
  note?: string;
  injected_at: string;
  /** Fault injected -> removed (process back and ready, network healed). */
  outage_s: number;
  /** Fault injected -> the first decision after it was removed. */
  resumed_s: number | null;
  /** Fault injected -> every complete correlation begun before it was removed is decided. */
  recovery_s: number | null;
  /** Complete correlations whose decision waited on this fault (begun before the heal, decided after the injection). */
  affected_correlations: number;
}

/** A run's figures; `decided`, `lost`, `duplicated` and `mismatched` are the verifier's counts. */
export interface ChaosReport extends Omit<DecisionsVerdict, 'problems'> {
  scenario: string;
  scale: ChaosScale;
  /** ORCH_CHAOS_SEED=<seed> replays the run's choices. */
  seed: number;
  fault_classes: string[];
  faults_injected: number;
  faults: FaultFigures[];
  correlations: number;
  partial_correlations: number;
  signals_published: number;
  /** DLQ entries nobody meant to cause. */
  dlq_unexpected: number;
  dlq_deliberate: number;
  /** Publishes seen on orchestrated.decision beyond those stored: retries JetStream dropped by Nats-Msg-Id. */
  republishes_deduped: number;
  /** Deliveries by the bridge's consumer beyond the first of each message (after a crash, a nak, an outage). */
  redelivered_signals: number;
  agent_publish_retries: number;
  /** Fault injected -> backlog drained, the worst over the faults (s). */
  recovery_s: number | null;
  policy_timeout_ms: number;
  duration_s: number;
  started_at: string;
  machine: { nproc: number; cpu: string; loadavg_start: number[]; loadavg_end: number[] };
  extra: Record<string, unknown>;
  problems: Problem[];
  data_dir: string;
}

export function writeReport(report: ChaosReport): void {
  mkdirSync(CHAOS_REPORT_DIR, { recursive: true });
  writeFileSync(join(CHAOS_REPORT_DIR, `${report.scenario}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

/** The figures in one line, for the test log. */
export function summary(report: ChaosReport): string {
  const faults = report.faults
    .map((f) => `${f.kind}: outage ${f.outage_s}s, recovery ${f.recovery_s ?? '-'}s`)
    .join('; ');
  return (
    `[chaos ${report.scenario} ${report.scale} seed ${report.seed}] ${report.correlations} correlations (${report.partial_correlations} partial), ` +
    `${report.decided} decided, ${report.lost} lost, ${report.duplicated} duplicated, ${report.mismatched} mismatched, ` +
    `DLQ ${report.dlq_unexpected} unexpected/${report.dlq_deliberate} deliberate, ${report.redelivered_signals} redelivered, ` +
    `${report.republishes_deduped} republishes deduped | ${faults} | ${report.duration_s}s`
  );
}

/** The assertions every scenario ends with. */
export function expectNothingLostNothingDuplicated(report: ChaosReport): void {
  expect(report.problems).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.duplicated).toBe(0);
  expect(report.mismatched).toBe(0);
  expect(report.dlq_unexpected).toBe(0);
  expect(report.decided).toBe(report.correlations);
  expect(report.faults_injected).toBeGreaterThan(0);
  for (const fault of report.faults) expect(fault.recovery_s).not.toBeNull();
}
