/**
 * The first shape of the correlation workflow, `correlationWorkflow`: still registered so that
 * correlations started by an older bridge finish, and kept exactly as its recorded histories need
 * it (test/fixtures/histories). New correlations start as correlationWorkflowV2.
 */
import {
  allHandlersFinished,
  condition,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import {
  type AgentSignalEnvelope,
  agentSignal,
  agentSignals,
  type CorrelationInput,
  stateQuery,
} from '../shared/correlation-api';
import { decidedSearchAttributes, failedSearchAttributes } from '../shared/correlation-visibility';
import { buildDecision } from '../shared/decision-record';
import { SEARCH_ATTRIBUTES as SA } from '../shared/search-attributes';
import { io, LOCAL_PUBLISHING, LOCAL_RULES, localIo, PUBLISHING, rules } from './activity-options';
import { Correlation } from './correlation';
import { decisionFrame } from './decision';

/**
 * Search attributes, memo and summaries for the Temporal UI. They add commands to the history, so
 * histories recorded before them replay without them.
 */
const VISIBILITY_PATCH = 'visibility-v1';

/**
 * Publishing as a local activity: its result lands in the same workflow task as the decision, which
 * saves the activity's three history events, a task-queue dispatch and a second workflow task.
 */
const PUBLISH_LOCALLY_PATCH = 'publish-local-v1';

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

  const receive = (envelope: AgentSignalEnvelope): void => {
    const outcome = correlation.receive(envelope, new Date());
    showWait();
    if (outcome !== 'accepted') {
      log.info(`signal ${outcome}`, {
        corr_id: input.corr_id,
        message_id: envelope?.message_id,
        agent: envelope?.signal?.agent_name,
      });
    }
  };
  // Registered before the first await, so the signal that started the workflow is handled first.
  setHandler(agentSignal, receive);
  // A current bridge sends batches; a run of this shape still open during an upgrade takes them
  // too. Handlers add no commands, so histories without batches replay unchanged.
  setHandler(agentSignals, (envelopes) => {
    for (const envelope of Array.isArray(envelopes) ? envelopes : [envelopes]) receive(envelope);
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
    const route = await rules.routeDecision.executeWithOptions(
      { ...LOCAL_RULES, summary: `route a ${assessment.action} decision` },
      [{ signals, action: assessment.action, policy }],
    );
    const decision = buildDecision(decisionFrame(correlation, policy.version, new Date(), input.redrive), {
      ...assessment,
      route,
      orchestrator_version,
    });

    const summary = `publish ${decision.decision.action} to orchestrated.decision`;
    if (patched(PUBLISH_LOCALLY_PATCH))
      await localIo.publishDecision.executeWithOptions({ ...LOCAL_PUBLISHING, summary }, [decision]);
    else await io.publishDecision.executeWithOptions({ ...PUBLISHING, summary }, [decision]);
    correlation.decided(decision, !allReported);
    showWait();
    if (visible) upsertSearchAttributes(decidedSearchAttributes(decision, !allReported, instrument));
    // Signals that raced the decision are recorded as late by their handler before we return.
    await condition(allHandlersFinished);
    return decision;
  } catch (error) {
    // An activity that exhausted its retries fails the workflow, visibly and re-drivable; a bug in
    // this code throws a plain Error instead, which retries the workflow task until it is fixed.
    correlation.failed();
    showWait();
    if (visible) upsertSearchAttributes(failedSearchAttributes());
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
