/** The publishing activities in isolation, against a real nats-server. */
import { ApplicationFailure } from '@temporalio/common';
import { NatsError, nanos, StorageType } from 'nats';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type DecideResult, type PublishResult } from '../src/activities';
import { DEFAULT_POLICY, DEFAULT_STREAMS } from '../src/config';
import type { AgentSignal } from '../src/contract/agent-signal';
import type { OrchestrationDecision } from '../src/contract/decision';
import type { DecisionFrame } from '../src/shared/decision-record';
import { DECISION_SUBJECT, DECISIONS_STREAM, declareDecisionsStream } from '../src/nats/streams';
import { CLOCK_MARGIN_MS } from '../src/shared/publish-horizon';
import { storedDecisions } from './support/decisions';
import { startTestNats, type TestNats } from './support/servers';
import { momentum, risk, uniqueCorrId } from './support/signals';

let nats: TestNats;

beforeAll(async () => {
  nats = await startTestNats();
});

afterAll(async () => {
  await nats?.stop();
});

function decisionFor(corrId: string): OrchestrationDecision {
  return {
    corr_id: corrId,
    orchestrator_version: '0.1.0',
    orchestrated_at: '2026-01-15T10:30:05.000Z',
    source_signals: { momentum: 0.82, risk: 0.65 },
    decision: { action: 'trade', confidence: 0.585, reasoning: 'high_momentum_acceptable_risk' },
    route: 'standard',
    contributing_agents: ['momentum', 'risk'],
    available_agents: ['momentum', 'risk'],
    missing_agents: [],
    partial_data: false,
    aggregation_method: 'weighted_average',
    policy_version: 'default-1',
    provenance: [{ agent: 'momentum', message_id: '1', arrived_at: '2026-01-15T10:30:00.000Z' }],
  };
}

const DECISIONS = declareDecisionsStream(DEFAULT_STREAMS);
const activities = () => createActivities({ policy: DEFAULT_POLICY, js: nats.js, jsm: nats.jsm, decisions: DECISIONS });
/** The default duplicate window of DECISIONS (2 h). */
const WINDOW_MS = DEFAULT_STREAMS.decisions.dedupeWindowMs;

describe('publishDecision', () => {
  it('creates the DECISIONS stream when it is missing, on file storage', async () => {
    // Missing whatever ran before: another test may have created it.
    await nats.jsm.streams.delete(DECISIONS_STREAM).catch(() => undefined);
    await expect(nats.jsm.streams.info(DECISIONS_STREAM)).rejects.toThrow(/stream not found/);
    const result = await new MockActivityEnvironment().run(
      activities().publishDecision,
      decisionFor(uniqueCorrId('first')),
    );
    const info = await nats.jsm.streams.info(DECISIONS_STREAM);
    expect(info.config).toMatchObject({
      subjects: [DECISION_SUBJECT],
      storage: 'file',
      duplicate_window: DECISIONS.duplicate_window,
      max_age: DECISIONS.max_age,
    });
    expect(result).toMatchObject({ stream: DECISIONS_STREAM, duplicate: false });
  });

  it('stores a decision once when a retried attempt publishes it again', async () => {
    const corrId = uniqueCorrId('retried');
    const publish = activities().publishDecision;
    const first: PublishResult = await new MockActivityEnvironment({ attempt: 1 }).run(publish, decisionFor(corrId));
    const retry: PublishResult = await new MockActivityEnvironment({ attempt: 2 }).run(publish, decisionFor(corrId));
    expect(first.duplicate).toBe(false);
    expect(retry).toEqual({ ...first, duplicate: true, stored: decisionFor(corrId) });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([{ msgId: corrId, decision: decisionFor(corrId) }]);
  });

  it('returns the decision stored first when a later attempt decided differently', async () => {
    const corrId = uniqueCorrId('redecided');
    const publish = activities().publishDecision;
    await new MockActivityEnvironment({ attempt: 1 }).run(publish, decisionFor(corrId));
    const other = {
      ...decisionFor(corrId),
      decision: { action: 'monitor' as const, confidence: 0.4, reasoning: 'moderate_confidence' },
    };
    const retry: PublishResult = await new MockActivityEnvironment({ attempt: 1 }).run(publish, other);
    expect(retry).toMatchObject({ duplicate: true, stored: decisionFor(corrId) });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([{ msgId: corrId, decision: decisionFor(corrId) }]);
  });

  it('recreates the stream if it was deleted while the worker ran', async () => {
    const publish = activities().publishDecision;
    await new MockActivityEnvironment().run(publish, decisionFor(uniqueCorrId('before')));
    await nats.jsm.streams.delete(DECISIONS_STREAM);
    const corrId = uniqueCorrId('after');
    // The first attempt fails, NATS answering the publish 503 (no responders: no stream captures
    // the subject), and the retry recreates the stream.
    const firstAttempt = new MockActivityEnvironment().run(publish, decisionFor(corrId));
    await expect(firstAttempt).rejects.toThrow(NatsError);
    await expect(firstAttempt).rejects.toMatchObject({ code: '503' });
    await new MockActivityEnvironment({ attempt: 2 }).run(publish, decisionFor(corrId));
    expect(await storedDecisions(nats.jsm, corrId)).toHaveLength(1);
  });
});

describe('a decision published once, ever', () => {
  it('widens a shorter duplicate window an operator gave DECISIONS before publishing, so a copy published after that window is still dropped', async () => {
    await nats.jsm.streams.delete(DECISIONS_STREAM).catch(() => undefined);
    const operatorWindowMs = 1_000;
    await nats.jsm.streams.add({
      name: DECISIONS_STREAM,
      subjects: [DECISION_SUBJECT],
      storage: StorageType.File,
      duplicate_window: nanos(operatorWindowMs),
    });
    const corrId = uniqueCorrId('operator-window');
    const publish = activities().publishDecision;
    const first: PublishResult = await new MockActivityEnvironment().run(publish, decisionFor(corrId), Date.now());
    // The operator's window has to pass: time itself is what this test is about.
    await new Promise((resolve) => setTimeout(resolve, operatorWindowMs + 500));
    const second: PublishResult = await new MockActivityEnvironment({ attempt: 2 }).run(
      publish,
      decisionFor(corrId),
      Date.now(),
    );
    expect(second).toEqual({ ...first, duplicate: true, stored: decisionFor(corrId) });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([{ msgId: corrId, decision: decisionFor(corrId) }]);
    expect((await nats.jsm.streams.info(DECISIONS_STREAM)).config.duplicate_window).toBe(nanos(WINDOW_MS));
  });

  it('refuses to publish once its run is so old that an earlier copy may have left the duplicate window, and says how to decide it again', async () => {
    const corrId = uniqueCorrId('past-horizon');
    const runStartedAtMs = Date.now() - (WINDOW_MS - CLOCK_MARGIN_MS) - 1_000;
    const failure = await new MockActivityEnvironment()
      .run(activities().publishDecision, decisionFor(corrId), runStartedAtMs)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'PublishHorizonPassed',
      nonRetryable: true,
      message: expect.stringContaining(`decision ${corrId} was not published by `),
    });
    expect((failure as Error).message).toMatch(
      /Re-drive the correlation \(orch redrive\) to decide it again under a new id$/,
    );
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([]);
  });

  it('publishes a decision whose run is still within the horizon', async () => {
    const corrId = uniqueCorrId('within-horizon');
    const runStartedAtMs = Date.now() - (WINDOW_MS - CLOCK_MARGIN_MS) + 60_000;
    const result: PublishResult = await new MockActivityEnvironment().run(
      activities().publishDecision,
      decisionFor(corrId),
      runStartedAtMs,
    );
    expect(result.duplicate).toBe(false);
    expect(await storedDecisions(nats.jsm, corrId)).toHaveLength(1);
  });
});

describe('decideAndPublish', () => {
  const frameFor = (corrId: string): DecisionFrame => ({
    corr_id: corrId,
    orchestrated_at: '2026-01-15T10:30:05.000Z',
    policy_version: 'default-1',
    provenance: [
      { agent: 'momentum', message_id: '1', arrived_at: '2026-01-15T10:30:00.000Z' },
      { agent: 'risk', message_id: '2', arrived_at: '2026-01-15T10:30:00.000Z' },
    ],
  });

  it('scores, routes and publishes once; a retried attempt gets the stored decision back', async () => {
    const corrId = uniqueCorrId('decide');
    const signals = { momentum: { ...momentum(corrId), source_signal: { instrument: 'AAPL' } }, risk: risk(corrId) };
    const input = { signals, policy: DEFAULT_POLICY, frame: frameFor(corrId) };
    const decide = activities().decideAndPublish;
    const first: DecideResult = await new MockActivityEnvironment({ attempt: 1 }).run(decide, input);
    const retry: DecideResult = await new MockActivityEnvironment({ attempt: 2 }).run(decide, input);
    expect(first).toMatchObject({
      duplicate: false,
      instrument: 'AAPL',
      decision: {
        ...frameFor(corrId),
        decision: { action: 'trade', reasoning: 'high_momentum_acceptable_risk' },
        route: 'standard',
        contributing_agents: ['momentum', 'risk'],
        missing_agents: [],
      },
    });
    expect(retry).toEqual({ ...first, duplicate: true });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([{ msgId: corrId, decision: first.decision }]);
  });

  it('fails at once, without retries and without publishing, when the rules throw on the signals', async () => {
    const corrId = uniqueCorrId('rules-throw');
    const broken = { ...momentum(corrId), analysis: undefined } as unknown as AgentSignal;
    const failure = await new MockActivityEnvironment()
      .run(activities().decideAndPublish, {
        signals: { momentum: broken },
        policy: DEFAULT_POLICY,
        frame: frameFor(corrId),
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'DecisionRulesFailed',
      nonRetryable: true,
      message: expect.stringMatching(/^the decision rules failed on this correlation's signals: /),
    });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([]);
  });
});
