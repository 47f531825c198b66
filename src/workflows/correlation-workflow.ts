import {
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import { agentSignal, type CorrelationInput, stateQuery } from '../shared/correlation-api';
import { SEARCH_ATTRIBUTES as SA } from '../shared/search-attributes';
import { Correlation } from './correlation';

/**
 * Search attributes, memo and summaries for the Temporal UI. They add commands to the history, so
 * histories recorded before them replay without them.
 */
const VISIBILITY_PATCH = 'visibility-v1';

/** Pure and fast: local activities record their result in one marker event, with no task-queue round trip. */
const LOCAL_RULES = { startToCloseTimeout: '10s', retry: { initialInterval: '200ms', maximumAttempts: 5 } } as const;
const rules = proxyLocalActivities<Activities>(LOCAL_RULES);

/**
 * Publishing waits out a NATS outage with backoff; after an hour the correlation fails visibly and
 * can be re-driven. A retry cannot publish twice: JetStream dedupes on Nats-Msg-Id.
 */
const PUBLISHING = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
} as const;
const io = proxyActivities<Activities>(PUBLISHING);

/**
 * Publishing is a few milliseconds of idempotent I/O, so it runs as a local activity too: its result
 * lands in the same workflow task as the decision, which saves the activity's three history events,
 * a task-queue dispatch and a second workflow task per correlation (see docs/BENCHMARKS.md). Retries
 * past the local retry threshold wait on a durable timer, so an outage still backs off for an hour.
 */
const PUBLISH_LOCALLY_PATCH = 'publish-local-v1';
const LOCAL_PUBLISHING = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: PUBLISHING.scheduleToCloseTimeout,
  retry: PUBLISHING.retry,
} as const;
const localIo = proxyLocalActivities<Activities>(LOCAL_PUBLISHING);

/**
 * One correlation id, one actor: collects each agent's signal until every expected agent has
 * reported or the partial-data timer fires, then scores, routes and publishes exactly one decision,
 * which is also the workflow's result.
 */
export async function correlationWorkflow(input: CorrelationInput): Promise<OrchestrationDecision> {
  const startedAt = workflowInfo().runStartTime;
  const correlation = new Correlation(input.corr_id, startedAt.toISOString());
  const visible = patched(VISIBILITY_PATCH);
  const showWait = (): void => {
    if (visible) setCurrentDetails(correlation.describeWait());
  };

  // Registered before the first await, so the signal that started the workflow is handled first.
  setHandler(agentSignal, (envelope) => {
    const outcome = correlation.receive(envelope, new Date());
    showWait();
    if (outcome !== 'accepted') {
      log.info(`signal ${outcome}`, { corr_id: input.corr_id, message_id: envelope?.message_id, agent: envelope?.signal?.agent_name });
    }
  });
  setHandler(stateQuery, () => correlation.snapshot());
  for (const envelope of input.redrive?.signals ?? []) correlation.receive(envelope, new Date());

  try {
    const policy = await rules.resolvePolicy(input.policy);
    const timeoutAt = new Date(startedAt.getTime() + policy.timeout_ms);
    correlation.start(policy, timeoutAt);
    if (visible) describeCorrelation(input, policy, timeoutAt);
    showWait();

    // A re-drive decides at once on the signals it was given: its deadline passed long ago.
    const allReported = input.redrive
      ? correlation.allExpectedReported
      : await condition(() => correlation.allExpectedReported, Math.max(1, timeoutAt.getTime() - Date.now()), {
          summary: `partial-data timeout: waiting for ${policy.expected_agents.join(', ')}`,
        });
    correlation.beginDeciding();
    showWait();

    const signals = correlation.keptSignals();
    const { orchestrator_version, instrument, ...assessment } = await rules.scoreSignals.executeWithOptions(
      { ...LOCAL_RULES, summary: `score ${Object.keys(signals).length} signal(s)` },
      [{ signals, policy }],
    );
    const route = await rules.routeDecision.executeWithOptions({ ...LOCAL_RULES, summary: `route a ${assessment.action} decision` }, [
      { signals, action: assessment.action, policy },
    ]);
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
      ...(input.redrive ? { redrive_of: input.redrive.of } : {}),
    };

    const summary = `publish ${decision.decision.action} to orchestrated.decision`;
    if (patched(PUBLISH_LOCALLY_PATCH)) await localIo.publishDecision.executeWithOptions({ ...LOCAL_PUBLISHING, summary }, [decision]);
    else await io.publishDecision.executeWithOptions({ ...PUBLISHING, summary }, [decision]);
    correlation.decided(decision, !allReported);
    showWait();
    if (visible) {
      upsertSearchAttributes([
        { key: SA.status, value: allReported ? 'completed' : 'timed_out' },
        { key: SA.action, value: decision.decision.action },
        { key: SA.route, value: route },
        { key: SA.partialData, value: decision.partial_data },
        { key: SA.missingAgents, value: decision.missing_agents },
        ...(instrument ? [{ key: SA.instrument, value: instrument }] : []),
      ]);
    }
    // Signals that raced the decision are recorded as late by their handler before we return.
    await condition(allHandlersFinished);
    return decision;
  } catch (error) {
    // An activity that exhausted its retries fails the workflow, visibly and re-drivable; a bug in
    // this code throws a plain Error instead, which retries the workflow task until it is fixed.
    correlation.failed();
    showWait();
    if (visible) upsertSearchAttributes([{ key: SA.status, value: 'failed' }]);
    throw error;
  }
}

/** What the correlation is, in the UI: its search attributes and a memo that says it in words. */
function describeCorrelation({ corr_id: corrId, redrive }: CorrelationInput, policy: Policy, timeoutAt: Date): void {
  upsertSearchAttributes([
    { key: SA.correlationId, value: corrId },
    { key: SA.status, value: 'collecting' },
    { key: SA.policyVersion, value: policy.version },
    { key: SA.missingAgents, value: [...policy.expected_agents] },
  ]);
  upsertMemo({
    summary: redrive
      ? `Correlation ${corrId}: re-drive of ${redrive.of.workflow_id} (run ${redrive.of.run_id}) on its ${redrive.signals.length} recorded signal(s) (policy ${policy.version})`
      : `Correlation ${corrId}: waits for ${policy.expected_agents.join(', ')} until ${timeoutAt.toISOString()} (policy ${policy.version}), then decides`,
    expected_agents: policy.expected_agents,
    timeout_at: timeoutAt.toISOString(),
    ...(redrive ? { redrive_of: redrive.of } : {}),
  });
}
