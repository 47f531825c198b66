/**
 * `orch what-if` end to end: 220 correlations recorded through NATS by the real bridge and worker,
 * then the compiled CLI recomputes them under another policy by a visibility query. The recorded
 * decisions and the diff are checked against a table of outcomes worked out by hand from SPEC.md's
 * decision rules (not by calling the rules under test); and the what-if must leave production alone:
 * no decision published, no workflow started.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentSignal, Analysis } from '../../src/contract/agent-signal';
import type { PolicyInput } from '../../src/contract/policy';
import { DECISIONS_STREAM } from '../../src/nats/streams';
import { WORKFLOW_ID_PREFIX, workflowIdFor } from '../../src/shared/correlation-api';
import type { Outcome } from '../../src/operations/what-if/compare';
import type { WhatIfReport } from '../../src/operations/what-if/report';
import { storedDecisions } from '../support/decisions';
import type { EngineKind } from '../../src/devstack/local-stack';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk } from '../support/signals';
import { runOrch, type CommandRun } from '../support/run-command';

/** SPEC.md's actions. */
const ACTIONS = ['trade', 'no_trade', 'monitor', 'reduce_size', 'insufficient_data'];
/** Every policy field not given is schemas/policy.schema.json's default. */
const RECORDED: PolicyInput = { version: 'e2e-whatif-1', timeout_ms: 2_000 };
/** Lower bar to trade, one agent enough at the timeout, and a crypto desk for crypto trades. */
const CHANGED: PolicyInput = {
  version: 'e2e-whatif-2',
  timeout_ms: 2_000,
  min_agents_threshold: 1,
  thresholds: { trade_min_confidence: 0.45, monitor_min_confidence: 0.3 },
  routes: [
    { name: 'crypto_desk', when: { instrument_class: ['crypto'], action: ['trade', 'reduce_size'] } },
    { name: 'crypto_high_risk', when: { instrument_class: ['crypto'], risk_level: ['high', 'blocked'] } },
    { name: 'forex_momentum', when: { instrument_class: ['forex'], min_momentum_strength: 0.6 } },
  ],
};

type Expected = Omit<Outcome, 'policy_version'>;
const outcome = (
  action: Outcome['action'],
  confidence: number,
  reasoning: string,
  route: string,
  partial_data = false,
): Expected => ({ action, confidence, reasoning, route, partial_data });
const INSUFFICIENT = outcome('insufficient_data', 0, 'insufficient_data', 'standard', true);

interface Case {
  instrument?: string;
  momentum: Analysis;
  /** Absent: risk never reports (a partial correlation). */
  risk?: Analysis;
  /** The decision under RECORDED, as the workflow made it. */
  recorded: Expected;
  /** The what-if's decision under CHANGED. */
  changed: Expected;
}

/*
 * The expected outcomes, worked out by hand. The rules (SPEC.md, with the policy's numbers):
 * - confidence = the weighted mean of momentum's confidence (its strength when it has none) and
 *   risk's support, 1 - overall_score (or 1 - the risk_level's score: low 0.2, medium 0.5, high 0.8,
 *   blocked 1); weights momentum 0.5 and risk 0.5, so with both it is (m + (1 - r)) / 2. With an
 *   expected agent missing it is m × (1 - partial_data_penalty 0.2) = m × 0.8. Rounded to 4 places.
 * - risk blocked: no_trade (risk_blocked). High risk (risk_level high, or overall_score at least
 *   high_risk_score 0.8): reduce_size (momentum_risk_conflict) when momentum's confidence is at least
 *   strong_momentum 0.7, else monitor (high_risk). Neutral momentum: monitor (no_clear_direction).
 *   Otherwise trade (high_momentum_acceptable_risk) from trade_min_confidence (RECORDED 0.55,
 *   CHANGED 0.45), monitor (moderate_confidence) from monitor_min_confidence (0.35; 0.3), else
 *   no_trade (low_confidence).
 * - Fewer expected agents than min_agents_threshold (RECORDED: both, CHANGED: 1): insufficient_data,
 *   confidence 0, partial.
 * - Instrument classes: crypto (BTC, ETH, ... then an optional / or -, then 3-4 letters), forex (six
 *   letters, an optional / after three); crypto first. Routes, the first that holds, else standard:
 *   RECORDED crypto_high_risk (crypto, risk high or blocked), forex_momentum (forex, strength >= 0.7,
 *   risk low or medium); CHANGED as above (forex_momentum: strength >= 0.6, any risk).
 * Partial correlations are spread out in the table: five misses of risk in a row would open its
 * circuit breaker, and correlations started while it is open decide without waiting.
 */
const CASES: Case[] = [
  {
    // (0.90 + 0.80) / 2 = 0.85: trade; crypto but low risk: standard, then crypto_desk.
    instrument: 'BTC/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.8, confidence: 0.9 },
    risk: { risk_level: 'low', overall_score: 0.2 },
    recorded: outcome('trade', 0.85, 'high_momentum_acceptable_risk', 'standard'),
    changed: outcome('trade', 0.85, 'high_momentum_acceptable_risk', 'crypto_desk'),
  },
  {
    // High risk, momentum 0.75 >= 0.7: reduce_size; (0.75 + 0.10) / 2 = 0.425.
    instrument: 'BTC/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.6, confidence: 0.75 },
    risk: { risk_level: 'high', overall_score: 0.9 },
    recorded: outcome('reduce_size', 0.425, 'momentum_risk_conflict', 'crypto_high_risk'),
    changed: outcome('reduce_size', 0.425, 'momentum_risk_conflict', 'crypto_desk'),
  },
  {
    // Momentum alone: RECORDED needs both; CHANGED decides on it, 0.80 × 0.8 = 0.64 >= 0.45: trade.
    momentum: { trend_direction: 'bullish', momentum_strength: 0.7, confidence: 0.8 },
    recorded: INSUFFICIENT,
    changed: outcome('trade', 0.64, 'high_momentum_acceptable_risk', 'standard', true),
  },
  {
    // High risk, momentum 0.60 < 0.7: monitor; (0.60 + 0.15) / 2 = 0.375.
    instrument: 'ETH/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.5, confidence: 0.6 },
    risk: { risk_level: 'high', overall_score: 0.85 },
    recorded: outcome('monitor', 0.375, 'high_risk', 'crypto_high_risk'),
    changed: outcome('monitor', 0.375, 'high_risk', 'crypto_high_risk'),
  },
  {
    // Blocked: no_trade whatever momentum says; blocked scores 1: (0.95 + 0) / 2 = 0.475.
    instrument: 'ETH/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.9, confidence: 0.95 },
    risk: { risk_level: 'blocked' },
    recorded: outcome('no_trade', 0.475, 'risk_blocked', 'crypto_high_risk'),
    changed: outcome('no_trade', 0.475, 'risk_blocked', 'crypto_high_risk'),
  },
  {
    // (0.70 + 0.90) / 2 = 0.8: trade; forex, strength 0.8, low risk: forex_momentum under both.
    instrument: 'EURUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.8, confidence: 0.7 },
    risk: { risk_level: 'low', overall_score: 0.1 },
    recorded: outcome('trade', 0.8, 'high_momentum_acceptable_risk', 'forex_momentum'),
    changed: outcome('trade', 0.8, 'high_momentum_acceptable_risk', 'forex_momentum'),
  },
  {
    // Momentum alone: 0.50 × 0.8 = 0.4, under 0.45, at least 0.3: monitor; not a crypto trade: standard.
    instrument: 'BTC/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.5, confidence: 0.5 },
    recorded: INSUFFICIENT,
    changed: outcome('monitor', 0.4, 'moderate_confidence', 'standard', true),
  },
  {
    // (0.60 + 0.60) / 2 = 0.6: trade; strength 0.65 is under 0.7 but at least 0.6.
    instrument: 'EURUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.65, confidence: 0.6 },
    risk: { risk_level: 'medium', overall_score: 0.4 },
    recorded: outcome('trade', 0.6, 'high_momentum_acceptable_risk', 'standard'),
    changed: outcome('trade', 0.6, 'high_momentum_acceptable_risk', 'forex_momentum'),
  },
  {
    // (0.50 + 0.50) / 2 = 0.5: under 0.55, at least 0.35: monitor; at least 0.45: trade.
    instrument: 'GBPUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.4, confidence: 0.5 },
    risk: { risk_level: 'medium', overall_score: 0.5 },
    recorded: outcome('monitor', 0.5, 'moderate_confidence', 'standard'),
    changed: outcome('trade', 0.5, 'high_momentum_acceptable_risk', 'standard'),
  },
  {
    // (0.30 + 0.45) / 2 = 0.375: monitor under both (>= 0.35, >= 0.3; under 0.45).
    instrument: 'GBPUSD',
    momentum: { trend_direction: 'bearish', momentum_strength: 0.3, confidence: 0.3 },
    risk: { risk_level: 'medium', overall_score: 0.55 },
    recorded: outcome('monitor', 0.375, 'moderate_confidence', 'standard'),
    changed: outcome('monitor', 0.375, 'moderate_confidence', 'standard'),
  },
  {
    // Momentum alone: 0.65 × 0.8 = 0.52: trade; forex with strength 0.75: forex_momentum.
    instrument: 'EURUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.75, confidence: 0.65 },
    recorded: INSUFFICIENT,
    changed: outcome('trade', 0.52, 'high_momentum_acceptable_risk', 'forex_momentum', true),
  },
  {
    // (0.20 + 0.42) / 2 = 0.31: under 0.35: no_trade; at least 0.3: monitor.
    instrument: 'AAPL',
    momentum: { trend_direction: 'bearish', momentum_strength: 0.2, confidence: 0.2 },
    risk: { risk_level: 'medium', overall_score: 0.58 },
    recorded: outcome('no_trade', 0.31, 'low_confidence', 'standard'),
    changed: outcome('monitor', 0.31, 'moderate_confidence', 'standard'),
  },
  {
    // (0.15 + 0.41) / 2 = 0.28: no_trade under both.
    instrument: 'AAPL',
    momentum: { trend_direction: 'bearish', momentum_strength: 0.1, confidence: 0.15 },
    risk: { risk_level: 'medium', overall_score: 0.59 },
    recorded: outcome('no_trade', 0.28, 'low_confidence', 'standard'),
    changed: outcome('no_trade', 0.28, 'low_confidence', 'standard'),
  },
  {
    // Neutral: monitor, however confident: (0.90 + 0.80) / 2 = 0.85.
    momentum: { trend_direction: 'neutral', momentum_strength: 0.9, confidence: 0.9 },
    risk: { risk_level: 'low', overall_score: 0.2 },
    recorded: outcome('monitor', 0.85, 'no_clear_direction', 'standard'),
    changed: outcome('monitor', 0.85, 'no_clear_direction', 'standard'),
  },
  {
    // risk_level medium but overall_score 0.82 >= 0.8: high risk; momentum 0.72 >= 0.7: reduce_size;
    // (0.72 + 0.18) / 2 = 0.45.
    instrument: 'AAPL',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.8, confidence: 0.72 },
    risk: { risk_level: 'medium', overall_score: 0.82 },
    recorded: outcome('reduce_size', 0.45, 'momentum_risk_conflict', 'standard'),
    changed: outcome('reduce_size', 0.45, 'momentum_risk_conflict', 'standard'),
  },
  {
    // Momentum alone: 0.30 × 0.8 = 0.24, under 0.3: no_trade; strength 0.3: standard.
    instrument: 'GBPUSD',
    momentum: { trend_direction: 'bearish', momentum_strength: 0.3, confidence: 0.3 },
    recorded: INSUFFICIENT,
    changed: outcome('no_trade', 0.24, 'low_confidence', 'standard', true),
  },
  {
    // (0.58 + 0.55) / 2 = 0.565 >= 0.55: trade; crypto with medium risk: standard, then crypto_desk.
    instrument: 'ETH/USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.55, confidence: 0.58 },
    risk: { risk_level: 'medium', overall_score: 0.45 },
    recorded: outcome('trade', 0.565, 'high_momentum_acceptable_risk', 'standard'),
    changed: outcome('trade', 0.565, 'high_momentum_acceptable_risk', 'crypto_desk'),
  },
  {
    // (0.60 + 0.50) / 2 = 0.55: exactly trade_min_confidence, which trades.
    instrument: 'AAPL',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.6, confidence: 0.6 },
    risk: { risk_level: 'medium', overall_score: 0.5 },
    recorded: outcome('trade', 0.55, 'high_momentum_acceptable_risk', 'standard'),
    changed: outcome('trade', 0.55, 'high_momentum_acceptable_risk', 'standard'),
  },
  {
    // risk_level high without a score (0.8); momentum exactly 0.7: reduce_size; (0.70 + 0.20) / 2 =
    // 0.45. High risk is no forex_momentum under RECORDED; CHANGED's asks only strength 0.7 >= 0.6.
    instrument: 'GBPUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.7, confidence: 0.7 },
    risk: { risk_level: 'high' },
    recorded: outcome('reduce_size', 0.45, 'momentum_risk_conflict', 'standard'),
    changed: outcome('reduce_size', 0.45, 'momentum_risk_conflict', 'forex_momentum'),
  },
  {
    // Momentum alone and neutral: 0.60 × 0.8 = 0.48, but neutral: monitor.
    momentum: { trend_direction: 'neutral', momentum_strength: 0.6, confidence: 0.6 },
    recorded: INSUFFICIENT,
    changed: outcome('monitor', 0.48, 'no_clear_direction', 'standard', true),
  },
  {
    // Blocked: no_trade; (0.80 + 0) / 2 = 0.4. Blocked is no forex_momentum under RECORDED.
    instrument: 'EURUSD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.8, confidence: 0.8 },
    risk: { risk_level: 'blocked' },
    recorded: outcome('no_trade', 0.4, 'risk_blocked', 'standard'),
    changed: outcome('no_trade', 0.4, 'risk_blocked', 'forex_momentum'),
  },
  {
    // Momentum without a confidence counts its strength: (0.80 + 0.70) / 2 = 0.75: trade; ETH-USD is
    // crypto too.
    instrument: 'ETH-USD',
    momentum: { trend_direction: 'bullish', momentum_strength: 0.8 },
    risk: { risk_level: 'medium', overall_score: 0.3 },
    recorded: outcome('trade', 0.75, 'high_momentum_acceptable_risk', 'standard'),
    changed: outcome('trade', 0.75, 'high_momentum_acceptable_risk', 'crypto_desk'),
  },
];
/** Each case 10 times. */
const ROUNDS = 10;
const COUNT = CASES.length * ROUNDS;
/** What the table says the what-if finds: action and route changes, by `from → to`, over all 220. */
const EXPECTED_ACTION_TRANSITIONS = {
  'monitor → trade': 10,
  'no_trade → monitor': 10,
  'insufficient_data → trade': 20,
  'insufficient_data → monitor': 20,
  'insufficient_data → no_trade': 10,
};
const EXPECTED_ROUTE_TRANSITIONS = {
  'standard → crypto_desk': 30,
  'crypto_high_risk → crypto_desk': 10,
  'standard → forex_momentum': 40,
};
const EXPECTED_ACTIONS_BEFORE = { trade: 60, no_trade: 40, monitor: 40, reduce_size: 30, insufficient_data: 50 };
const EXPECTED_ACTIONS_AFTER = { trade: 90, no_trade: 40, monitor: 60, reduce_size: 30, insufficient_data: 0 };

/** What the test publishes for a case: momentum always, risk unless the case is partial. */
function signalsFor(c: Case, corrId: string): { momentum: AgentSignal; risk?: AgentSignal } {
  const extra = c.instrument ? { source_signal: { instrument: c.instrument } } : {};
  return {
    momentum: momentum(corrId, c.momentum, extra),
    ...(c.risk ? { risk: risk(corrId, c.risk, extra) } : {}),
  };
}

function runCli(args: string[], env: Record<string, string>): Promise<CommandRun> {
  return runOrch(args, env, { timeoutMs: 60_000 });
}

/** The `from → to  n` lines under a heading of the table (`actions`, `routes`). */
function tableTransitions(text: string, heading: string): Array<{ from: string; to: string; count: number }> {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${heading} `));
  const found = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^ {2}(\S+) → (\S+) +(\d+)$/.exec(line);
    if (!match) break;
    found.push({ from: match[1], to: match[2], count: Number(match[3]) });
  }
  return found;
}

/** `orch what-if` end to end, on one engine (test/e2e/what-if.test.ts: dev; test/cluster/what-if.test.ts: cluster). */
export function whatIfCases(engine: EngineKind): void {
  let stack: E2EStack;
  const workDir = mkdtempSync(join(tmpdir(), 'orch-whatif-e2e-'));
  const runId = Date.now().toString(36);
  /** corr_id → the case it was published from. */
  const published = new Map<string, Case>();

  describe('orch what-if end to end', () => {
    // Inside the describe: its afterAll stops the stack gracefully before test/support/setup.ts SIGKILLs what is left.
    beforeAll(async () => {
      stack = await startE2EStack(RECORDED, {}, { engine });
      for (let i = 0; i < COUNT; i++) {
        const corrId = `whatif-${runId}-${String(i).padStart(3, '0')}`;
        const c = CASES[i % CASES.length];
        const signals = signalsFor(c, corrId);
        published.set(corrId, c);
        await stack.publish('momentum', signals.momentum);
        // Every tenth momentum is published twice: a second message the workflow must not count.
        if (i % 10 === 5) await stack.publish('momentum', signals.momentum);
        if (signals.risk) await stack.publish('risk', signals.risk);
      }
      await waitFor(
        `${COUNT} decisions`,
        async () =>
          (await stack.nats.jsm.streams.info(DECISIONS_STREAM).catch(() => undefined))?.state.messages === COUNT
            ? true
            : undefined,
        120_000,
      );
      // Visibility follows the workflows' completion by a moment.
      await waitFor(
        'every correlation closed in visibility',
        async () => {
          const { count } = await stack.client.workflow
            .count(`CorrelationId STARTS_WITH "whatif-${runId}" AND ExecutionStatus = "Completed"`)
            .catch(() => ({ count: -1 }));
          return count === COUNT ? true : undefined;
        },
        60_000,
      );
    }, 240_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it(`recomputes ${COUNT} recorded correlations under a changed policy, as the table says, without touching production`, async () => {
      // The recording: every decision is the table's for what was published, and the mix has every action.
      const decisions = await storedDecisions(stack.nats.jsm);
      expect(decisions).toHaveLength(COUNT);
      const recordedActions = new Set<string>();
      for (const { decision } of decisions) {
        const { recorded } = published.get(decision.corr_id)!;
        expect({ corr_id: decision.corr_id, ...decision.decision, route: decision.route }).toEqual({
          corr_id: decision.corr_id,
          action: recorded.action,
          confidence: recorded.confidence,
          reasoning: recorded.reasoning,
          route: recorded.route,
        });
        expect(decision.partial_data).toBe(recorded.partial_data);
        recordedActions.add(decision.decision.action);
      }
      expect([...recordedActions].sort()).toEqual([...ACTIONS].sort());

      const before = {
        decisions: (await stack.nats.jsm.streams.info(DECISIONS_STREAM)).state.messages,
        workflows: (await stack.client.workflow.count()).count,
      };

      const policyFile = join(workDir, 'policy-v2.json');
      writeFileSync(policyFile, JSON.stringify(CHANGED));
      const reportFile = join(workDir, 'report.json');
      const run = await runCli(
        [
          'what-if',
          '--policy',
          policyFile,
          '--since',
          '1h',
          '--status',
          'completed,timed_out',
          '--query',
          `CorrelationId STARTS_WITH "whatif-${runId}"`,
          '--show',
          '5',
          '--json-out',
          reportFile,
        ],
        { TEMPORAL_ADDRESS: stack.temporalAddress },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as WhatIfReport;

      // Every correlation, each recomputed as the table says for the case it was published from.
      expect(report.correlations).toHaveLength(COUNT);
      expect(report.skipped).toEqual([]);
      expect(report.summary.baseline).toEqual({ reproduced: COUNT, differs: 0, unknown: 0 });
      for (const row of report.correlations) {
        const { recorded, changed } = published.get(row.corr_id)!;
        expect(row.workflow_id).toBe(workflowIdFor(row.corr_id));
        expect({ corr_id: row.corr_id, old: row.old, new: row.new }).toEqual({
          corr_id: row.corr_id,
          old: { ...recorded, policy_version: RECORDED.version },
          new: { ...changed, policy_version: CHANGED.version },
        });
      }

      // The printed table's counts are the JSON report's, and the hand-worked table's.
      const printed = tableTransitions(run.stdout, 'actions');
      expect(printed).toEqual(report.summary.actions.transitions);
      const byTransition = (ts: Array<{ from: string; to: string; count: number }>) =>
        Object.fromEntries(ts.map((t) => [`${t.from} → ${t.to}`, t.count]));
      expect(byTransition(printed)).toEqual(EXPECTED_ACTION_TRANSITIONS);
      const changedActions = Object.values(EXPECTED_ACTION_TRANSITIONS).reduce((sum, n) => sum + n, 0);
      expect(run.stdout).toContain(`actions     ${changedActions} of ${COUNT} change`);
      expect(report.summary.actions.changed).toBe(changedActions);
      expect(report.summary.actions.before).toEqual(EXPECTED_ACTIONS_BEFORE);
      expect(report.summary.actions.after).toEqual(EXPECTED_ACTIONS_AFTER);
      const printedRoutes = tableTransitions(run.stdout, 'routes');
      expect(printedRoutes).toEqual(report.summary.routes.transitions);
      expect(byTransition(printedRoutes)).toEqual(EXPECTED_ROUTE_TRANSITIONS);
      const routeChanges = Object.values(EXPECTED_ROUTE_TRANSITIONS).reduce((sum, n) => sum + n, 0);
      expect(run.stdout).toContain(`routes      ${routeChanges} of ${COUNT} change`);
      expect(run.stdout).toContain(`first 5 of ${report.summary.changed} changed correlations:`);
      expect(run.stdout).toContain(`report: ${reportFile}`);

      // Read-only: no decision published, no workflow started.
      expect((await stack.nats.jsm.streams.info(DECISIONS_STREAM)).state.messages).toBe(before.decisions);
      expect((await stack.client.workflow.count()).count).toBe(before.workflows);
      // The correlations are all there; the rest are the agents' circuit breakers.
      expect((await stack.client.workflow.count(`WorkflowId STARTS_WITH "${WORKFLOW_ID_PREFIX}"`)).count).toBe(COUNT);

      // A narrower query selects a subset: the BTC/USD correlations only.
      const btc = await runCli(
        [
          'what-if',
          '--policy',
          policyFile,
          '--query',
          'Instrument = "BTC/USD"',
          '--show',
          '0',
          '--json-out',
          join(workDir, 'btc.json'),
        ],
        {
          TEMPORAL_ADDRESS: stack.temporalAddress,
        },
      );
      expect(btc.status).toBe(0);
      const btcIds = [...published].filter(([, c]) => c.instrument === 'BTC/USD').map(([id]) => id);
      const btcReport = JSON.parse(readFileSync(join(workDir, 'btc.json'), 'utf8')) as WhatIfReport;
      expect(btcReport.correlations.map((c) => c.corr_id)).toEqual(btcIds.sort());

      // A query Temporal refuses is a usage error.
      const bad = await runCli(['what-if', '--policy', policyFile, '--query', 'NoSuchAttribute = "x"'], {
        TEMPORAL_ADDRESS: stack.temporalAddress,
      });
      expect(bad.status).toBe(2);
      // Exit 2 is the server refusing the query; each engine words the refusal its own way.
      expect(bad.stderr).toMatch(/^error: the visibility query failed: .*NoSuchAttribute/);
      process.stdout.write(`orch what-if over ${COUNT} correlations:\n${run.stdout}`);
    }, 120_000);
  });
}
