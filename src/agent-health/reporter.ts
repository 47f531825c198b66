/**
 * Tells each agent's circuit breaker how the correlations decided by this worker went for it:
 * `reported` when the agent's signal was in, `missed` when the correlation stopped waiting for it
 * at its deadline. Outcomes are gathered in memory and sent to the breaker's entity workflow in
 * one signal-with-start per agent about once a second, so a busy worker adds one signal a second
 * per agent, not one per correlation.
 *
 * It is a health signal, not a ledger: outcomes of the last second of a worker killed with SIGKILL
 * are lost, and a publish retried after a lost ack can count twice. Neither moves a breaker by more
 * than one correlation.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../observability/logger';
import type { OrchestrationDecision } from '../contract/decision';
import type { BreakerSettings, Policy } from '../contract/policy';
import {
  type AgentBreakerInput,
  agentOutcomes,
  BREAKER_WORKFLOW_TYPE,
  breakerWorkflowIdFor,
  type OutcomeBatch,
} from '../shared/agent-breaker-api';

/** Outcomes kept per agent while the breaker's workflow cannot be reached; the oldest go first. */
const MAX_PENDING_PER_AGENT = 10_000;

export interface OutcomeSink {
  record(decision: OrchestrationDecision, policy: Policy): void;
}

export class BreakerReporter implements OutcomeSink {
  private readonly pending = new Map<string, OutcomeBatch>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
  ) {}

  /**
   * Counts a published decision. Not counted: re-drives, decisions a rule made early (the agents
   * missing then were not given their time), and agents the correlation did not wait for.
   */
  record(decision: OrchestrationDecision, policy: Policy): void {
    // Policies recorded before 0.2.0 (a V4 correlation finishing during an upgrade) have no breaker.
    const breaker = policy.breaker as BreakerSettings | undefined;
    if (!breaker?.enabled || decision.redrive_of) return;
    const corrId = decision.corr_id;
    for (const agent of policy.expected_agents) {
      if (decision.available_agents.includes(agent)) this.add(agent, breaker, { outcome: 'reported', corr_id: corrId });
      else if (!decision.decided_early && !decision.degraded_agents?.includes(agent))
        this.add(agent, breaker, { outcome: 'missed', corr_id: corrId });
    }
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Sends what is pending; the outcomes wait for the next round when the breaker cannot be reached. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private add(agent: string, settings: BreakerSettings, outcome: OutcomeBatch['outcomes'][number]): void {
    const batch = this.pending.get(agent) ?? { outcomes: [], settings };
    batch.settings = settings;
    batch.outcomes.push(outcome);
    if (batch.outcomes.length > MAX_PENDING_PER_AGENT)
      batch.outcomes.splice(0, batch.outcomes.length - MAX_PENDING_PER_AGENT);
    this.pending.set(agent, batch);
  }

  private async send(): Promise<void> {
    const batches = [...this.pending];
    this.pending.clear();
    await Promise.all(
      batches.map(async ([agent, batch]) => {
        const start: AgentBreakerInput = { agent, settings: batch.settings };
        try {
          await this.client.workflow.signalWithStart(BREAKER_WORKFLOW_TYPE, {
            workflowId: breakerWorkflowIdFor(agent),
            taskQueue: this.taskQueue,
            args: [start],
            signal: agentOutcomes,
            signalArgs: [batch],
          });
        } catch (error) {
          // Put them back in front of what came meanwhile, for the next round.
          const later = this.pending.get(agent);
          this.pending.set(agent, {
            settings: later?.settings ?? batch.settings,
            outcomes: [...batch.outcomes, ...(later?.outcomes ?? [])],
          });
          this.logger.warn(
            { err: error, agent, outcomes: batch.outcomes.length },
            `cannot report outcomes to the circuit breaker of agent ${agent}; will retry`,
          );
        }
      }),
    );
  }
}
