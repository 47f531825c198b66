/**
 * The agent circuit breaker's public surface: its workflow id, type, signal and query. Shared by
 * the breaker's entity workflow, the worker that reports outcomes to it, the starters that read it,
 * and `orch status`; it imports no workflow code and no Node modules.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BreakerSettings } from '../contract/policy';
import type { AgentOutcome, BreakerSnapshot } from '../workflows/agent-breaker';

export type { AgentOutcome, BreakerSnapshot, BreakerState, BreakerTransition } from '../workflows/agent-breaker';

/** One long-lived entity workflow per agent, on the correlations' task queue. */
export const BREAKER_WORKFLOW_TYPE = 'agentBreakerWorkflow';
const BREAKER_WORKFLOW_ID_PREFIX = 'agent-breaker-';

export function breakerWorkflowIdFor(agent: string): string {
  return `${BREAKER_WORKFLOW_ID_PREFIX}${agent}`;
}

export interface AgentBreakerInput {
  agent: string;
  settings: BreakerSettings;
  /** The state a previous run handed over by continue-as-new. */
  snapshot?: BreakerSnapshot;
  /** Outcome batches per run before continue-as-new (default BATCHES_PER_RUN: about a quarter of an hour). */
  batches_per_run?: number;
}

/**
 * Outcomes of the correlations that decided since the last batch, in the order they decided. The
 * breaker counts them at its own (workflow) time, so workers' clocks never skew its timers.
 */
export interface OutcomeBatch {
  outcomes: Array<{ outcome: AgentOutcome; corr_id: string }>;
  /** The policy's breaker settings where these correlations ran: the latest win. */
  settings: BreakerSettings;
}

export const agentOutcomes = defineSignal<[OutcomeBatch]>('agentOutcomes');
export const breakerStateQuery = defineQuery<BreakerSnapshot>('breakerState');
