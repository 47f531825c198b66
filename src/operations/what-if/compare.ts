/**
 * A recorded correlation's decision next to the one another policy would have made on the same
 * signals, with the orchestrator's own pure decision rules (`assess` + `chooseRoute`). Pure.
 */
import { type AssessContext, assess, chooseRoute, type Signals } from '../../activities/decision-rules';
import type { Action, OrchestrationDecision } from '../../contract/decision';
import type { Policy } from '../../contract/policy';
import { DECISIVE_SIGNAL_RULE } from '../../shared/decisive-signals';
import type { RunOutcome } from '../recorded-correlation';
import type { RecoveredCorrelation } from './recover';

/** The part of a decision the what-if compares. */
export interface Outcome {
  action: Action;
  confidence: number;
  reasoning: string;
  route: string;
  partial_data: boolean;
  policy_version: string;
}

/** Did the recorded policy, run through today's rules, give the recorded decision back? */
export type Baseline = 'reproduced' | 'differs' | 'unknown';

export interface CorrelationDiff {
  corr_id: string;
  workflow_id: string;
  run_id?: string;
  /** Agents whose signals were decided on, sorted. */
  agents: string[];
  old: Outcome;
  new: Outcome;
  action_changed: boolean;
  route_changed: boolean;
  /** new − old confidence, rounded to 4 places. */
  confidence_shift: number;
  /**
   * `differs`: today's rules give another decision than the recorded one under the recorded policy
   * (the rules changed since), so this row's diff is not the policy's alone. `unknown`: the history
   * does not carry its policy.
   */
  baseline: Baseline;
}

/** A correlation the what-if could not compare, and why. */
export interface Skipped {
  workflow_id: string;
  run_id?: string;
  corr_id?: string;
  /** Short and countable, e.g. `failed: no decision`. */
  reason: string;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/** The decision `policy` makes on `signals`: what the workflow's scoring and routing activities compute. */
export function decisionUnder(signals: Signals, policy: Policy, context: AssessContext = {}): Outcome {
  const assessment = assess(signals, policy, context);
  return {
    action: assessment.action,
    confidence: assessment.confidence,
    reasoning: assessment.reasoning,
    route: chooseRoute(signals, assessment.action, policy),
    partial_data: assessment.partial_data,
    policy_version: policy.version,
  };
}

function skipReason(outcome: RunOutcome): string {
  return outcome === 'running' ? 'running: not decided yet' : `${outcome.replace(/_/g, ' ')}: no decision`;
}

/** Recomputes one recorded correlation under `policy`; a run without a decision is skipped. */
export function compareCorrelation(recovered: RecoveredCorrelation, policy: Policy): CorrelationDiff | Skipped {
  const ids = { workflow_id: recovered.workflowId, ...(recovered.runId ? { run_id: recovered.runId } : {}) };
  const recorded = recovered.decision;
  if (!recorded) return { ...ids, corr_id: recovered.corrId, reason: skipReason(recovered.outcome) };
  const old: Outcome = {
    action: recorded.decision.action,
    confidence: recorded.decision.confidence,
    reasoning: recorded.decision.reasoning,
    route: recorded.route ?? 'none',
    partial_data: recorded.partial_data ?? false,
    policy_version: recorded.policy_version ?? recovered.policy?.version ?? 'unknown',
  };
  // The run stopped waiting as it did (an open breaker, a decisive signal): the same under any policy.
  const context = circumstances(recorded);
  const next = decisionUnder(recovered.signals, policy, context);
  let baseline: Baseline = 'unknown';
  if (recovered.policy) {
    const again = decisionUnder(recovered.signals, recovered.policy, context);
    baseline =
      again.action === old.action && again.confidence === old.confidence && again.route === old.route
        ? 'reproduced'
        : 'differs';
  }
  return {
    corr_id: recovered.corrId,
    ...ids,
    agents: Object.keys(recovered.signals).sort(),
    old,
    new: next,
    action_changed: next.action !== old.action,
    route_changed: next.route !== old.route,
    confidence_shift: round4(next.confidence - old.confidence),
    baseline,
  };
}

/** What stopped the recorded run's wait, as the rules take it. */
function circumstances(recorded: Pick<OrchestrationDecision, 'degraded_agents' | 'decided_early'>): AssessContext {
  return { degraded: recorded.degraded_agents, decisive: recorded.decided_early?.rule === DECISIVE_SIGNAL_RULE };
}

export function isSkipped(result: CorrelationDiff | Skipped): result is Skipped {
  return 'reason' in result;
}

/** Compares every recovered correlation under `policy`; those without a decision are skipped. */
export function compareAll(
  recovered: readonly RecoveredCorrelation[],
  policy: Policy,
): { diffs: CorrelationDiff[]; skipped: Skipped[] } {
  const diffs: CorrelationDiff[] = [];
  const skipped: Skipped[] = [];
  for (const correlation of recovered) {
    const result = compareCorrelation(correlation, policy);
    if (isSkipped(result)) skipped.push(result);
    else diffs.push(result);
  }
  return { diffs, skipped };
}
