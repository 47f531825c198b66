import { Correlation, MAX_LATE_SIGNALS_KEPT } from '../src/workflows/correlation';
import { correlationStateSchema } from '../src/contract/correlation-state';
import { envelope, momentum, risk, signal } from './support/signals';

const C = 'corr-unit';
const T0 = new Date('2026-01-15T10:30:00Z');
const policy = { version: 'p1', expected_agents: ['momentum', 'risk'], min_agents_threshold: 2, max_agents: 3 };

function started(): Correlation {
  const correlation = new Correlation(C, T0.toISOString());
  correlation.start(policy, new Date(T0.getTime() + 300_000));
  return correlation;
}

describe('Correlation state', () => {
  it('keeps each agent’s first signal and knows when every expected agent reported', () => {
    const c = started();
    expect(c.receive(envelope(momentum(C), '1'), T0)).toBe('accepted');
    expect(c.allExpectedReported).toBe(false);
    expect(c.missingAgents()).toEqual(['risk']);
    expect(c.receive(envelope(risk(C), '2'), T0)).toBe('accepted');
    expect(c.allExpectedReported).toBe(true);
    expect(Object.keys(c.keptSignals()).sort()).toEqual(['momentum', 'risk']);
  });

  it('counts a kept signal that the recorded decision does not name as late', () => {
    const c = started();
    c.receive(envelope(momentum(C), '1'), T0);
    c.receive(envelope(risk(C), '2'), T0);
    c.beginDeciding();
    const decision = {
      provenance: [{ agent: 'risk', message_id: '2', arrived_at: T0.toISOString() }],
      missing_agents: ['momentum'],
    } as never;
    c.decided(decision, true);
    expect(c.snapshot()).toMatchObject({
      status: 'timed_out',
      signals: { risk: { agent_name: 'risk' } },
      late_count: 1,
      late_signals: [{ agent_name: 'momentum', message_id: '1' }],
    });
    expect(Object.keys(c.keptSignals())).toEqual(['risk']);
  });

  it('ignores a redelivered message and a second message from the same agent', () => {
    const c = started();
    c.receive(envelope(momentum(C, { confidence: 0.9 }), '7'), T0);
    expect(c.receive(envelope(momentum(C, { confidence: 0.9 }), '7'), T0)).toBe('duplicate');
    expect(c.receive(envelope(momentum(C, { confidence: 0.1 }), '8'), T0)).toBe('duplicate');
    expect(c.keptSignals().momentum.analysis.confidence).toBe(0.9);
    expect(c.snapshot().duplicates).toBe(2);
  });

  it('rejects signals for another correlation and malformed envelopes without throwing', () => {
    const c = started();
    expect(c.receive(envelope(momentum('other-corr'), '1'), T0)).toBe('rejected');
    expect(c.receive({} as never, T0)).toBe('rejected');
    expect(c.receive(undefined as never, T0)).toBe('rejected');
    expect(c.snapshot().rejected_count).toBe(3);
    expect(c.snapshot().signals).toEqual({});
  });

  it('stays bounded: unexpected agents beyond max_agents are refused, expected ones never', () => {
    const c = started();
    expect(c.receive(envelope(signal('a1', C, {}), '1'), T0)).toBe('accepted');
    expect(c.receive(envelope(signal('a2', C, {}), '2'), T0)).toBe('accepted');
    expect(c.receive(envelope(signal('a3', C, {}), '3'), T0)).toBe('accepted');
    expect(c.receive(envelope(signal('a4', C, {}), '4'), T0)).toBe('rejected');
    expect(c.receive(envelope(momentum(C), '5'), T0)).toBe('accepted');
  });

  it('records signals after the decision as late, keeping only the first few', () => {
    const c = started();
    c.receive(envelope(momentum(C), 'm'), T0);
    c.beginDeciding();
    for (let i = 0; i < MAX_LATE_SIGNALS_KEPT + 5; i++) {
      expect(c.receive(envelope(signal(`late${i}`, C, {}), `l${i}`), T0)).toBe('late');
    }
    expect(c.receive(envelope(momentum(C), 'm'), T0)).toBe('duplicate');
    const state = c.snapshot();
    expect(state.late_count).toBe(MAX_LATE_SIGNALS_KEPT + 5);
    expect(state.late_signals).toHaveLength(MAX_LATE_SIGNALS_KEPT);
    expect(state.status).toBe('deciding');
  });

  it('traces each kept signal to its message and arrival time', () => {
    const c = started();
    c.receive(envelope(risk(C, {}, { agent_version: '2.0.1' }), '12'), new Date('2026-01-15T10:30:02Z'));
    c.receive(envelope(momentum(C), '11'), new Date('2026-01-15T10:30:01Z'));
    expect(c.provenance()).toEqual([
      { agent: 'momentum', message_id: '11', arrived_at: '2026-01-15T10:30:01.000Z' },
      { agent: 'risk', agent_version: '2.0.1', message_id: '12', arrived_at: '2026-01-15T10:30:02.000Z' },
    ]);
  });

  it('snapshots a state that satisfies the correlation state schema at every stage', () => {
    const c = new Correlation(C, T0.toISOString());
    expect(correlationStateSchema.safeParse(c.snapshot()).success).toBe(true);
    c.start(policy, new Date(T0.getTime() + 1000));
    c.receive(envelope(momentum(C), '1'), T0);
    const state = c.snapshot();
    expect(correlationStateSchema.parse(state)).toMatchObject({
      status: 'collecting',
      metadata: {
        created_at: T0.toISOString(),
        expected_agents: ['momentum', 'risk'],
        timeout_at: '2026-01-15T10:30:01.000Z',
      },
    });
  });
});
