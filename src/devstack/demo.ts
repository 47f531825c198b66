import type { JetStreamClient, NatsConnection } from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import type { OrchestrationDecision } from '../contract/decision';
import { DECISION_SUBJECT, signalSubject } from '../nats/streams';

/** The seed's fan-in example: bullish momentum and medium risk on BTC/USD. */
export function demoSignals(corrId: string, now = new Date()): AgentSignal[] {
  const at = now.toISOString();
  const source_signal = { instrument: 'BTC/USD' };
  return [
    {
      schema_version: '1.0.0',
      agent_name: 'momentum',
      agent_version: '1.2.1',
      corr_id: corrId,
      enriched_at: at,
      source_signal,
      analysis: { trend_direction: 'bullish', momentum_strength: 0.78, confidence: 0.85 },
    },
    {
      schema_version: '1.0.0',
      agent_name: 'risk',
      agent_version: '0.9.0',
      corr_id: corrId,
      enriched_at: at,
      source_signal,
      analysis: { risk_level: 'medium', overall_score: 0.6, position_sizing: { recommended_size: 10_000 } },
    },
  ];
}

/** Publishes the demo correlation on NATS, as the agents would, and waits for its decision there. */
export async function publishDemoCorrelation(
  nc: NatsConnection,
  js: JetStreamClient,
  corrId: string,
  timeoutMs: number,
): Promise<OrchestrationDecision> {
  let timer: NodeJS.Timeout | undefined;
  const subscription = nc.subscribe(DECISION_SUBJECT);
  const decided = (async () => {
    for await (const message of subscription) {
      const decision = message.json<OrchestrationDecision>();
      if (decision.corr_id === corrId) return decision;
    }
    throw new Error('the NATS connection closed before the decision arrived');
  })();
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no decision for ${corrId} after ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    for (const signal of demoSignals(corrId))
      await js.publish(signalSubject(signal.agent_name), JSON.stringify(signal));
    return await Promise.race([decided, timedOut]);
  } finally {
    clearTimeout(timer);
    subscription.unsubscribe();
  }
}
