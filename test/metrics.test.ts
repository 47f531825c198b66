/** What /metrics says of the agents' circuit breakers, as a starter records them. */
import { OrchestratorMetrics } from '../src/observability/metrics';

describe('OrchestratorMetrics.recordBreaker', () => {
  it("exports each agent's breaker state (0 closed, 1 half-open, 2 open) and its misses in a row", async () => {
    const metrics = new OrchestratorMetrics();
    const settings = { enabled: true, failure_threshold: 5, reset_after_ms: 60_000 };
    metrics.recordBreaker({ agent: 'risk', state: 'open', consecutive_misses: 6, reported: 10, missed: 6, settings });
    metrics.recordBreaker({
      agent: 'momentum',
      state: 'closed',
      consecutive_misses: 0,
      reported: 16,
      missed: 0,
      settings,
    });
    metrics.recordBreaker({
      agent: 'sentiment',
      state: 'half_open',
      consecutive_misses: 5,
      reported: 0,
      missed: 5,
      settings,
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('orchestrator_agent_breaker_state{agent="risk"} 2');
    expect(text).toContain('orchestrator_agent_breaker_state{agent="momentum"} 0');
    expect(text).toContain('orchestrator_agent_breaker_state{agent="sentiment"} 1');
    expect(text).toContain('orchestrator_agent_breaker_consecutive_misses{agent="risk"} 6');
  });
});
