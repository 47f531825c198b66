/**
 * Agent health end to end, on real servers with the compiled worker and bridge: the risk agent goes
 * dark, its circuit breaker opens after `failure_threshold` correlations decided without it, new
 * correlations then decide on momentum alone at once (no timer), marked degraded; risk comes back,
 * the breaker half-opens, closes on its signal, and decisions are full again. And a decisive
 * signal (risk blocked) decides without waiting for momentum.
 */
import { WORKFLOW_TYPE, workflowIdFor } from '../../src/shared/correlation-api';
import { breakerStateQuery, breakerWorkflowIdFor, type BreakerSnapshot } from '../../src/shared/agent-breaker-api';
import { historyShape } from '../support/history-shape';
import { runOrch } from '../support/run-command';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk, uniqueCorrId } from '../support/signals';

const TIMEOUT_MS = 1_500;
/**
 * Open for 8 s: long enough for the steps that must see it open (the bridge reading it, a
 * degraded correlation, `orch status`) under the whole suite's load, where 4 s was not.
 */
const BREAKER = { enabled: true, failure_threshold: 3, reset_after_ms: 8_000 };
let stack: E2EStack;

beforeAll(async () => {
  stack = await startE2EStack({ version: 'health-1', timeout_ms: TIMEOUT_MS, breaker: BREAKER });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

const breaker = (): Promise<BreakerSnapshot | undefined> =>
  stack.client.workflow
    .getHandle(breakerWorkflowIdFor('risk'))
    .query(breakerStateQuery)
    .catch(() => undefined);

async function timersOf(corrId: string): Promise<number> {
  const shape = historyShape(await stack.client.workflow.getHandle(workflowIdFor(corrId)).fetchHistory());
  return shape.events.filter((e) => e === 'TimerStarted').length;
}

describe('agent health', () => {
  it('stops waiting for a dark agent once its breaker opens, marks the decisions degraded, and waits again once it is back', async () => {
    // Risk is dark: each correlation waits out the timeout and decides without it.
    for (let i = 0; i < BREAKER.failure_threshold; i++) {
      const corrId = uniqueCorrId('dark');
      await stack.publish('momentum', momentum(corrId));
      const [{ decision }] = await stack.decisionsFor(corrId);
      expect(decision).toMatchObject({ decision: { action: 'insufficient_data' }, missing_agents: ['risk'] });
      expect(decision.degraded_agents).toBeUndefined();
    }
    const open = await waitFor('the breaker of risk to open', async () => {
      const s = await breaker();
      return s?.state === 'open' ? s : undefined;
    });
    expect(open).toMatchObject({
      consecutive_misses: BREAKER.failure_threshold,
      last_transition: { from: 'closed', to: 'open' },
    });

    // The bridge reads the breaker about once a second: the first correlation it starts after that does not wait for
    // risk.
    const degraded = await waitFor('a correlation started without waiting for risk', async () => {
      const corrId = uniqueCorrId('degraded');
      await stack.publish('momentum', momentum(corrId, { trend_direction: 'bullish', confidence: 0.9 }));
      const [{ decision }] = await stack.decisionsFor(corrId);
      return decision.degraded_agents ? { corrId, decision } : undefined;
    });
    expect(degraded.decision).toMatchObject({
      decision: { action: 'trade', confidence: 0.72 },
      missing_agents: ['risk'],
      degraded_agents: ['risk'],
      partial_data: true,
    });
    // Decided on its first workflow task: no partial-data timer at all.
    expect(await timersOf(degraded.corrId)).toBe(0);

    // orch status shows it.
    const status = await runOrch(['status'], { TEMPORAL_ADDRESS: stack.temporalAddress, NATS_URL: stack.natsUrl });
    // At least the threshold: a correlation that started before the bridge read the open breaker waited, and missed,
    // too.
    expect(status.stdout).toMatch(
      /breaker risk\s+warn\s+open, half-open at \S+; correlations do not wait for risk; \d+ misses in a row \(opens at 3\); closed -> open at \S+: 3 correlations in a row decided without the agent \(failure_threshold 3\)/,
    );
    expect(status.stdout).toMatch(/breaker momentum\s+ok\s+closed, 0 misses in a row/);

    // Risk is back. After reset_after_ms the breaker is half-open; a correlation waits for risk again and its signal
    // closes the breaker.
    await waitFor(
      'the breaker of risk to turn half-open',
      async () => ((await breaker())?.state === 'half_open' ? true : undefined),
      30_000,
    );
    const back = uniqueCorrId('back');
    await stack.publish('momentum', momentum(back));
    await stack.publish('risk', risk(back));
    const [{ decision: full }] = await stack.decisionsFor(back);
    expect(full).toMatchObject({ missing_agents: [], partial_data: false });
    expect(full.degraded_agents).toBeUndefined();
    const closed = await waitFor('the breaker of risk to close', async () => {
      const s = await breaker();
      return s?.state === 'closed' ? s : undefined;
    });
    expect(closed).toMatchObject({
      consecutive_misses: 0,
      last_transition: { from: 'half_open', to: 'closed', reason: 'the agent reported' },
    });

    // And once the bridge has read the closed breaker (about a second), a correlation without risk
    // waits for it again (its timer), no longer degraded.
    const waited = await waitFor('a correlation that waits for risk again', async () => {
      const corrId = uniqueCorrId('waits');
      await stack.publish('momentum', momentum(corrId));
      const [{ decision }] = await stack.decisionsFor(corrId);
      return decision.degraded_agents ? undefined : { corrId, decision };
    });
    expect(waited.decision).toMatchObject({ missing_agents: ['risk'], decision: { action: 'insufficient_data' } });
    expect(await timersOf(waited.corrId)).toBe(1);
  }, 120_000);

  it('decides on a blocked risk signal at once, without waiting for momentum', async () => {
    const corrId = uniqueCorrId('blocked');
    await stack.publish('risk', risk(corrId, { risk_level: 'blocked', overall_score: 0.97 }));
    const [{ decision }] = await stack.decisionsFor(corrId);
    expect(decision).toMatchObject({
      decision: { action: 'no_trade', reasoning: 'risk_blocked' },
      missing_agents: ['momentum'],
      decided_early: { rule: 'decisive_signal', detail: 'risk_blocked: risk reported risk_level blocked' },
    });
    expect(await timersOf(corrId)).toBe(0);
    expect((await stack.client.workflow.getHandle(workflowIdFor(corrId)).describe()).type).toBe(WORKFLOW_TYPE);
  });
});
