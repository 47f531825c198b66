/**
 * The orchestrator's own Prometheus metrics. The worker records decisions; the bridge records
 * signals, the DLQ and the agents' circuit breakers as it reads them. Each process serves its
 * registry on /metrics.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OrchestrationDecision } from '../contract/decision';
import type { BreakerSnapshot, BreakerState } from '../shared/agent-breaker-api';

const BREAKER_STATE_VALUES: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

export class OrchestratorMetrics {
  readonly registry = new Registry();

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
    help: "Correlations in a row that decided without the agent, as its circuit breaker last counted.",
    labelNames: ['agent'] as const,
    registers: [this.registry],
  });

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
}
