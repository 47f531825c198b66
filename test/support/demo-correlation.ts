import type { Client, WorkflowHandle } from '@temporalio/client';
import { DEFAULT_POLICY } from '../../src/config';
import type { OrchestrationDecision } from '../../src/contract/decision';
import type { Policy } from '../../src/contract/policy';
import { demoSignals } from '../../src/devstack/demo';
import { type AgentSignalEnvelope, WORKFLOW_TYPE } from '../../src/shared/correlation-api';
import { correlationStart, type CorrelationWorkflow } from '../../src/shared/correlation-start';

/**
 * Starts the demo correlation straight on Temporal, as a bridge of its own would hand it over: one
 * start with both signals in its input.
 */
export function startDemoCorrelation(
  client: Client,
  taskQueue: string,
  corrId: string,
  policy: Policy = DEFAULT_POLICY,
): Promise<WorkflowHandle<CorrelationWorkflow>> {
  const envelopes = demoSignals(corrId).map((signal, i): AgentSignalEnvelope => ({
    message_id: `demo-${i + 1}`,
    signal,
  }));
  return client.workflow.start(WORKFLOW_TYPE, correlationStart(corrId, policy, taskQueue, envelopes, false));
}

/** Runs the demo correlation and waits for its decision. */
export async function runDemoCorrelation(
  client: Client,
  taskQueue: string,
  corrId: string,
  policy: Policy = DEFAULT_POLICY,
): Promise<OrchestrationDecision> {
  return (await startDemoCorrelation(client, taskQueue, corrId, policy)).result();
}
