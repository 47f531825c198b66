/**
 * Chaos (j): an agent goes dark under load, then comes back, with and without its circuit
 * breaker. While risk publishes nothing, every correlation that starts is partial: without the
 * breaker each waits out the partial-data timeout; with it, after `failure_threshold` misses the
 * breaker opens and correlations decide on momentum at once, marked `degraded_agents`; half-open,
 * one correlation at a time probes risk; once risk is back its signal closes the breaker and
 * decisions are full again. Every correlation is still decided exactly once on exactly what was
 * published. The figures (p95 from the first signal to the decision stored, per phase) go to the
 * report.
 *
 * Risk publishes before momentum in this scenario: a correlation started degraded decides on
 * momentum's signal at once, so a risk signal that came after it would be late (the DLQ), which
 * is the breaker's documented trade-off, not what this scenario measures.
 */
import type { OrchestrationDecision } from '../../src/contract/decision';
import {
  type ChaosReport,
  expectNothingLostNothingDuplicated,
  pollUntil,
  runScenario,
  scaled,
  sleep,
  type ScenarioContext,
} from '../support/chaos';

const TIMEOUT_MS = scaled(3_000, 10_000);
const BREAKER = { enabled: true, failure_threshold: 5, reset_after_ms: scaled(4_000, 15_000) };
const BEFORE_MS = scaled(5_000, 30_000);
const DARK_MS = scaled(15_000, 60_000);
const AFTER_MS = scaled(8_000, 30_000);

interface Phases {
  darkAt: number;
  backAt: number;
  endAt: number;
}

/**
 * For the correlations that began in [from, to): how many, how many degraded, and p50/p95 (ms) of first signal ->
 * decision stored.
 */
function phase(
  ctx: ScenarioContext,
  from: number,
  to: number,
): { correlations: number; degraded: number; p50_ms: number | null; p95_ms: number | null } {
  const began = ctx.load.correlations.filter(
    (c) => c.firstSentAt >= from && c.firstSentAt < to && ctx.ledger.decided(c.corrId),
  );
  const latencies = began
    .map((c) => (ctx.ledger.firstArrival.get(c.corrId) as number) - c.firstSentAt)
    .sort((a, b) => a - b);
  const at = (q: number): number | null =>
    latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  const degraded = began.filter((c) => ctx.ledger.decisions.get(c.corrId)?.degraded_agents?.includes('risk')).length;
  return { correlations: began.length, degraded, p50_ms: at(0.5), p95_ms: at(0.95) };
}

async function goDark(breaker: boolean): Promise<{ report: ChaosReport; degraded: number; degradedAfterBack: number }> {
  const phases: Phases = { darkAt: 0, backAt: 0, endAt: 0 };
  let ledger: ScenarioContext['ledger'] | undefined;
  const report = await runScenario({
    scenario: `agent-dark-${breaker ? 'breaker' : 'no-breaker'}`,
    policy: {
      version: 'chaos-agent-dark',
      timeout_ms: TIMEOUT_MS,
      min_agents_threshold: 1,
      breaker: { ...BREAKER, enabled: breaker },
    },
    rate: scaled(8, 15),
    minCorrelations: 0,
    partialShare: 0,
    riskFirst: true,
    async chaos(ctx) {
      ledger = ctx.ledger;
      await sleep(BEFORE_MS);
      const fault = await ctx.faults.inject(
        'risk agent dark',
        () => {
          ctx.load.darkAgents.add('risk');
          phases.darkAt = Date.now();
        },
        `${DARK_MS / 1000}s`,
      );
      await sleep(DARK_MS);
      await ctx.faults.heal(fault, () => {
        ctx.load.darkAgents.delete('risk');
        phases.backAt = Date.now();
      });
      await sleep(AFTER_MS);
      phases.endAt = Date.now();
      // Recovered: the last correlations before the end decided with risk.
      await pollUntil(
        'decisions with risk again',
        () =>
          ctx.load.correlations
            .filter((c) => c.firstSentAt > phases.backAt + AFTER_MS / 2)
            .every((c) => ctx.ledger.decided(c.corrId))
            ? true
            : undefined,
        60_000,
      );
    },
    verify: (ctx) => ({
      extra: {
        breaker: breaker ? BREAKER : 'off',
        policy_timeout_ms: TIMEOUT_MS,
        dark_ms: DARK_MS,
        phases: {
          before: phase(ctx, 0, phases.darkAt),
          dark: phase(ctx, phases.darkAt, phases.backAt),
          after: phase(ctx, phases.backAt, phases.endAt),
        },
      },
    }),
  });
  // What the decisions say: degraded ones, and whether any came well after risk was back.
  const decisions: OrchestrationDecision[] = [...(ledger?.decisions.values() ?? [])];
  return {
    report,
    degraded: decisions.filter((d) => d.degraded_agents?.includes('risk')).length,
    degradedAfterBack: decisions.filter(
      (d) => d.degraded_agents && Date.parse(d.orchestrated_at) > phases.backAt + AFTER_MS / 2,
    ).length,
  };
}

it(
  'with the breaker: stops waiting for a dark risk agent after the threshold, and decides fully again once it is back',
  async () => {
    const { report, degraded, degradedAfterBack } = await goDark(true);
    expectNothingLostNothingDuplicated(report);
    expect(degraded).toBeGreaterThan(0);
    expect(degradedAfterBack).toBe(0);
  },
  scaled(240_000, 600_000),
);

it(
  'without the breaker: every correlation started while risk is dark waits out the timeout, none is degraded',
  async () => {
    const { report, degraded } = await goDark(false);
    expectNothingLostNothingDuplicated(report);
    expect(degraded).toBe(0);
  },
  scaled(240_000, 600_000),
);
