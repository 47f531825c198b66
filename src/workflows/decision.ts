import type { RoutedAssessment } from '../activities';
import type { OrchestrationDecision } from '../contract/decision';
import type { Redrive } from '../shared/correlation-api';
import type { Correlation } from './correlation';

/** The decision a correlation publishes: the rules' assessment and route, and exactly the inputs it used. */
export function buildDecision(
  correlation: Correlation,
  { orchestrator_version, route, ...assessment }: Omit<RoutedAssessment, 'instrument'>,
  policyVersion: string,
  at: Date,
  redrive: Redrive | undefined,
): OrchestrationDecision {
  return {
    corr_id: correlation.corrId,
    orchestrator_version,
    orchestrated_at: at.toISOString(),
    source_signals: assessment.source_signals,
    decision: { action: assessment.action, confidence: assessment.confidence, reasoning: assessment.reasoning },
    route,
    contributing_agents: assessment.contributing_agents,
    available_agents: assessment.available_agents,
    missing_agents: assessment.missing_agents,
    partial_data: assessment.partial_data,
    aggregation_method: assessment.aggregation_method,
    policy_version: policyVersion,
    provenance: correlation.provenance(),
    ...(redrive ? { redrive_of: redrive.of } : {}),
  };
}

/** Whether two decisions rest on exactly the same messages. */
export function sameInputs(a: OrchestrationDecision, b: OrchestrationDecision): boolean {
  const ids = (d: OrchestrationDecision): string => d.provenance.map((p) => `${p.agent}:${p.message_id}`).join(',');
  return ids(a) === ids(b);
}
