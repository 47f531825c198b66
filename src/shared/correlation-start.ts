/**
 * How a correlation's workflow is started by its messages: signal-with-start of the current
 * workflow type with the policy, the first search attributes, memo and summary, and the batch of
 * messages. Used by the bridge, and by tests and tools that start correlations as the bridge does.
 */
import type { WorkflowSignalWithStartOptions } from '@temporalio/client';
import { type WithWorkflowArgs, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import { type AgentSignalEnvelope, agentSignals, type CorrelationStart, workflowIdFor } from './correlation-api';
import { startVisibility } from './correlation-visibility';

/** The signature of the correlation workflows, for typed starts without importing workflow code. */
export type CorrelationWorkflow = (start: CorrelationStart) => Promise<OrchestrationDecision>;

export function correlationSignalWithStart(
  corrId: string,
  policy: Policy,
  taskQueue: string,
  envelopes: AgentSignalEnvelope[],
): WithWorkflowArgs<CorrelationWorkflow, WorkflowSignalWithStartOptions<[AgentSignalEnvelope[]]>> {
  const start: CorrelationStart = { corr_id: corrId, policy };
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
