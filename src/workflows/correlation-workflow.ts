import {
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OrchestrationDecision } from '../contract/decision';
import { agentSignal, type CorrelationInput, stateQuery } from '../shared/correlation-api';
import { Correlation } from './correlation';

/** Pure and fast: local activities record their result in one marker event, with no task-queue round trip. */
const rules = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumAttempts: 5 },
});

/**
 * Publishing waits out a NATS outage with backoff; after an hour the correlation fails visibly and
 * can be re-driven. A retry cannot publish twice: JetStream dedupes on Nats-Msg-Id.
 */
const io = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * One correlation id, one actor: collects each agent's signal until every expected agent has
 * reported or the partial-data timer fires, then scores, routes and publishes exactly one decision,
 * which is also the workflow's result.
 */
export async function correlationWorkflow(input: CorrelationInput): Promise<OrchestrationDecision> {
  const startedAt = workflowInfo().runStartTime;
  const correlation = new Correlation(input.corr_id, startedAt.toISOString());

  // Registered before the first await, so the signal that started the workflow is handled first.
  setHandler(agentSignal, (envelope) => {
    const outcome = correlation.receive(envelope, new Date());
    if (outcome !== 'accepted') {
      log.info(`signal ${outcome}`, { corr_id: input.corr_id, message_id: envelope?.message_id, agent: envelope?.signal?.agent_name });
    }
  });
  setHandler(stateQuery, () => correlation.snapshot());

  try {
    const policy = await rules.resolvePolicy(input.policy);
    const timeoutAt = new Date(startedAt.getTime() + policy.timeout_ms);
    correlation.start(policy, timeoutAt);

    const allReported = await condition(() => correlation.allExpectedReported, Math.max(1, timeoutAt.getTime() - Date.now()));
    correlation.beginDeciding();

    const signals = correlation.keptSignals();
    const { orchestrator_version, ...assessment } = await rules.scoreSignals({ signals, policy });
    const route = await rules.routeDecision({ signals, action: assessment.action, policy });
    const decision: OrchestrationDecision = {
      corr_id: input.corr_id,
      orchestrator_version,
      orchestrated_at: new Date().toISOString(),
      source_signals: assessment.source_signals,
      decision: { action: assessment.action, confidence: assessment.confidence, reasoning: assessment.reasoning },
      route,
      contributing_agents: assessment.contributing_agents,
      available_agents: assessment.available_agents,
      missing_agents: assessment.missing_agents,
      partial_data: assessment.partial_data,
      aggregation_method: assessment.aggregation_method,
      policy_version: policy.version,
      provenance: correlation.provenance(),
    };

    await io.publishDecision(decision);
    correlation.decided(decision, !allReported);
    // Signals that raced the decision are recorded as late by their handler before we return.
    await condition(allHandlersFinished);
    return decision;
  } catch (error) {
    // An activity that exhausted its retries fails the workflow, visibly and re-drivable; a bug in
    // this code throws a plain Error instead, which retries the workflow task until it is fixed.
    correlation.failed();
    throw error;
  }
}
