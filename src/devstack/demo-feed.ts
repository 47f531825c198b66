/**
 * Agents for the local stack: a steady stream of correlations, each a momentum and (usually) a risk
 * signal about one instrument, published on NATS exactly as real agents would.
 */
import type { JetStreamClient } from 'nats';
import type { AgentSignal } from '../contract/agent-signal';
import { signalSubject } from '../nats/streams';

export interface DemoFeedOptions {
  /** New correlations per second. */
  correlationsPerSecond: number;
  /** Share of correlations whose risk agent never reports (they decide at the timeout). */
  partialShare: number;
}

export interface DemoFeed {
  published(): number;
  stop(): Promise<void>;
}

const INSTRUMENTS = ['BTC/USD', 'ETH/USD', 'EURUSD', 'GBPUSD', 'AAPL', 'SOL/USD'];
const TRENDS = ['bullish', 'bearish', 'neutral'] as const;
const RISK_LEVELS = ['low', 'medium', 'high', 'blocked'] as const;
const RISK_LEVEL_WEIGHTS = [0.35, 0.4, 0.2, 0.05];

const round2 = (x: number): number => Math.round(x * 100) / 100;
const pick = <T>(random: () => number, items: readonly T[], weights?: number[]): T => {
  let r = random() * (weights ?? items.map(() => 1)).reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) {
    r -= weights ? weights[i] : 1;
    if (r <= 0) return items[i];
  }
  return items[items.length - 1];
};

/**
 * One correlation's signals: momentum always, risk unless `partial`. `random` draws every choice
 * (a seeded one makes a run repeatable).
 */
export function randomCorrelation(
  corrId: string,
  partial: boolean,
  now = new Date(),
  random: () => number = Math.random,
): AgentSignal[] {
  const base = {
    schema_version: '1.0.0',
    corr_id: corrId,
    enriched_at: now.toISOString(),
    source_signal: { instrument: pick(random, INSTRUMENTS) },
  };
  const riskLevel = pick(random, RISK_LEVELS, RISK_LEVEL_WEIGHTS);
  const riskScore = { low: 0.1, medium: 0.4, high: 0.7, blocked: 0.9 }[riskLevel] + random() * 0.1;
  const signals: AgentSignal[] = [
    {
      ...base,
      agent_name: 'momentum',
      agent_version: '1.2.1',
      analysis: {
        trend_direction: pick(random, TRENDS),
        momentum_strength: round2(random()),
        confidence: round2(0.3 + random() * 0.7),
      },
    },
  ];
  if (!partial) {
    signals.push({
      ...base,
      agent_name: 'risk',
      agent_version: '0.9.0',
      analysis: {
        risk_level: riskLevel,
        overall_score: round2(riskScore),
        position_sizing: { recommended_size: 1_000 * Math.ceil(random() * 20) },
      },
    });
  }
  return signals;
}

export function startDemoFeed(js: JetStreamClient, options: DemoFeedOptions): DemoFeed {
  let published = 0;
  let inFlight = Promise.resolve();
  const runId = Date.now().toString(36);
  const timer = setInterval(() => {
    const corrId = `feed-${runId}-${published + 1}`;
    published++;
    const signals = randomCorrelation(corrId, Math.random() < options.partialShare);
    inFlight = Promise.all(signals.map((s) => js.publish(signalSubject(s.agent_name), JSON.stringify(s)))).then(
      () => undefined,
      () => undefined, // NATS is restarting: this correlation is lost to the demo, not to the orchestrator.
    );
  }, 1_000 / options.correlationsPerSecond);
  return {
    published: () => published,
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
