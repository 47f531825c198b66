/**
 * What a correlation shows in the Temporal UI and to visibility queries, in one place: the search
 * attributes, memo and summary its start carries (the bridge and `orch redrive` pass them with the
 * start, so they land in the start event with no upsert command), and the search attributes the
 * workflow sets at the decision. Pure, for the workflow and the clients alike.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import type { CorrelationStart } from './correlation-api';
import { formatDuration } from './duration';
import { SEARCH_ATTRIBUTES as SA } from './search-attributes';

type StartPolicy = Pick<Policy, 'version' | 'expected_agents' | 'timeout_ms'>;

export interface StartVisibility {
  typedSearchAttributes: SearchAttributePair[];
  memo: Record<string, unknown>;
  /** The UI's one-line summary of the workflow. */
  staticSummary: string;
}

/** The search attributes, memo and summary a correlation starts with. */
export function startVisibility({
  corr_id: corrId,
  policy,
  redrive,
  degraded_agents: degraded,
}: Pick<CorrelationStart, 'corr_id' | 'redrive' | 'degraded_agents'> & { policy: StartPolicy }): StartVisibility {
  const agents = policy.expected_agents.join(', ');
  const notWaiting = degraded ? `; not waiting for ${degraded.join(', ')} (circuit breaker open)` : '';
  return {
    typedSearchAttributes: [
      { key: SA.correlationId, value: corrId },
      { key: SA.status, value: 'collecting' },
      { key: SA.policyVersion, value: policy.version },
      { key: SA.missingAgents, value: [...policy.expected_agents] },
    ],
    memo: {
      summary: redrive
        ? `Correlation ${corrId}: re-drive of ${redrive.of.workflow_id} (run ${redrive.of.run_id}) on its ${redrive.signals.length} recorded signal(s) (policy ${policy.version})`
        : `Correlation ${corrId}: waits for ${agents} for up to ${formatDuration(policy.timeout_ms)} after its first signal (policy ${policy.version}), then decides${notWaiting}`,
      expected_agents: [...policy.expected_agents],
      timeout_ms: policy.timeout_ms,
      ...(degraded ? { degraded_agents: degraded } : {}),
      ...(redrive ? { redrive_of: redrive.of } : {}),
    },
    staticSummary: redrive
      ? `re-drive of ${redrive.of.workflow_id}: ${corrId}`
      : `correlation ${corrId}: ${agents} within ${formatDuration(policy.timeout_ms)}`,
  };
}

/** The search attributes a decided correlation ends with. */
export function decidedSearchAttributes(
  decision: OrchestrationDecision,
  timedOut: boolean,
  instrument: string | undefined,
): SearchAttributePair[] {
  return [
    { key: SA.status, value: timedOut ? 'timed_out' : 'completed' },
    { key: SA.action, value: decision.decision.action },
    { key: SA.route, value: decision.route },
    { key: SA.partialData, value: decision.partial_data },
    { key: SA.missingAgents, value: decision.missing_agents },
    ...(instrument ? [{ key: SA.instrument, value: instrument }] : []),
  ];
}

/** The search attribute of a correlation that failed (an activity out of retries): re-drivable. */
export function failedSearchAttributes(): SearchAttributePair[] {
  return [{ key: SA.status, value: 'failed' }];
}
