import type { Client } from '@temporalio/client';
import { DEFAULT_POLICY } from '../../src/config';
import type { OrchestrationDecision } from '../../src/contract/decision';
import type { Policy } from '../../src/contract/policy';
import { demoSignals } from '../../src/devstack/demo';
import { type AgentSignalEnvelope, WORKFLOW_TYPE } from '../../src/shared/correlation-api';
import { correlationSignalWithStart } from '../../src/shared/correlation-start';

/**
 * Runs the demo correlation straight through Temporal, as the bridge would hand it over (one
 * signal-with-start with both signals), and waits for its decision.
 */
export async function runDemoCorrelation(client: Client, taskQueue: string, corrId: string, policy: Policy = DEFAULT_POLICY): Promise<OrchestrationDecision> {
  const envelopes = demoSignals(corrId).map((signal, i): AgentSignalEnvelope => ({ message_id: `demo-${i + 1}`, signal }));
  const handle = await client.workflow.signalWithStart(WORKFLOW_TYPE, correlationSignalWithStart(corrId, policy, taskQueue, envelopes));
  return handle.result();
}
