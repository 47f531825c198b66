/**
 * Faults: the log of what a scenario broke and when it was healed, the wait for the backlog a
 * fault built up, and the figures of each fault in the report (outage, resumption, recovery).
 */
import { pollUntil } from '../poll';
import type { DecisionLedger } from './ledger';
import type { ChaosLoad, PublishedCorrelation } from './load';
import { type FaultFigures, seconds } from './report';

interface FaultRecord {
  /** The fault class: `worker kill -9`, `nats-server restart`, … */
  kind: string;
  injectedAt: number;
  /** When the fault was removed (the process restarted and ready, the network healed). */
  healedAt?: number;
  note?: string;
}

export class FaultLog {
  readonly faults: FaultRecord[] = [];

  /** Records the fault, runs `inject`, and returns the record to heal later. */
  async inject(kind: string, inject: () => Promise<unknown> | unknown, note?: string): Promise<FaultRecord> {
    const record: FaultRecord = { kind, injectedAt: Date.now(), ...(note ? { note } : {}) };
    this.faults.push(record);
    await inject();
    return record;
  }

  async heal(record: FaultRecord, heal: () => Promise<unknown> | unknown): Promise<void> {
    await heal();
    record.healedAt = Date.now();
  }
}

/**
 * Waits until every complete correlation that had begun by the time the fault was healed is
 * decided: the backlog the fault built up has drained.
 */
export function waitDrained(
  load: ChaosLoad,
  ledger: DecisionLedger,
  fault: FaultRecord,
  timeoutMs: number,
): Promise<true> {
  const healedAt = fault.healedAt ?? Date.now();
  return pollUntil(
    `the backlog of "${fault.kind}" to drain`,
    () =>
      load.correlations.every((c) => c.partial || c.firstSentAt > healedAt || ledger.decided(c.corrId))
        ? true
        : undefined,
    timeoutMs,
    100,
  );
}

/** The figures of one fault, from what was published and when each decision arrived. */
export function faultFigures(
  fault: FaultRecord,
  correlations: readonly PublishedCorrelation[],
  ledger: DecisionLedger,
): FaultFigures {
  const healedAt = fault.healedAt ?? fault.injectedAt;
  const affected = correlations.filter((c) => {
    const at = ledger.firstArrival.get(c.corrId);
    return !c.partial && c.firstSentAt <= healedAt && at !== undefined && at >= fault.injectedAt;
  });
  const undecided = correlations.some((c) => !c.partial && c.firstSentAt <= healedAt && !ledger.decided(c.corrId));
  const drainedAt =
    affected.length > 0 ? Math.max(...affected.map((c) => ledger.firstArrival.get(c.corrId) as number)) : undefined;
  const resumedAt = ledger.arrivals.filter((at) => at > healedAt).sort((a, b) => a - b)[0];
  return {
    kind: fault.kind,
    ...(fault.note ? { note: fault.note } : {}),
    injected_at: new Date(fault.injectedAt).toISOString(),
    outage_s: seconds(healedAt - fault.injectedAt),
    resumed_s: resumedAt === undefined ? null : seconds(resumedAt - fault.injectedAt),
    recovery_s: undecided ? null : seconds(Math.max(drainedAt ?? healedAt, healedAt) - fault.injectedAt),
    affected_correlations: affected.length,
  };
}
