/** Builders for agent signals used across tests: the seed's momentum and risk payloads. */
import type { AgentSignal, Analysis } from '../../src/contract/agent-signal';
import type { AgentSignalEnvelope } from '../../src/shared/correlation-api';

let nextMessageId = 1;

export function signal(
  agent: string,
  corrId: string,
  analysis: Analysis,
  extra: Partial<AgentSignal> = {},
): AgentSignal {
  return { schema_version: '1.0.0', agent_name: agent, corr_id: corrId, analysis, ...extra };
}

export const momentum = (
  corrId: string,
  analysis: Analysis = { trend_direction: 'bullish', momentum_strength: 0.75, confidence: 0.82 },
  extra: Partial<AgentSignal> = {},
) => signal('momentum', corrId, analysis, extra);

export const risk = (
  corrId: string,
  analysis: Analysis = { risk_level: 'medium', overall_score: 0.65, position_sizing: { recommended_size: 10_000 } },
  extra: Partial<AgentSignal> = {},
) => signal('risk', corrId, analysis, extra);

/** Wraps a signal as the bridge does, with a fresh message id unless one is given. */
export function envelope(s: AgentSignal, messageId = String(nextMessageId++)): AgentSignalEnvelope {
  return { message_id: messageId, signal: s };
}

/** A correlation id no other test uses. */
export function uniqueCorrId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
