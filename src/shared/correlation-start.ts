/**
 * How a correlation's workflow is started by its messages: the first batch in the start input of
 * the current workflow type, with the policy, the first search attributes, memo and summary; a
 * later batch by signal-with-start, which signals the running correlation (or starts it, if the
 * first batch went elsewhere). Used by the bridge, and by tests and tools that start correlations
 * as the bridge does.
 */
import type { WorkflowSignalWithStartOptions, WorkflowStartOptions } from '@temporalio/client';
import { type WithWorkflowArgs, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import { type AgentSignalEnvelope, agentSignals, type CorrelationStart, workflowIdFor } from './correlation-api';
import { startVisibility } from './correlation-visibility';

/** The signature of the correlation workflows, for typed starts without importing workflow code. */
export type CorrelationWorkflow = (start: CorrelationStart) => Promise<OrchestrationDecision>;

/**
 * Starts a correlation with its first messages in its input. It fails with
 * WorkflowExecutionAlreadyStartedError when the correlation runs already (its messages then go by
 * `correlationSignalWithStart`) or has closed: a closed correlation is never started again.
 *
 * @param eager ask Temporal to hand the first workflow task back with the start, to a worker on
 * the same connection (the bridge in the worker's process), instead of through the task queue
 * @param degraded expected agents whose circuit breaker is open now: the correlation will not wait for them
 */
export function correlationStart(
  corrId: string,
  policy: Policy,
  taskQueue: string,
  envelopes: AgentSignalEnvelope[],
  eager: boolean,
  degraded: readonly string[] = [],
): WithWorkflowArgs<CorrelationWorkflow, WorkflowStartOptions<CorrelationWorkflow>> {
  const start: CorrelationStart = { ...startInput(corrId, policy, degraded), signals: envelopes };
  return {
    workflowId: workflowIdFor(corrId),
    taskQueue,
    args: [start],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    requestEagerStart: eager,
    ...startVisibility(start),
  };
}

/** Signals a batch to the running correlation, starting it if it is not running yet; never starts a closed one. */
export function correlationSignalWithStart(
  corrId: string,
  policy: Policy,
  taskQueue: string,
  envelopes: AgentSignalEnvelope[],
  degraded: readonly string[] = [],
): WithWorkflowArgs<CorrelationWorkflow, WorkflowSignalWithStartOptions<[AgentSignalEnvelope[]]>> {
  const start = startInput(corrId, policy, degraded);
  return {
    workflowId: workflowIdFor(corrId),
    taskQueue,
    args: [start],
    signal: agentSignals,
    signalArgs: [envelopes],
    // A closed correlation is never started again: its late signal is refused instead.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // A running one gets the signal.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    ...startVisibility(start),
  };
}

/**
 * The input both starts share; `degraded_agents` only when a breaker is open, so the usual input stays as small as
 * before.
 */
function startInput(corrId: string, policy: Policy, degraded: readonly string[]): CorrelationStart {
  return { corr_id: corrId, policy, ...(degraded.length > 0 ? { degraded_agents: [...degraded].sort() } : {}) };
}
