import type { Redrive } from '../shared/correlation-api';
import type { DecisionFrame } from '../shared/decision-record';
import type { Correlation } from './correlation';

/** The frame of the decision a correlation is about to make: whose, when, on which messages. */
export function decisionFrame(
  correlation: Correlation,
  policyVersion: string,
  at: Date,
  redrive: Redrive | undefined,
): DecisionFrame {
  const early = correlation.earlyDecision();
  const degraded = correlation.degradedAgents();
  return {
    corr_id: correlation.corrId,
    orchestrated_at: at.toISOString(),
    policy_version: policyVersion,
    provenance: correlation.provenance(),
    ...(redrive ? { redrive_of: redrive.of } : {}),
    ...(early ? { decided_early: early } : {}),
    ...(degraded.length > 0 ? { degraded_agents: degraded } : {}),
  };
}
