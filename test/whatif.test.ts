/**
 * `orch what-if`'s pure logic on real recorded histories (test/fixtures/histories): recovering the
 * signals and decision of a correlation, comparing under another policy, the summary and the table.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { type History, historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { CliError, type CommandContext } from '../src/client/commands/common';
import { whatIfCommand } from '../src/client/commands/what-if';
import { DEFAULT_POLICY } from '../src/config';
import { type Policy, policySchema } from '../src/contract/policy';
import type { AgentSignalEnvelope, CorrelationInput } from '../src/shared/correlation-api';
import { CORRELATION_STATUSES } from '../src/contract/correlation-state';
import { RecordedCorrelationError } from '../src/operations/recorded-correlation';
import { parseStatusList, whatIfQuery } from '../src/operations/visibility';
import { compareCorrelation, type CorrelationDiff, isSkipped, type Outcome } from '../src/operations/what-if/compare';
import { recoverCorrelation } from '../src/operations/what-if/recover';
import { buildReport, formatReport, summarize } from '../src/operations/what-if/report';
import { HISTORY_FIXTURES_DIR } from './support/paths';
import { envelope, momentum, risk } from './support/signals';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const FIXTURES = [
  'full-fan-in',
  'risk-first-with-duplicates',
  'timeout-insufficient-data',
  'timeout-partial-decision',
] as const;
const load = (name: string, dir = HISTORY_FIXTURES_DIR): History =>
  historyFromJSON(JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')));

/** The seed's momentum and risk analyses, as test/fixtures/record-histories.ts published them. */
const MOMENTUM = { trend_direction: 'bullish', momentum_strength: 0.75, confidence: 0.82 };
const RISK = { risk_level: 'medium', overall_score: 0.65, position_sizing: { recommended_size: 10_000 } };

const signaled = (env: unknown): HistoryEvent => ({
  workflowExecutionSignaledEventAttributes: {
    signalName: 'agentSignal',
    input: { payloads: [defaultPayloadConverter.toPayload(env)] },
  },
});

/** The history with `extra` events inserted just before its last (the close) event. */
function withEventsBeforeClose(history: History, extra: HistoryEvent[]): History {
  const events = [...(history.events ?? [])];
  return { events: [...events.slice(0, -1), ...extra, events[events.length - 1]] };
}

const policy = (input: Parameters<typeof policySchema.parse>[0]): Policy => policySchema.parse(input);

describe('recoverCorrelation on recorded histories', () => {
  it('full fan-in: both signals, the decision, and the policy it was decided under', () => {
    const recovered = recoverCorrelation(load('full-fan-in'), 'full-fan-in.json');
    expect(recovered).toMatchObject({
      workflowId: 'corr-fixture-full-fan-in',
      corrId: 'fixture-full-fan-in',
      outcome: 'completed',
      messageIds: { momentum: '1', risk: '2' },
      ignored: { duplicates: 0, late: 0, rejected: 0 },
      decision: { decision: { action: 'trade', confidence: 0.585 }, route: 'standard', policy_version: 'default-1' },
    });
    expect(recovered.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(recovered.signals.momentum.analysis).toEqual(MOMENTUM);
    expect(recovered.signals.risk.analysis).toEqual(RISK);
    expect(recovered.policy).toEqual(DEFAULT_POLICY);
  });

  it('duplicates: keeps the first message per agent, as the workflow does, and counts the rest', () => {
    // Recorded: risk #5, risk #5 again (a redelivery), momentum #6, momentum #7 (a second message).
    const recovered = recoverCorrelation(load('risk-first-with-duplicates'), 'risk-first-with-duplicates.json');
    expect(recovered.messageIds).toEqual({ risk: '5', momentum: '6' });
    expect(recovered.ignored).toEqual({ duplicates: 2, late: 0, rejected: 0 });
    expect(Object.keys(recovered.signals).sort()).toEqual(['momentum', 'risk']);
  });

  it('timeout with momentum only: insufficient_data, decided on momentum alone', () => {
    const recovered = recoverCorrelation(load('timeout-insufficient-data'), 'timeout-insufficient-data.json');
    expect(Object.keys(recovered.signals)).toEqual(['momentum']);
    expect(recovered.decision).toMatchObject({
      decision: { action: 'insufficient_data' },
      missing_agents: ['risk'],
      policy_version: 'fixture-1',
    });
    expect(recovered.policy).toMatchObject({
      version: 'fixture-1',
      timeout_ms: 1_500,
      min_agents_threshold: 2,
    });
  });

  it('timeout with a threshold of one: a partial decision, and the threshold recorded with its policy', () => {
    const recovered = recoverCorrelation(load('timeout-partial-decision'), 'timeout-partial-decision.json');
    expect(recovered.decision).toMatchObject({ decision: { action: 'trade', confidence: 0.656 }, partial_data: true });
    expect(recovered.policy?.min_agents_threshold).toBe(1);
  });

  it('reads the histories recorded before the visibility patch the same way', () => {
    for (const name of FIXTURES) {
      const now = recoverCorrelation(load(name), name);
      const before = recoverCorrelation(load(name, join(HISTORY_FIXTURES_DIR, 'pre-visibility')), name);
      expect(before.messageIds).toEqual(now.messageIds);
      expect(before.decision?.decision).toEqual(now.decision?.decision);
    }
  });

  it.each(['v2', 'v3', 'v4'])(
    "reads the batched shapes' histories in %s/, batches in the start and in signals, as it reads the first shape's",
    (dir) => {
      const folder = join(HISTORY_FIXTURES_DIR, dir);
      for (const name of FIXTURES) {
        const first = recoverCorrelation(load(name), name);
        const batched = recoverCorrelation(load(name, folder), name);
        expect(batched.messageIds).toEqual(first.messageIds);
        expect(batched.ignored).toEqual(first.ignored);
        expect(batched.decision?.decision).toEqual(first.decision?.decision);
      }
      // Its policy comes from its input, where the bridge put it.
      expect(recoverCorrelation(load('timeout-partial-decision', folder), dir).policy).toMatchObject({
        version: 'fixture-1',
        timeout_ms: 1_500,
        min_agents_threshold: 1,
      });
      for (const name of ['spread-fan-in', 'single-signals']) {
        expect(recoverCorrelation(load(name, folder), name).messageIds).toEqual({ momentum: '1', risk: '2' });
      }
    },
  );

  it('leaves out a signal that arrived after the decision (late), as the decision did', () => {
    const history = load('timeout-insufficient-data');
    const late = envelope(risk('fixture-timeout-insufficient-data'), '9');
    const recovered = recoverCorrelation(withEventsBeforeClose(history, [signaled(late)]), 'late');
    expect(Object.keys(recovered.signals)).toEqual(['momentum']);
    expect(recovered.ignored).toEqual({ duplicates: 0, late: 1, rejected: 0 });
  });

  it('counts a signal for another correlation, or one that is not an agent signal, as rejected', () => {
    const history = load('timeout-insufficient-data');
    const recovered = recoverCorrelation(
      withEventsBeforeClose(history, [signaled(envelope(risk('someone-else'), '10')), signaled({ hello: 1 })]),
      'bad',
    );
    expect(recovered.ignored).toEqual({ duplicates: 0, late: 0, rejected: 2 });
  });

  it("takes a re-drive's recorded signals from its input", () => {
    const corrId = 'fixture-full-fan-in';
    const history = load('full-fan-in');
    const [started, ...rest] = history.events ?? [];
    const signals: AgentSignalEnvelope[] = [
      envelope(momentum(corrId, { trend_direction: 'bearish', confidence: 0.3 }), '1'),
      envelope(risk(corrId), '2'),
    ];
    const input: CorrelationInput = {
      corr_id: corrId,
      redrive: { of: { workflow_id: 'corr-x', run_id: 'r1' }, signals },
    };
    const attrs = {
      ...started.workflowExecutionStartedEventAttributes,
      input: { payloads: [defaultPayloadConverter.toPayload(input)] },
    };
    // The workflow keeps a re-drive's own signals first: the fixture's own agentSignal events are then duplicates.
    const recovered = recoverCorrelation(
      { events: [{ ...started, workflowExecutionStartedEventAttributes: attrs }, ...rest] },
      'redrive',
    );
    expect(recovered.redriveOf).toEqual({ workflow_id: 'corr-x', run_id: 'r1' });
    expect(recovered.received).toBe(2);
    expect(recovered.messageIds).toEqual({ momentum: '1', risk: '2' });
    expect(recovered.signals.momentum.analysis).toMatchObject({ trend_direction: 'bearish', confidence: 0.3 });
    expect(recovered.ignored).toEqual({ duplicates: 2, late: 0, rejected: 0 });
  });

  it('refuses a history whose decision names another message than the one the workflow keeps', () => {
    const corrId = 'fixture-full-fan-in';
    const history = load('full-fan-in');
    const [started, ...rest] = history.events ?? [];
    const input: CorrelationInput = {
      corr_id: corrId,
      redrive: { of: { workflow_id: 'corr-x', run_id: 'r1' }, signals: [envelope(momentum(corrId), '41')] },
    };
    const attrs = {
      ...started.workflowExecutionStartedEventAttributes,
      input: { payloads: [defaultPayloadConverter.toPayload(input)] },
    };
    // The recorded decision names momentum #1, but a run given #41 in its input keeps #41.
    expect(() =>
      recoverCorrelation(
        { events: [{ ...started, workflowExecutionStartedEventAttributes: attrs }, ...rest] },
        'mixed',
      ),
    ).toThrow(
      new RecordedCorrelationError(
        "mixed: the decision used momentum's signal (message 1), but the workflow keeps momentum's first message, 41: the history does not match the decision",
      ),
    );
  });

  it('refuses a history that is not a correlation, or whose decision used a signal it does not carry', () => {
    const history = load('full-fan-in');
    const [started, ...rest] = history.events ?? [];
    const other = {
      ...started,
      workflowExecutionStartedEventAttributes: {
        ...started.workflowExecutionStartedEventAttributes,
        workflowType: { name: 'somethingElse' },
      },
    };
    expect(() => recoverCorrelation({ events: [other, ...rest] }, 'other.json')).toThrow(
      new RecordedCorrelationError(
        'other.json: not a correlation: workflow type is "somethingElse", not one of "correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5"',
      ),
    );
    const isRiskSignal = (e: (typeof rest)[number]): boolean => {
      const payload = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
      return (
        payload !== undefined &&
        defaultPayloadConverter.fromPayload<AgentSignalEnvelope>(payload).signal.agent_name === 'risk'
      );
    };
    const withoutRisk = (history.events ?? []).filter((e) => !isRiskSignal(e));
    expect(withoutRisk).toHaveLength((history.events ?? []).length - 1);
    expect(() => recoverCorrelation({ events: withoutRisk }, 'cut.json')).toThrow(
      "cut.json: the decision used risk's signal (message 2), which is not in the history",
    );
    expect(() => recoverCorrelation({ events: rest }, 'headless.json')).toThrow('not a workflow history');
  });

  it('a failed run has no decision: it is skipped, saying so', () => {
    const events = [...(load('full-fan-in').events ?? [])];
    events[events.length - 1] = { workflowExecutionFailedEventAttributes: { failure: { message: 'publish failed' } } };
    const recovered = recoverCorrelation({ events }, 'failed');
    expect(recovered.outcome).toBe('failed');
    expect(recovered.decision).toBeUndefined();
    expect(compareCorrelation(recovered, DEFAULT_POLICY)).toMatchObject({
      workflow_id: 'corr-fixture-full-fan-in',
      reason: 'failed: no decision',
    });
  });
});

describe('compareCorrelation', () => {
  const recovered = Object.fromEntries(FIXTURES.map((name) => [name, recoverCorrelation(load(name), name)]));

  it('changes nothing under the policy each correlation was decided with, and says the baseline reproduces', () => {
    for (const name of FIXTURES) {
      const diff = compareCorrelation(recovered[name], recovered[name].policy!) as CorrelationDiff;
      expect(diff).toMatchObject({
        action_changed: false,
        route_changed: false,
        confidence_shift: 0,
        baseline: 'reproduced',
      });
    }
  });

  it('recomputes under a new policy, old next to new, as worked out by hand from the rules', () => {
    const next = policy({
      version: 'what-if-2',
      min_agents_threshold: 1,
      thresholds: { trade_min_confidence: 0.6 },
      routes: [{ name: 'everything', when: { action: ['monitor', 'trade'] } }],
    });
    const diffs = FIXTURES.map((name) => compareCorrelation(recovered[name], next) as CorrelationDiff);
    // Expected values worked out by hand, not by the rules under test: SPEC.md's decision rules with
    // this policy and, for the rest, schemas/policy.schema.json's defaults (weights momentum 0.5 and
    // risk 0.5, partial_data_penalty 0.2, monitor_min_confidence 0.35, high_risk_score 0.8). The
    // confidence is the weighted mean of momentum's confidence and risk's support (1 - overall_score),
    // times (1 - penalty) when an expected agent is missing. Every fixture's momentum is the seed's
    // (bullish, strength 0.75, confidence 0.82); its risk, where it has one, too (medium, 0.65).
    const recordedTrade: Outcome = {
      action: 'trade',
      confidence: 0.585,
      reasoning: 'high_momentum_acceptable_risk',
      route: 'standard',
      partial_data: false,
      policy_version: 'default-1',
    };
    // Both agents: (0.5 × 0.82 + 0.5 × (1 - 0.65)) / (0.5 + 0.5) = (0.41 + 0.175) / 1 = 0.585, below the
    // new trade_min_confidence 0.6 but at least 0.35: monitor; `everything` takes monitor and trade.
    const bothAgentsNow: Outcome = {
      action: 'monitor',
      confidence: 0.585,
      reasoning: 'moderate_confidence',
      route: 'everything',
      partial_data: false,
      policy_version: 'what-if-2',
    };
    // Momentum alone, now enough (min_agents_threshold 1), partial (risk missing): 0.82 × (1 - 0.2) =
    // 0.656, at least 0.6: trade.
    const momentumAloneNow: Outcome = {
      action: 'trade',
      confidence: 0.656,
      reasoning: 'high_momentum_acceptable_risk',
      route: 'everything',
      partial_data: true,
      policy_version: 'what-if-2',
    };
    expect(
      diffs.map(({ corr_id, old, new: now, action_changed, route_changed, confidence_shift }) => ({
        corr_id,
        old,
        new: now,
        action_changed,
        route_changed,
        confidence_shift,
      })),
    ).toEqual([
      {
        corr_id: 'fixture-full-fan-in',
        old: recordedTrade,
        new: bothAgentsNow,
        action_changed: true,
        route_changed: true,
        confidence_shift: 0,
      },
      {
        corr_id: 'fixture-risk-first-with-duplicates',
        old: recordedTrade,
        new: bothAgentsNow,
        action_changed: true,
        route_changed: true,
        confidence_shift: 0,
      },
      {
        corr_id: 'fixture-timeout-insufficient-data',
        old: {
          action: 'insufficient_data',
          confidence: 0,
          reasoning: 'insufficient_data',
          route: 'standard',
          partial_data: true,
          policy_version: 'fixture-1',
        },
        new: momentumAloneNow,
        action_changed: true,
        route_changed: true,
        // 0.656 - 0
        confidence_shift: 0.656,
      },
      {
        corr_id: 'fixture-timeout-partial-decision',
        old: {
          action: 'trade',
          confidence: 0.656,
          reasoning: 'high_momentum_acceptable_risk',
          route: 'standard',
          partial_data: true,
          policy_version: 'fixture-1',
        },
        new: momentumAloneNow,
        action_changed: false,
        route_changed: true,
        confidence_shift: 0,
      },
    ]);
  });

  it("says when today's rules no longer reproduce the recorded decision under its own policy", () => {
    const doctored = {
      ...recovered['full-fan-in'],
      decision: {
        ...recovered['full-fan-in'].decision!,
        decision: { action: 'monitor' as const, confidence: 0.4, reasoning: 'x' },
      },
    };
    expect(compareCorrelation(doctored, DEFAULT_POLICY)).toMatchObject({ baseline: 'differs' });
    const { policy: _, ...withoutPolicy } = recovered['full-fan-in'];
    expect(compareCorrelation(withoutPolicy, DEFAULT_POLICY)).toMatchObject({ baseline: 'unknown' });
  });
});

describe('summary, table and report', () => {
  const diff = (corrId: string, from: [string, number, string], to: [string, number, string]): CorrelationDiff => {
    const outcome = ([action, confidence, route]: [string, number, string], version: string) =>
      ({
        action,
        confidence,
        route,
        reasoning: 'r',
        partial_data: false,
        policy_version: version,
      }) as CorrelationDiff['old'];
    return {
      corr_id: corrId,
      workflow_id: `corr-${corrId}`,
      agents: ['momentum', 'risk'],
      old: outcome(from, 'v1'),
      new: outcome(to, 'v2'),
      action_changed: from[0] !== to[0],
      route_changed: from[2] !== to[2],
      confidence_shift: Math.round((to[1] - from[1]) * 10_000) / 10_000,
      baseline: 'reproduced',
    };
  };
  const diffs = [
    diff('c', ['monitor', 0.5, 'standard'], ['trade', 0.5, 'standard']),
    diff('a', ['monitor', 0.45, 'standard'], ['trade', 0.45, 'crypto_desk']),
    diff('b', ['trade', 0.6, 'standard'], ['trade', 0.4, 'standard']),
    diff('d', ['no_trade', 0.2, 'standard'], ['monitor', 0.3, 'standard']),
    diff('e', ['trade', 0.7, 'standard'], ['trade', 0.7, 'standard']),
  ];
  const skipped = [{ workflow_id: 'corr-f', reason: 'failed: no decision' }];

  it('counts action and route changes by from → to, and the confidence shift', () => {
    const summary = summarize(diffs, skipped, 'v2');
    expect(summary).toMatchObject({
      correlations: 5,
      changed: 3,
      skipped: { total: 1, reasons: { 'failed: no decision': 1 } },
    });
    expect(summary.actions.changed).toBe(3);
    expect(summary.actions.transitions).toEqual([
      { from: 'monitor', to: 'trade', count: 2 },
      { from: 'no_trade', to: 'monitor', count: 1 },
    ]);
    expect(summary.actions.before).toEqual({ trade: 2, no_trade: 1, monitor: 2, reduce_size: 0, insufficient_data: 0 });
    expect(summary.actions.after).toEqual({ trade: 4, no_trade: 0, monitor: 1, reduce_size: 0, insufficient_data: 0 });
    expect(summary.routes).toEqual({ changed: 1, transitions: [{ from: 'standard', to: 'crypto_desk', count: 1 }] });
    expect(summary.confidence).toEqual({
      changed: 2,
      mean_shift: -0.02,
      mean_abs_shift: 0.06,
      max_shift: { value: -0.2, corr_id: 'b' },
    });
    expect(summary.recorded_policy_versions).toEqual({ v1: 5 });
  });

  it('prints the diff table: counts, transitions, before/after, the first changed correlations', () => {
    const report = buildReport(
      diffs,
      skipped,
      { version: 'v2', file: 'p.json' },
      { kind: 'history', paths: ['x'] },
      new Date(0),
    );
    expect(report.correlations.map((d) => d.corr_id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const text = formatReport(report, { show: 2, sourceLine: '1 history file', reportPath: 'out.json' });
    expect(text).toContain('what-if: policy v2 (p.json) against 5 recorded correlation(s)');
    expect(text).toContain('actions     3 of 5 change (60.0%)');
    expect(text).toMatch(/^ {2}monitor → trade +2$/m);
    expect(text).toMatch(/^ {2}no_trade → monitor +1$/m);
    expect(text).toMatch(/^ {2}standard → crypto_desk +1$/m);
    expect(text).toContain('confidence  2 of 5 change; mean shift -0.0200, mean |shift| 0.0600, max shift -0.2000 (b)');
    expect(text).toMatch(/^trade +2 +4$/m);
    expect(text).toContain('first 2 of 3 changed correlations:');
    expect(text).toMatch(/^a +monitor → trade +0\.4500 +standard → crypto_desk$/m);
    expect(text).toMatch(/^c +monitor → trade +0\.5000 +standard$/m);
    expect(text).not.toMatch(/^d /m);
    expect(text).toContain('skipped 1: 1 failed: no decision');
    expect(text).toContain('report: out.json');
    expect(text.split('\n').every((line) => line === line.trimEnd())).toBe(true);
  });
});

describe('visibility query', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const CORRELATIONS =
    'WorkflowType IN ("correlationWorkflow", "correlationWorkflowV2", "correlationWorkflowV3", "correlationWorkflowV4", "correlationWorkflowV5")';

  it('defaults to the correlations closed in the last 24 hours', () => {
    expect(whatIfQuery({}, now)).toBe(
      `${CORRELATIONS} AND ExecutionStatus != "Running" AND CloseTime >= "2026-11-21T12:00:00.000Z"`,
    );
  });

  it('narrows by time, CorrelationStatus, PolicyVersion and a query of the user', () => {
    expect(
      whatIfQuery(
        {
          sinceMs: 3_600_000,
          statuses: ['timed_out', 'completed'],
          policyVersion: 'v1',
          query: 'Instrument = "BTC/USD" OR Instrument = "ETH/USD"',
        },
        now,
      ),
    ).toBe(
      `${CORRELATIONS} AND ExecutionStatus != "Running" AND CloseTime >= "2026-11-22T11:00:00.000Z" AND ` +
        'CorrelationStatus IN ("timed_out", "completed") AND PolicyVersion = "v1" AND (Instrument = "BTC/USD" OR Instrument = "ETH/USD")',
    );
    // A query alone sets no time bound.
    expect(whatIfQuery({ query: 'CorrelationId = "x"', statuses: ['failed'] }, now)).toBe(
      `${CORRELATIONS} AND ExecutionStatus != "Running" AND CorrelationStatus IN ("failed") AND CorrelationId = "x"`,
    );
  });

  it('escapes a value with quotes, as every query of the CLI does', () => {
    expect(whatIfQuery({ policyVersion: 'a"b\\c', query: 'true' }, now)).toBe(
      `${CORRELATIONS} AND ExecutionStatus != "Running" AND PolicyVersion = "a\\"b\\\\c" AND true`,
    );
  });

  it('reads a status list and names an unknown status', () => {
    expect(parseStatusList('completed, timed_out,completed', CORRELATION_STATUSES)).toEqual(['completed', 'timed_out']);
    expect(() => parseStatusList('done', CORRELATION_STATUSES)).toThrow(
      'unknown status "done"; expected a comma-separated list of collecting, deciding, completed, timed_out, failed',
    );
  });
});

describe('orch what-if over history files (no server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-whatif-'));
  const run = async (args: string[]): Promise<{ out: string; error?: CliError }> => {
    let out = '';
    const ctx: CommandContext = {
      out: (text) => (out += `${text}\n`),
      env: {},
      readStdin: () => Promise.resolve(Buffer.alloc(0)),
    };
    try {
      await whatIfCommand.run(args, ctx);
      return { out };
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      return { out, error };
    }
  };
  const policyFile = (content: unknown): string => {
    const file = join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it('prints the diff of the recorded fixtures and writes the JSON report', async () => {
    const file = policyFile({ version: 'lenient', min_agents_threshold: 1 });
    const reportFile = join(dir, 'report.json');
    const { out, error } = await run(['--policy', file, '--history', HISTORY_FIXTURES_DIR, '--json-out', reportFile]);
    expect(error).toBeUndefined();
    expect(out).toContain('against 4 recorded correlation(s)');
    expect(out).toContain('baseline: 4 reproduce their recorded decision under it');
    expect(out).toMatch(/^ {2}insufficient_data → trade +1$/m);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(report.correlations).toHaveLength(4);
    expect(report.summary.actions.transitions).toEqual([{ from: 'insufficient_data', to: 'trade', count: 1 }]);
    const changed = report.correlations.find((c: CorrelationDiff) => c.action_changed);
    expect(changed).toMatchObject({
      corr_id: 'fixture-timeout-insufficient-data',
      old: { action: 'insufficient_data' },
      new: { action: 'trade', confidence: 0.656 },
    });
    // By hand: momentum alone is enough (min_agents_threshold 1), partial as risk is missing:
    // 0.82 × (1 - 0.2) = 0.656, at least the default trade_min_confidence 0.55: trade. No instrument,
    // so neither default route (crypto_high_risk, forex_momentum) applies: the default route.
    expect(changed.new).toEqual({
      action: 'trade',
      confidence: 0.656,
      reasoning: 'high_momentum_acceptable_risk',
      route: 'standard',
      partial_data: true,
      policy_version: 'lenient',
    });
  });

  it('refuses a bad policy naming the field (exit 2), and usage errors', async () => {
    const bad = await run([
      '--policy',
      policyFile({ version: 'x', thresholds: { trade_min_confidence: 2 } }),
      '--history',
      HISTORY_FIXTURES_DIR,
    ]);
    expect(bad.error?.exitCode).toBe(2);
    expect(bad.error?.message).toMatch(/^invalid policy in .*: thresholds\.trade_min_confidence: Too big/);
    const mixed = await run([
      '--policy',
      policyFile({ version: 'x' }),
      '--history',
      HISTORY_FIXTURES_DIR,
      '--since',
      '1h',
    ]);
    expect(mixed.error).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--history reads exported files; it does not combine with --since'),
    });
    expect((await run(['--history', HISTORY_FIXTURES_DIR])).error?.message).toContain('missing --policy <file>');
    expect((await run(['--policy', policyFile({ version: 'x' }), '--status', 'done'])).error?.message).toContain(
      '--status: unknown status "done"; expected a comma-separated list of collecting, deciding, completed, timed_out, failed',
    );
    const notHistory = join(dir, 'not-history.json');
    writeFileSync(notHistory, JSON.stringify({ events: [] }));
    expect((await run(['--policy', policyFile({ version: 'x' }), '--history', notHistory])).error).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('not a workflow history'),
    });
  });

  it('skips nothing and changes nothing under the default policy for the default-policy fixtures', async () => {
    const { out } = await run([
      '--policy',
      policyFile({ version: 'default-1' }),
      '--history',
      join(HISTORY_FIXTURES_DIR, 'full-fan-in.json'),
      '--json-out',
      join(dir, 'r2.json'),
    ]);
    expect(out).toContain('actions     0 of 1 change (0.0%)');
    expect(out).toContain('no correlation changes action or route under this policy');
    expect(isSkipped(JSON.parse(readFileSync(join(dir, 'r2.json'), 'utf8')).correlations[0])).toBe(false);
  });
});
