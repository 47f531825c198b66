import { assess, chooseRoute, classifyInstrument, scoreConfidence } from '../src/activities/decision-rules';
import { DEFAULT_POLICY } from '../src/config';
import { policySchema } from '../src/contract/policy';
import { momentum, risk, signal } from './support/signals';

const policy = DEFAULT_POLICY;
const C = 'rules-test';

describe('decision rules (SPEC.md acceptance cases)', () => {
  it('fans in momentum and risk to a trade with both agents contributing', () => {
    const result = assess({ momentum: momentum(C), risk: risk(C) }, policy);
    expect(result.action).toBe('trade');
    expect(result.confidence).toBeGreaterThan(0.5);
    expect(result.contributing_agents).toEqual(['momentum', 'risk']);
    expect(result.aggregation_method).toBeTruthy();
    expect(result.partial_data).toBe(false);
    expect(result.missing_agents).toEqual([]);
    expect(result.source_signals).toEqual({ momentum: 0.82, risk: 0.65 });
  });

  it('scores high confidence when momentum is confident and risk is low', () => {
    const confidence = scoreConfidence(
      { momentum: momentum(C, { confidence: 0.9 }), risk: risk(C, { overall_score: 0.2 }) },
      policy,
    );
    expect(confidence).toBeGreaterThan(0.8);
  });

  it('scores low confidence when momentum is weak and risk is high', () => {
    const confidence = scoreConfidence(
      { momentum: momentum(C, { confidence: 0.4 }), risk: risk(C, { overall_score: 0.8 }) },
      policy,
    );
    expect(confidence).toBeLessThan(0.4);
  });

  it('never trades when risk is blocked, whatever momentum says', () => {
    const result = assess(
      {
        momentum: momentum(C, { trend_direction: 'bullish', confidence: 0.99, momentum_strength: 1 }),
        risk: risk(C, { risk_level: 'blocked' }),
      },
      policy,
    );
    expect(result.action).toBe('no_trade');
    expect(result.reasoning).toBe('risk_blocked');
  });

  // SPEC allows monitor or reduce_size here; these rules, on this input, give reduce_size.
  it('answers bullish momentum 0.8 against high risk 0.9 with reduce_size', () => {
    const result = assess(
      {
        momentum: momentum(C, { trend_direction: 'bullish', confidence: 0.8 }),
        risk: risk(C, { risk_level: 'high', overall_score: 0.9 }),
      },
      policy,
    );
    expect(result.action).toBe('reduce_size');
  });

  it('routes BTC/USD with high risk to crypto_high_risk', () => {
    const signals = {
      momentum: momentum(C, { momentum_strength: 0.6 }, { source_signal: { instrument: 'BTC/USD' } }),
      risk: risk(C, { risk_level: 'high' }),
    };
    expect(chooseRoute(signals, assess(signals, policy).action, policy)).toBe('crypto_high_risk');
  });

  it('routes EURUSD with strong momentum and low risk to forex_momentum', () => {
    const signals = {
      momentum: momentum(C, { momentum_strength: 0.8 }, { source_signal: { instrument: 'EURUSD' } }),
      risk: risk(C, { risk_level: 'low' }),
    };
    expect(chooseRoute(signals, assess(signals, policy).action, policy)).toBe('forex_momentum');
  });

  it('gives everything else the named default route', () => {
    const signals = {
      momentum: momentum(C, { momentum_strength: 0.2 }, { source_signal: { instrument: 'AAPL' } }),
      risk: risk(C),
    };
    expect(chooseRoute(signals, 'trade', policy)).toBe('standard');
    expect(chooseRoute({}, 'insufficient_data', policy)).toBe('standard');
  });

  it('decides insufficient_data when risk never reports', () => {
    const result = assess({ momentum: momentum(C, { confidence: 0.8 }) }, policy);
    expect(result.action).toBe('insufficient_data');
    expect(result.available_agents).toEqual(['momentum']);
    expect(result.missing_agents).toEqual(['risk']);
    expect(result.contributing_agents).toEqual([]);
    expect(result.partial_data).toBe(true);
  });

  it('decides on partial data with min_agents_threshold 1', () => {
    const lenient = policySchema.parse({ version: 't1', min_agents_threshold: 1 });
    const result = assess({ momentum: momentum(C, { confidence: 0.9 }) }, lenient);
    // SPEC allows monitor or trade; bullish momentum at 0.9, less the partial-data penalty, still trades.
    expect(result.action).toBe('trade');
    expect(result.partial_data).toBe(true);
    expect(result.missing_agents).toEqual(['risk']);
    // The partial-data penalty takes 20 % off momentum's 0.9.
    expect(result.confidence).toBeCloseTo(0.72, 4);
  });

  it('uses the policy defaults: a 5-minute timeout and [momentum, risk]', () => {
    expect(policy.timeout_ms).toBe(300_000);
    expect(policy.expected_agents).toEqual(['momentum', 'risk']);
    expect(policy.min_agents_threshold).toBe(2);
  });
});

describe('decision rules (edge cases)', () => {
  it('monitors when momentum has no direction', () => {
    const result = assess(
      { momentum: momentum(C, { trend_direction: 'neutral', confidence: 0.9 }), risk: risk(C, { overall_score: 0.1 }) },
      policy,
    );
    expect(result).toMatchObject({ action: 'monitor', reasoning: 'no_clear_direction' });
  });

  it('monitors under high risk when momentum is not strong enough to conflict', () => {
    const result = assess(
      { momentum: momentum(C, { confidence: 0.5 }), risk: risk(C, { overall_score: 0.85 }) },
      policy,
    );
    expect(result).toMatchObject({ action: 'monitor', reasoning: 'high_risk' });
  });

  it('does not trade on low confidence', () => {
    const result = assess(
      { momentum: momentum(C, { confidence: 0.1 }), risk: risk(C, { overall_score: 0.7 }) },
      policy,
    );
    expect(result).toMatchObject({ action: 'no_trade', reasoning: 'low_confidence' });
  });

  it('derives a risk score from risk_level when overall_score is absent', () => {
    const result = assess({ momentum: momentum(C, { confidence: 0.8 }), risk: risk(C, { risk_level: 'low' }) }, policy);
    expect(result.source_signals.risk).toBe(0.2);
    expect(result.confidence).toBeCloseTo(0.8, 4);
  });

  it('falls back to momentum_strength when momentum gives no confidence', () => {
    const result = assess(
      { momentum: momentum(C, { momentum_strength: 0.7 }), risk: risk(C, { overall_score: 0.3 }) },
      policy,
    );
    expect(result.source_signals.momentum).toBe(0.7);
  });

  it('decides on empty analyses without crashing, with zero confidence', () => {
    const result = assess({ momentum: momentum(C, {}), risk: risk(C, {}) }, policy);
    expect(result).toMatchObject({ action: 'no_trade', confidence: 0, source_signals: {} });
  });

  it('passes unknown agents through: kept as available, weightless by default', () => {
    const result = assess(
      { momentum: momentum(C), risk: risk(C), sentiment: signal('sentiment', C, { confidence: 0.1, mood: 'gloomy' }) },
      policy,
    );
    expect(result.available_agents).toEqual(['momentum', 'risk', 'sentiment']);
    expect(result.contributing_agents).toEqual(['momentum', 'risk']);
    expect(result.source_signals.sentiment).toBe(0.1);
    expect(result.confidence).toBe(assess({ momentum: momentum(C), risk: risk(C) }, policy).confidence);
  });

  it('lets a third agent count when the policy weights it', () => {
    const three = policySchema.parse({
      version: 't3',
      expected_agents: ['momentum', 'risk', 'sentiment'],
      weights: { momentum: 1, risk: 1, sentiment: 2 },
    });
    const result = assess(
      {
        momentum: momentum(C, { confidence: 0.9 }),
        risk: risk(C, { overall_score: 0.1 }),
        sentiment: signal('sentiment', C, { confidence: 0 }),
      },
      three,
    );
    expect(result.contributing_agents).toEqual(['momentum', 'risk', 'sentiment']);
    expect(result.confidence).toBeCloseTo((0.9 + 0.9 + 0) / 4, 4);
  });

  it('classifies instruments by the first matching pattern', () => {
    expect(classifyInstrument('BTC/USD', policy)).toBe('crypto');
    expect(classifyInstrument('ETHUSDT', policy)).toBe('crypto');
    expect(classifyInstrument('EURUSD', policy)).toBe('forex');
    expect(classifyInstrument('EUR/USD', policy)).toBe('forex');
    expect(classifyInstrument('AAPL', policy)).toBeUndefined();
    expect(classifyInstrument(undefined, policy)).toBeUndefined();
  });

  it('routes on the decided action when a rule asks for it', () => {
    const custom = policySchema.parse({
      version: 'r',
      routes: [{ name: 'blocked_desk', when: { action: ['no_trade'] } }],
    });
    expect(chooseRoute({}, 'no_trade', custom)).toBe('blocked_desk');
    expect(chooseRoute({}, 'trade', custom)).toBe('standard');
  });
});
