/**
 * How a decision record is put together from what the workflow knows (its frame: whose, when, on
 * which messages) and what the rules concluded. Pure: the workflows and the activity that decides
 * in one step share it, so a decision looks the same whichever shape made it.
 */
import type { RoutedAssessment } from '../activities';
import type { EarlyDecision, OrchestrationDecision, ProvenanceEntry } from '../contract/decision';
import type { Redrive } from './correlation-api';

/** The part of a decision the workflow fixes before the rules run. */
export interface DecisionFrame {
  corr_id: string;
  orchestrated_at: string;
  policy_version: string;
  provenance: ProvenanceEntry[];
  redrive_of?: Redrive['of'];
  decided_early?: EarlyDecision;
  /** Missing agents the run did not wait for because their breaker was open. */
  degraded_agents?: string[];
}

/** The decision a correlation publishes: the rules' assessment and route, and exactly the inputs it used. */
export function buildDecision(
  frame: DecisionFrame,
  { orchestrator_version, route, ...assessment }: Omit<RoutedAssessment, 'instrument'>,
): OrchestrationDecision {
  return {
    corr_id: frame.corr_id,
    orchestrator_version,
    orchestrated_at: frame.orchestrated_at,
    source_signals: assessment.source_signals,
    decision: { action: assessment.action, confidence: assessment.confidence, reasoning: assessment.reasoning },
    route,
    contributing_agents: assessment.contributing_agents,
    available_agents: assessment.available_agents,
    missing_agents: assessment.missing_agents,
    partial_data: assessment.partial_data,
    aggregation_method: assessment.aggregation_method,
    policy_version: frame.policy_version,
    provenance: frame.provenance,
    ...(frame.redrive_of ? { redrive_of: frame.redrive_of } : {}),
    ...(frame.decided_early ? { decided_early: frame.decided_early } : {}),
    ...(frame.degraded_agents ? { degraded_agents: frame.degraded_agents } : {}),
  };
}

/**
 * What consumers saw once a decision was published: the one JetStream had already stored under its
 * id, if an earlier attempt of the task published it, else ours; and the instrument to search it
 * by, when it rests on the same messages as ours.
 */
export function decisionSeen(
  ours: OrchestrationDecision,
  stored: OrchestrationDecision | undefined,
  instrument: string | undefined,
): { decision: OrchestrationDecision; instrument?: string } {
  const decision = stored ?? ours;
  return { decision, ...(instrument && sameInputs(decision, ours) ? { instrument } : {}) };
}

/** Whether two decisions rest on exactly the same messages. */
function sameInputs(a: OrchestrationDecision, b: OrchestrationDecision): boolean {
  const ids = (d: OrchestrationDecision): string => d.provenance.map((p) => `${p.agent}:${p.message_id}`).join(',');
  return ids(a) === ids(b);
}
