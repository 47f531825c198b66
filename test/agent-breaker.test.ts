/**
 * The circuit breaker's state machine on its own, with the cases of the user's test strategy
 * (seeds/004: starts closed, opens at the threshold, blocks while open, half-open after the
 * timeout and closed by a success, the count reset by a success), and the ones an agent that
 * stays dark adds.
 */
import type { Client } from '@temporalio/client';
import { BreakerView } from '../src/agent-health/view';
import { createLogger } from '../src/observability/logger';
import { AgentBreaker, type BreakerSnapshot } from '../src/workflows/agent-breaker';

const T0 = new Date('2026-12-04T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const breaker = (failureThreshold: number, resetAfterMs = 60_000): AgentBreaker =>
  new AgentBreaker('risk', { enabled: true, failure_threshold: failureThreshold, reset_after_ms: resetAfterMs });

describe('AgentBreaker', () => {
  it('starts closed with no misses, and correlations wait for the agent', () => {
    const b = breaker(5);
    expect(b.state).toBe('closed');
    expect(b.snapshot().consecutive_misses).toBe(0);
    expect(b.waitsForAgent).toBe(true);
  });

  it('opens at the failure threshold, not before', () => {
    const b = breaker(3);
    expect(b.record('missed', at(1))).toBeUndefined();
    expect(b.record('missed', at(2))).toBeUndefined();
    expect(b.state).toBe('closed');
    expect(b.record('missed', at(3))).toEqual({
      from: 'closed',
      to: 'open',
      at: '2026-12-04T10:00:00.003Z',
      reason: '3 correlations in a row decided without the agent (failure_threshold 3)',
    });
    expect(b.state).toBe('open');
    expect(b.snapshot().consecutive_misses).toBe(3);
  });

  it('blocks while open: new correlations do not wait for the agent, more misses change nothing', () => {
    const b = breaker(2);
    b.record('missed', at(1));
    b.record('missed', at(2));
    expect(b.waitsForAgent).toBe(false);
    expect(b.record('missed', at(3))).toBeUndefined();
    expect(b.state).toBe('open');
    expect(b.snapshot()).toMatchObject({ consecutive_misses: 3, missed: 3, reported: 0 });
  });

  it('turns half-open after reset_after_ms (not before), and a report then closes it', () => {
    const b = breaker(2, 1_000);
    b.record('missed', at(0));
    b.record('missed', at(10));
    expect(b.halfOpenAtMs).toBe(at(1_010).getTime());
    expect(b.tick(at(1_009))).toBeUndefined();
    expect(b.state).toBe('open');
    expect(b.tick(at(1_010))).toEqual({
      from: 'open',
      to: 'half_open',
      at: '2026-12-04T10:00:01.010Z',
      reason: '1000 ms since it opened',
    });
    expect(b.waitsForAgent).toBe(true);
    expect(b.record('reported', at(1_500))).toEqual({
      from: 'half_open',
      to: 'closed',
      at: '2026-12-04T10:00:01.500Z',
      reason: 'the agent reported',
    });
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutive_misses: 0 });
  });

  it('resets the miss count on a report', () => {
    const b = breaker(5);
    b.record('missed', at(1));
    b.record('missed', at(2));
    expect(b.snapshot().consecutive_misses).toBe(2);
    expect(b.record('reported', at(3))).toBeUndefined();
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutive_misses: 0, missed: 2, reported: 1 });
    // It takes the full threshold again to open.
    for (let i = 0; i < 4; i++) b.record('missed', at(10 + i));
    expect(b.state).toBe('closed');
  });

  it('opens again at once when the agent misses while half-open, for another reset time', () => {
    const b = breaker(2, 1_000);
    b.record('missed', at(0));
    b.record('missed', at(0));
    b.tick(at(1_000));
    expect(b.record('missed', at(1_200))).toMatchObject({
      from: 'half_open',
      to: 'open',
      reason: 'the agent missed its deadline again while half-open',
    });
    expect(b.halfOpenAtMs).toBe(at(2_200).getTime());
  });

  it('closes from open when the agent reports anyway', () => {
    const b = breaker(1);
    b.record('missed', at(0));
    expect(b.record('reported', at(5))).toMatchObject({ from: 'open', to: 'closed' });
    expect(b.halfOpenAtMs).toBeUndefined();
  });

  it('carries its state across continue-as-new, with new settings', () => {
    const b = breaker(2);
    b.record('missed', at(0));
    b.record('missed', at(1));
    const next = new AgentBreaker('risk', { enabled: true, failure_threshold: 9, reset_after_ms: 5_000 }, b.snapshot());
    expect(next.snapshot()).toMatchObject({
      state: 'open',
      consecutive_misses: 2,
      missed: 2,
      settings: { failure_threshold: 9 },
    });
  });
});

describe('BreakerView.degradedAgents (a starter reading the breakers)', () => {
  const settings = { enabled: true, failure_threshold: 2, reset_after_ms: 10_000 };
  /** A client stub answering the breaker query with a fixed state per agent: this tests the view's rule alone. */
  const viewOf = async (states: Record<string, Partial<BreakerSnapshot>>): Promise<BreakerView> => {
    const client = {
      withDeadline: <T>(_deadline: number, call: () => Promise<T>) => call(),
      workflow: {
        getHandle: (id: string) => ({
          query: async () => ({
            agent: id.replace('agent-breaker-', ''),
            consecutive_misses: 0,
            reported: 0,
            missed: 0,
            settings,
            ...states[id.replace('agent-breaker-', '')],
          }),
        }),
      },
    } as unknown as Client;
    const view = new BreakerView(client, Object.keys(states), createLogger('silent', 'test'), 5_000);
    await view.poll();
    return view;
  };

  it('does not wait for an agent whose breaker is open, until its half-open time', async () => {
    const view = await viewOf({
      momentum: { state: 'closed' },
      risk: { state: 'open', half_open_at: at(10_000).toISOString() },
    });
    expect(view.degradedAgents(at(9_999).getTime())).toEqual(['risk']);
  });

  it('lets one correlation per probe interval wait for a half-open agent; the others still do not wait', async () => {
    const view = await viewOf({ risk: { state: 'half_open' } });
    expect(view.degradedAgents(at(0).getTime())).toEqual([]);
    expect(view.degradedAgents(at(100).getTime())).toEqual(['risk']);
    expect(view.degradedAgents(at(4_999).getTime())).toEqual(['risk']);
    expect(view.degradedAgents(at(5_000).getTime())).toEqual([]);
  });

  it('treats an open breaker past its half-open time as half-open before the next read', async () => {
    const view = await viewOf({ risk: { state: 'open', half_open_at: at(10_000).toISOString() } });
    expect(view.degradedAgents(at(10_000).getTime())).toEqual([]);
    expect(view.degradedAgents(at(10_001).getTime())).toEqual(['risk']);
  });
});
