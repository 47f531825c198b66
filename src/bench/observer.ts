/**
 * What happened to every correlation the benchmark started: when its first signal went out, when
 * its decision (or, for the ceiling, its bare workflow's completion) came back, and how many times.
 */
import { DeliverPolicy, type JetStreamClient, type NatsConnection } from 'nats';
import { DECISION_SUBJECT, DECISIONS_STREAM, DLQ_SUBJECT } from '../nats/streams';

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Correlation ids are `<prefix><n>`, n counting from 0; undefined for anyone else's id. */
export function correlationNumber(id: string, prefix: string): number | undefined {
  if (!id.startsWith(prefix)) return undefined;
  const rest = id.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

export class CorrelationBook {
  private readonly firstSentAt: number[] = [];
  private readonly lastSentAt: number[] = [];
  private readonly partialPlan: boolean[] = [];
  private readonly decidedAt: number[] = [];
  private readonly decisionCount: number[] = [];
  /** First-signal-to-decision latencies (ms) of correlations all of whose agents reported. */
  readonly completeLatencies: number[] = [];
  /** The same from their last signal: what the orchestrator adds once the last agent has reported. */
  readonly completeLatenciesFromLast: number[] = [];
  /** The same for partial correlations, which decide at the policy timeout. */
  readonly partialLatencies: number[] = [];
  published = 0;
  decided = 0;
  /** Decision messages beyond the first for a correlation. */
  duplicateMessages = 0;
  duplicatedCorrelations = 0;
  /** Decisions for one of our ids that was never published. */
  unexpected = 0;
  /** Complete correlations decided as if an agent were missing (the timer fired first). */
  decidedIncomplete = 0;
  firstSentAtAll: number | undefined;
  lastDecisionAt: number | undefined;
  private windowLatencies: number[] = [];
  private windowDecided = 0;

  /** A signal of correlation n went out at `at`; the first one starts its latency. */
  sent(n: number, at: number, partial: boolean): void {
    this.lastSentAt[n] = Math.max(this.lastSentAt[n] ?? at, at);
    if (this.firstSentAt[n] !== undefined) return;
    this.firstSentAt[n] = at;
    this.partialPlan[n] = partial;
    this.published++;
    this.firstSentAtAll ??= at;
  }

  /** A decision (or completion) for correlation n arrived at `at`; `missingAgents` as the decision says. */
  decision(n: number, at: number, missingAgents = 0): void {
    const sentAt = this.firstSentAt[n];
    if (sentAt === undefined) {
      this.unexpected++;
      return;
    }
    const count = (this.decisionCount[n] ?? 0) + 1;
    this.decisionCount[n] = count;
    if (count > 1) {
      this.duplicateMessages++;
      if (count === 2) this.duplicatedCorrelations++;
      return;
    }
    this.decidedAt[n] = at;
    this.decided++;
    this.windowDecided++;
    this.lastDecisionAt = Math.max(this.lastDecisionAt ?? at, at);
    const latency = at - sentAt;
    if (this.partialPlan[n]) {
      this.partialLatencies.push(latency);
    } else {
      this.completeLatencies.push(latency);
      this.completeLatenciesFromLast.push(at - this.lastSentAt[n]);
      this.windowLatencies.push(latency);
      if (missingAgents > 0) this.decidedIncomplete++;
    }
  }

  /** Latency of correlation n, undefined while undecided (or never published). */
  latencyOf(n: number): number | undefined {
    const sent = this.firstSentAt[n];
    const decided = this.decidedAt[n];
    return sent === undefined || decided === undefined ? undefined : decided - sent;
  }

  isPartial(n: number): boolean {
    return this.partialPlan[n] === true;
  }

  /** Correlations started so far; their numbers are 0 … count − 1. */
  get count(): number {
    return this.firstSentAt.length;
  }

  get undecided(): number {
    return this.published - this.decided;
  }

  /** Decisions and complete-correlation latencies since the previous call. */
  takeWindow(): { decided: number; latencies: number[] } {
    const window = { decided: this.windowDecided, latencies: this.windowLatencies };
    this.windowDecided = 0;
    this.windowLatencies = [];
    return window;
  }
}

export interface DlqCount {
  /** Entries for our correlations. */
  ours: number;
  /** Entries for anybody else's (an external target may have other traffic). */
  others: number;
  reasons: Record<string, number>;
}

export interface DecisionWatch {
  dlq: DlqCount;
  stop(): Promise<void>;
}

/**
 * Reads decisions from the DECISIONS stream with an ordered consumer (what JetStream stored, so a
 * retried publish it deduplicated is not mistaken for a second decision) and counts DLQ entries.
 */
export async function watchDecisions(
  nc: NatsConnection,
  js: JetStreamClient,
  prefix: string,
  book: CorrelationBook,
): Promise<DecisionWatch> {
  const consumer = await js.consumers.get(DECISIONS_STREAM, {
    filterSubjects: [DECISION_SUBJECT],
    deliver_policy: DeliverPolicy.New,
  });
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const message of messages) {
      const at = wallClockMs();
      let decision: { corr_id?: unknown; missing_agents?: unknown };
      try {
        decision = message.json();
      } catch {
        continue;
      }
      const n = typeof decision.corr_id === 'string' ? correlationNumber(decision.corr_id, prefix) : undefined;
      if (n !== undefined)
        book.decision(n, at, Array.isArray(decision.missing_agents) ? decision.missing_agents.length : 0);
    }
  })();

  const dlq: DlqCount = { ours: 0, others: 0, reasons: {} };
  const decoder = new TextDecoder();
  const dlqSubscription = nc.subscribe(DLQ_SUBJECT, {
    callback: (_, message) => {
      let corrId: unknown;
      try {
        corrId = (JSON.parse(decoder.decode(message.data)) as { corr_id?: unknown }).corr_id;
      } catch {
        corrId = undefined;
      }
      const ours = typeof corrId === 'string' && correlationNumber(corrId, prefix) !== undefined;
      if (!ours) {
        dlq.others++;
        return;
      }
      dlq.ours++;
      const reason = message.headers?.get('Orch-Dlq-Reason') || 'unknown';
      dlq.reasons[reason] = (dlq.reasons[reason] ?? 0) + 1;
    },
  });

  return {
    dlq,
    async stop() {
      dlqSubscription.unsubscribe();
      await messages.close();
      await loop;
    },
  };
}

/** Where the ceiling worker reports completed workflows: `{"done":[[workflowId, wallClockMs], …]}`. */
export function ceilingSubject(runId: string): string {
  return `bench.ceiling.${runId}.done`;
}

/** Counts the bare workflows the ceiling worker reports as completed. */
export function watchCeilingCompletions(
  nc: NatsConnection,
  runId: string,
  prefix: string,
  book: CorrelationBook,
): { stop(): void } {
  const decoder = new TextDecoder();
  const subscription = nc.subscribe(ceilingSubject(runId), {
    callback: (_, message) => {
      const { done } = JSON.parse(decoder.decode(message.data)) as { done: Array<[string, number]> };
      for (const [id, at] of done) {
        const n = correlationNumber(id, prefix);
        if (n !== undefined) book.decision(n, at);
      }
    },
  });
  return { stop: () => subscription.unsubscribe() };
}
