/**
 * The orchestrator's own Prometheus metrics, next to Node.js's process metrics (CPU, memory, heap,
 * event-loop lag, GC). The worker records decisions; the bridge records signals, the DLQ, the
 * SIGNALS consumer's backlog and the agents' circuit breakers as it reads them. Each process
 * serves its registry on /metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DlqReason } from '../bridge/parse';
import type { OrchestrationDecision } from '../contract/decision';
import type { BreakerSnapshot, BreakerState } from '../shared/agent-breaker-api';

const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * 310 and 330 sit just past the default policy's 5-minute timeout: a decision that waited the whole
 * timeout for a missing agent measures as 300-310 s, and a p95 above 330 s (the latency alert) means
 * decisions came later than the policy allows.
 */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 310, 330, 600];

/** Every reason a message goes to the DLQ (the compiler checks the list is complete). */
const DLQ_REASONS: Record<DlqReason, true> = {
  oversize: true,
  not_json: true,
  schema_violation: true,
  unsupported_schema_version: true,
  subject_mismatch: true,
  late: true,
  expired: true,
  temporal_rejected: true,
};

/** What the bridges' durable consumer on SIGNALS holds, as JetStream reports it (`nats consumer info`). */
export interface ConsumerBacklog {
  consumer: string;
  /** Messages not delivered to any bridge yet (num_pending). */
  pending: number;
  /** Messages delivered to a bridge and not acknowledged yet (num_ack_pending). */
  ackPending: number;
}

export class OrchestratorMetrics {
  readonly registry = new Registry();

  /** Set by trackBridge: reads the consumer's backlog when Prometheus scrapes. */
  private readBacklog?: () => Promise<ConsumerBacklog>;

  readonly signalsReceived = new Counter({
    name: 'orchestrator_signals_received_total',
    help: 'Agent messages the bridge took from SIGNALS, by outcome (signalled, duplicate, dlq, retried).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly dlq = new Counter({
    name: 'orchestrator_signals_dlq_total',
    help: 'Agent messages sent to signals.dlq, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly decisions = new Counter({
    name: 'orchestrator_decisions_total',
    help: 'Decisions published, by action and route.',
    labelNames: ['action', 'route'] as const,
    registers: [this.registry],
  });

  readonly decisionLatency = new Histogram({
    name: 'orchestrator_decision_latency_seconds',
    help: "From a correlation's first signal to its decision.",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly agentArrival = new Histogram({
    name: 'orchestrator_agent_arrival_seconds',
    help: "When each agent's signal arrived, after the correlation's first signal.",
    labelNames: ['agent'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly agentMissing = new Counter({
    name: 'orchestrator_agent_missing_total',
    help: 'Expected agents that had not reported when a correlation was decided.',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly breakerState = new Gauge({
    name: 'orchestrator_agent_breaker_state',
    help: "Each agent's circuit breaker as last read: 0 closed, 1 half-open, 2 open (correlations do not wait for the agent).",
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly breakerMisses = new Gauge({
    name: 'orchestrator_agent_breaker_consecutive_misses',
    help: 'Correlations in a row that decided without the agent, as its circuit breaker last counted.',
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

  readonly consumerPending = new Gauge({
    name: 'orchestrator_signals_consumer_pending_messages',
    help: "Messages on SIGNALS that the bridges' durable consumer has not delivered yet (JetStream num_pending), read when scraped.",
    labelNames: ['consumer'] as const,
    registers: [this.registry],
    collect: () => this.collectBacklog(),
  });

  readonly consumerAckPending = new Gauge({
    name: 'orchestrator_signals_consumer_ack_pending_messages',
    help: "Messages the bridges' durable consumer delivered and no bridge acknowledged yet (JetStream num_ack_pending), read when scraped.",
    labelNames: ['consumer'] as const,
    registers: [this.registry],
    collect: () => this.collectBacklog(),
  });

  constructor() {
    // On this instance's own registry, not prom-client's global one: a second instance in the same
    // process (tests) registers its own copies instead of failing on duplicate names.
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * This process runs a bridge: every DLQ reason is exported from zero (so the first message of a
   * reason counts in `increase()`, which needs a sample before it), and the consumer's backlog is
   * read with `readBacklog` when Prometheus scrapes.
   */
  trackBridge(readBacklog: () => Promise<ConsumerBacklog>): void {
    for (const reason of Object.keys(DLQ_REASONS) as DlqReason[]) this.dlq.inc({ reason }, 0);
    this.readBacklog = readBacklog;
  }

  readonly eagerStart = new Gauge({
    name: 'orchestrator_eager_start',
    help: "1 while the bridge in a worker's process starts new correlations eagerly; 0 while a versioned worker's build is not the only target of its Worker Deployment.",
    registers: [this.registry],
  });

  /** The state of an agent's circuit breaker, as a starter last read it. */
  recordBreaker(snapshot: BreakerSnapshot): void {
    this.breakerState.set({ agent: snapshot.agent }, BREAKER_STATE_VALUES[snapshot.state]);
    this.breakerMisses.set({ agent: snapshot.agent }, snapshot.consecutive_misses);
  }

  /** Everything a published decision tells: its action and route, its latency, who came when, who never came. */
  recordDecision(decision: OrchestrationDecision): void {
    this.decisions.inc({ action: decision.decision.action, route: decision.route });
    const arrivals = decision.provenance.map((p) => ({ agent: p.agent, at: Date.parse(p.arrived_at) }));
    if (arrivals.length > 0) {
      const first = Math.min(...arrivals.map((a) => a.at));
      this.decisionLatency.observe((Date.parse(decision.orchestrated_at) - first) / 1000);
      for (const { agent, at } of arrivals) this.agentArrival.observe({ agent }, (at - first) / 1000);
    }
    for (const agent of decision.missing_agents) this.agentMissing.inc({ agent });
  }

  /**
   * Both backlog gauges call this on a scrape; `readBacklog` answers them from one read. A read that
   * fails (NATS unreachable) leaves no sample rather than a stale one, and /metrics still answers.
   */
  private async collectBacklog(): Promise<void> {
    if (!this.readBacklog) return;
    this.consumerPending.reset();
    this.consumerAckPending.reset();
    const backlog = await this.readBacklog().catch(() => undefined);
    if (!backlog) return;
    this.consumerPending.set({ consumer: backlog.consumer }, backlog.pending);
    this.consumerAckPending.set({ consumer: backlog.consumer }, backlog.ackPending);
  }
}
