/**
 * The decision rules of SPEC.md as plain functions of the signals and a policy. Activities wrap
 * them; the what-if tooling and the unit tests call them directly.
 */
import type { AgentSignal, Analysis, RiskLevel } from '../contract/agent-signal';
import type { Action } from '../contract/decision';
import type { Policy } from '../contract/policy';

export const MOMENTUM = 'momentum';
export const RISK = 'risk';
const AGGREGATION_METHOD = 'weighted_average';

export type Signals = Record<string, AgentSignal>;

export interface Assessment {
  action: Action;
  confidence: number;
  /** Machine-readable reason, e.g. `risk_blocked`. */
  reasoning: string;
  source_signals: Record<string, number>;
  contributing_agents: string[];
  available_agents: string[];
  missing_agents: string[];
  partial_data: boolean;
  aggregation_method: string;
}

/** Risk score of a risk analysis: its overall_score, or the policy's score for its risk_level. */
export function riskScore(analysis: Analysis, policy: Policy): number | undefined {
  if (analysis.overall_score !== undefined) return analysis.overall_score;
  return analysis.risk_level !== undefined ? policy.risk_level_scores[analysis.risk_level] : undefined;
}

/** An agent's headline score as reported on the decision: momentum's confidence (or strength), risk's score. */
function headlineScore(agent: string, analysis: Analysis, policy: Policy): number | undefined {
  if (agent === MOMENTUM) return analysis.confidence ?? analysis.momentum_strength;
  if (agent === RISK) return riskScore(analysis, policy);
  return analysis.confidence;
}

/** How strongly an agent's analysis supports acting, in [0, 1]: low risk supports, high risk does not. */
function support(agent: string, analysis: Analysis, policy: Policy): number | undefined {
  if (agent === RISK) {
    const score = riskScore(analysis, policy);
    return score === undefined ? undefined : 1 - score;
  }
  return headlineScore(agent, analysis, policy);
}

/** An agent's weight in the confidence score; the rules read momentum and risk whatever their weight. */
function weightOf(agent: string, policy: Policy): number {
  return policy.weights[agent] ?? policy.default_weight;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * Weighted average of each agent's support, over the agents that gave one and carry weight,
 * less the policy's penalty when the decision rests on partial data. 0 when no agent counts.
 */
export function scoreConfidence(signals: Signals, policy: Policy, partialData = false): number {
  let weighted = 0;
  let totalWeight = 0;
  for (const [agent, signal] of Object.entries(signals)) {
    const weight = weightOf(agent, policy);
    const value = support(agent, signal.analysis, policy);
    if (weight === 0 || value === undefined) continue;
    weighted += weight * value;
    totalWeight += weight;
  }
  if (totalWeight === 0) return 0;
  const confidence = (weighted / totalWeight) * (partialData ? 1 - policy.partial_data_penalty : 1);
  return round4(Math.min(1, Math.max(0, confidence)));
}

function isHighRisk(risk: Analysis | undefined, policy: Policy): boolean {
  if (!risk) return false;
  const score = riskScore(risk, policy);
  return risk.risk_level === 'high' || (score !== undefined && score >= policy.thresholds.high_risk_score);
}

function chooseAction(signals: Signals, confidence: number, policy: Policy): { action: Action; reasoning: string } {
  const momentum = signals[MOMENTUM]?.analysis;
  const risk = signals[RISK]?.analysis;
  const { thresholds } = policy;
  if (risk?.risk_level === 'blocked') return { action: 'no_trade', reasoning: 'risk_blocked' };
  if (isHighRisk(risk, policy)) {
    const momentumConfidence = momentum ? (headlineScore(MOMENTUM, momentum, policy) ?? 0) : 0;
    return momentumConfidence >= thresholds.strong_momentum
      ? { action: 'reduce_size', reasoning: 'momentum_risk_conflict' }
      : { action: 'monitor', reasoning: 'high_risk' };
  }
  if (momentum?.trend_direction === 'neutral') return { action: 'monitor', reasoning: 'no_clear_direction' };
  if (confidence >= thresholds.trade_min_confidence)
    return { action: 'trade', reasoning: 'high_momentum_acceptable_risk' };
  if (confidence >= thresholds.monitor_min_confidence) return { action: 'monitor', reasoning: 'moderate_confidence' };
  return { action: 'no_trade', reasoning: 'low_confidence' };
}

/** What the workflow knew when it stopped waiting, beyond the signals. */
export interface AssessContext {
  /** Missing agents whose breaker was open: not waited for, and not counted against the threshold. */
  degraded?: readonly string[];
  /** A decisive signal stopped the wait: the rules decide on it whatever the threshold. */
  decisive?: boolean;
}

/**
 * Decides on the signals a correlation collected. With every expected agent present this is a full
 * decision; after a timeout it is a partial decision when at least `min_agents_threshold` expected
 * agents reported (fewer by the degraded agents that are missing), and `insufficient_data`
 * otherwise. A missing optional agent does not make a decision partial.
 */
export function assess(signals: Signals, policy: Policy, context: AssessContext = {}): Assessment {
  const available = Object.keys(signals).sort();
  const missing = policy.expected_agents.filter((agent) => !(agent in signals)).sort();
  const reportedExpected = policy.expected_agents.length - missing.length;
  // Policies recorded before per-agent waiting have no `agents`.
  const waits = (policy.agents as Policy['agents'] | undefined) ?? {};
  const degradedMissing = missing.filter((agent) => context.degraded?.includes(agent));
  const threshold = Math.max(
    1,
    Math.min(policy.min_agents_threshold, policy.expected_agents.length - degradedMissing.length),
  );
  const sourceSignals: Record<string, number> = {};
  for (const agent of available) {
    const score = headlineScore(agent, signals[agent].analysis, policy);
    if (score !== undefined) sourceSignals[agent] = score;
  }
  const common = { source_signals: sourceSignals, available_agents: available, missing_agents: missing };

  if (!context.decisive && reportedExpected < threshold) {
    return {
      ...common,
      action: 'insufficient_data',
      confidence: 0,
      reasoning: 'insufficient_data',
      contributing_agents: [],
      partial_data: true,
      aggregation_method: AGGREGATION_METHOD,
    };
  }
  const partialData = missing.some((agent) => !waits[agent]?.optional);
  const confidence = scoreConfidence(signals, policy, partialData);
  return {
    ...common,
    ...chooseAction(signals, confidence, policy),
    confidence,
    contributing_agents: available.filter(
      (agent) => agent === MOMENTUM || agent === RISK || weightOf(agent, policy) > 0,
    ),
    partial_data: partialData,
    aggregation_method: AGGREGATION_METHOD,
  };
}

/** The class of an instrument (`crypto`, `forex`, …) by the policy's patterns, first match wins. */
export function classifyInstrument(instrument: string | undefined, policy: Policy): string | undefined {
  if (instrument === undefined) return undefined;
  return policy.instrument_classes.find((c) => new RegExp(c.pattern).test(instrument))?.name;
}

/** The instrument the correlation is about: the first agent (by name) that names one. */
export function instrumentOf(signals: Signals): string | undefined {
  for (const agent of Object.keys(signals).sort()) {
    const instrument = signals[agent].source_signal?.instrument;
    if (instrument) return instrument;
  }
  return undefined;
}

/** The first of the policy's routes whose conditions all hold, else its default route. */
export function chooseRoute(signals: Signals, action: Action, policy: Policy): string {
  const instrumentClass = classifyInstrument(instrumentOf(signals), policy);
  const riskLevel: RiskLevel | undefined = signals[RISK]?.analysis.risk_level;
  const strength = signals[MOMENTUM]?.analysis.momentum_strength;
  const matches = policy.routes.find(({ when }) => {
    if (when.instrument_class && (!instrumentClass || !when.instrument_class.includes(instrumentClass))) return false;
    if (when.risk_level && (!riskLevel || !when.risk_level.includes(riskLevel))) return false;
    if (when.min_momentum_strength !== undefined && (strength === undefined || strength < when.min_momentum_strength))
      return false;
    if (when.action && !when.action.includes(action)) return false;
    return true;
  });
  return matches?.name ?? policy.default_route;
}
