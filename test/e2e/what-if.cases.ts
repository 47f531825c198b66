/**
 * `orch what-if` end to end: 220 correlations recorded through NATS by the real bridge and worker,
 * then the compiled CLI recomputes them under another policy by a visibility query. Its diff is
 * checked against the decision rules applied, here, to the signals this test published; and the
 * what-if must leave production alone: no decision published, no workflow started.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assess, chooseRoute, type Signals } from '../../src/activities/decision-rules';
import type { AgentSignal } from '../../src/contract/agent-signal';
import { ACTIONS, type Action } from '../../src/contract/decision';
import { type PolicyInput, policySchema } from '../../src/contract/policy';
import { DECISIONS_STREAM } from '../../src/nats/streams';
import { WORKFLOW_ID_PREFIX, workflowIdFor } from '../../src/shared/correlation-api';
import type { WhatIfReport } from '../../src/operations/what-if/report';
import { storedDecisions } from '../support/decisions';
import type { EngineKind } from '../../src/devstack/local-stack';
import { startE2EStack, waitFor, type E2EStack } from '../support/e2e-stack';
import { momentum, risk } from '../support/signals';
import { runOrch, type CommandRun } from '../support/run-command';

const COUNT = 220;
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
const INSTRUMENTS = ['BTC/USD', 'ETH/USD', 'EURUSD', 'GBPUSD', 'AAPL', undefined];

/** mulberry32: the same varied signals on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** What the test publishes for correlation i: momentum always, risk unless the correlation is partial. */
function signalsFor(i: number, corrId: string, next: () => number): Signals {
  const instrument = INSTRUMENTS[i % INSTRUMENTS.length];
  const extra = instrument ? { source_signal: { instrument } } : {};
  const kind = i % 8;
  const signals: Signals = {
    momentum: momentum(
      corrId,
      {
        trend_direction: kind === 3 ? 'neutral' : next() < 0.8 ? 'bullish' : 'bearish',
        momentum_strength: round2(next()),
        confidence: round2(next()),
      },
      extra,
    ),
  };
  if (kind === 7) return signals; // partial: risk never reports
  let analysis: AgentSignal['analysis'];
  if (kind === 0) analysis = { risk_level: 'blocked' };
  else if (kind === 1) analysis = { risk_level: 'high', overall_score: round2(0.8 + 0.2 * next()) };
  else {
    const score = round2(0.75 * next());
    analysis = {
      risk_level: score < 0.3 ? 'low' : score < 0.6 ? 'medium' : 'high',
      overall_score: score,
      position_sizing: { recommended_size: 5_000 },
    };
  }
  signals.risk = risk(corrId, analysis, extra);
  return signals;
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
  const published = new Map<string, Signals>();

  describe('orch what-if end to end', () => {
    // Inside the describe: its afterAll stops the stack gracefully before test/support/setup.ts SIGKILLs what is left.
    beforeAll(async () => {
      stack = await startE2EStack(RECORDED, {}, { engine });
      const next = random(20261122);
      for (let i = 0; i < COUNT; i++) {
        const corrId = `whatif-${runId}-${String(i).padStart(3, '0')}`;
        const signals = signalsFor(i, corrId, next);
        published.set(corrId, signals);
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

    it(`recomputes ${COUNT} recorded correlations under a changed policy, as the decision rules say, without touching production`, async () => {
      const recordedPolicy = policySchema.parse(RECORDED);
      const changedPolicy = policySchema.parse(CHANGED);

      // The recording: every decision is the rules' on what was published, and the mix has every action.
      const decisions = await storedDecisions(stack.nats.jsm);
      expect(decisions).toHaveLength(COUNT);
      const recordedActions = new Set<Action>();
      for (const { decision } of decisions) {
        const signals = published.get(decision.corr_id)!;
        expect(decision.decision.action).toBe(assess(signals, recordedPolicy).action);
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

      // Every correlation, each recomputed as the rules say on the signals this test published.
      expect(report.correlations).toHaveLength(COUNT);
      expect(report.skipped).toEqual([]);
      expect(report.summary.baseline).toEqual({ reproduced: COUNT, differs: 0, unknown: 0 });
      const expectedTransitions = new Map<string, number>();
      let routeChanges = 0;
      for (const row of report.correlations) {
        const signals = published.get(row.corr_id)!;
        const old = assess(signals, recordedPolicy);
        const next = assess(signals, changedPolicy);
        expect(row.workflow_id).toBe(workflowIdFor(row.corr_id));
        expect(row.old).toMatchObject({
          action: old.action,
          confidence: old.confidence,
          route: chooseRoute(signals, old.action, recordedPolicy),
          policy_version: RECORDED.version,
        });
        expect(row.new).toEqual({
          action: next.action,
          confidence: next.confidence,
          reasoning: next.reasoning,
          route: chooseRoute(signals, next.action, changedPolicy),
          partial_data: next.partial_data,
          policy_version: CHANGED.version,
        });
        if (old.action !== next.action)
          expectedTransitions.set(
            `${old.action} → ${next.action}`,
            (expectedTransitions.get(`${old.action} → ${next.action}`) ?? 0) + 1,
          );
        if (row.route_changed) routeChanges++;
      }

      // The table's counts are the JSON report's, and the rules'.
      const printed = tableTransitions(run.stdout, 'actions');
      expect(printed).toEqual(report.summary.actions.transitions);
      expect(Object.fromEntries(printed.map((t) => [`${t.from} → ${t.to}`, t.count]))).toEqual(
        Object.fromEntries(expectedTransitions),
      );
      const changedActions = printed.reduce((sum, t) => sum + t.count, 0);
      expect(changedActions).toBeGreaterThan(0);
      expect(run.stdout).toContain(`actions     ${changedActions} of ${COUNT} change`);
      expect(report.summary.actions.changed).toBe(changedActions);
      expect(tableTransitions(run.stdout, 'routes')).toEqual(report.summary.routes.transitions);
      expect(run.stdout).toContain(`routes      ${routeChanges} of ${COUNT} change`);
      expect(routeChanges).toBeGreaterThan(0);
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
      const btcIds = [...published]
        .filter(([, s]) => s.momentum.source_signal?.instrument === 'BTC/USD')
        .map(([id]) => id);
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
