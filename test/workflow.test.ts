/**
 * The correlation workflow on Temporal's time-skipping test server, with the production worker,
 * real activities and a real nats-server: timers that last minutes pass in moments.
 */
import { type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import type { CorrelationState } from '../src/contract/correlation-state';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { completeDecisionSchema } from '../src/contract/decision';
import type { PolicyInput } from '../src/contract/policy';
import { agentSignal, type CorrelationInput, stateQuery, workflowIdFor } from '../src/shared/correlation-api';
import { SEARCH_ATTRIBUTES as SA } from '../src/shared/search-attributes';
import { correlationWorkflow } from '../src/workflows';
import { storedDecisions } from './support/decisions';
import { createTimeSkippingEnv, startTestNats, type TestNats } from './support/servers';
import { envelope, momentum, risk, signal, uniqueCorrId } from './support/signals';
import { createTestWorker } from './support/worker';

let env: TestWorkflowEnvironment;
let nats: TestNats;

beforeAll(async () => {
  [env, nats] = await Promise.all([createTimeSkippingEnv(), startTestNats()]);
});

afterAll(async () => {
  await env?.teardown();
  await nats?.stop();
});

/** Starts a correlation the way the bridge does: signal-with-start with its first message. */
function startCorrelation(taskQueue: string, first: ReturnType<typeof envelope>, policy?: PolicyInput) {
  const input: CorrelationInput = { corr_id: first.signal.corr_id, ...(policy ? { policy } : {}) };
  return env.client.workflow.signalWithStart(correlationWorkflow, {
    workflowId: workflowIdFor(input.corr_id),
    taskQueue,
    args: [input],
    signal: agentSignal,
    signalArgs: [first],
  });
}

/** Queries the state until `ready` holds: a query sees the workflow between its tasks. */
async function queryUntil(handle: WorkflowHandle<typeof correlationWorkflow>, ready: (state: CorrelationState) => boolean): Promise<CorrelationState> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const state = await handle.query(stateQuery);
    if (ready(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('state never became ready');
}

/** The markdown the UI shows as the workflow's current details. */
async function currentDetails(handle: WorkflowHandle<typeof correlationWorkflow>): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** Runs `body` with a fresh worker on a task queue of its own. */
async function withWorker<T>(body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueCorrId('tq');
  const worker = await createTestWorker(env, nats, taskQueue);
  return worker.runUntil(body(taskQueue));
}

describe('correlationWorkflow', () => {
  it('fans in momentum and risk to one published trade decision', async () => {
    const corrId = uniqueCorrId('fanin');
    const decision = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, undefined, { agent_version: '1.2.1' }), '1'));
      await handle.signal(agentSignal, envelope(risk(corrId), '2'));
      return handle.result();
    });
    expect(completeDecisionSchema.parse(decision)).toEqual(decision);
    expect(decision).toMatchObject({
      corr_id: corrId,
      decision: { action: 'trade', reasoning: 'high_momentum_acceptable_risk' },
      contributing_agents: ['momentum', 'risk'],
      missing_agents: [],
      partial_data: false,
      policy_version: 'default-1',
      route: 'standard',
      provenance: [
        { agent: 'momentum', agent_version: '1.2.1', message_id: '1' },
        { agent: 'risk', message_id: '2' },
      ],
    });
    expect(decision.decision.confidence).toBeGreaterThan(0.5);
    const stored = await storedDecisions(nats.jsm, corrId);
    expect(stored).toEqual([{ msgId: corrId, decision }]);
  });

  it('tells the Temporal UI what it is: search attributes, memo, and the live state of the wait', async () => {
    const corrId = uniqueCorrId('visible');
    const { whileWaiting, description } = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, undefined, { source_signal: { instrument: 'BTC/USD' } }), '1'));
      await queryUntil(handle, (s) => s.metadata.policy_version !== undefined);
      const whileWaiting = await currentDetails(handle);
      await handle.signal(agentSignal, envelope(risk(corrId), '2'));
      await handle.result();
      return { whileWaiting, description: await handle.describe() };
    });
    expect(whileWaiting).toContain('reported: momentum');
    expect(whileWaiting).toContain('missing: risk');
    expect(whileWaiting).toMatch(/partial-data timer fires at \d{4}-/);
    const attributes = description.typedSearchAttributes;
    expect({
      id: attributes.get(SA.correlationId),
      status: attributes.get(SA.status),
      action: attributes.get(SA.action),
      route: attributes.get(SA.route),
      instrument: attributes.get(SA.instrument),
      policy: attributes.get(SA.policyVersion),
      partial: attributes.get(SA.partialData),
      missing: attributes.get(SA.missingAgents),
    }).toEqual({ id: corrId, status: 'completed', action: 'trade', route: 'standard', instrument: 'BTC/USD', policy: 'default-1', partial: false, missing: [] });
    expect(await description.memo).toMatchObject({ summary: expect.stringContaining(`Correlation ${corrId}: waits for momentum, risk until`) });
  });

  it('decides insufficient_data when risk never reports, after a 5-minute durable timer', async () => {
    const corrId = uniqueCorrId('timeout');
    const startedAt = await env.currentTimeMs();
    const wallStart = Date.now();
    const { decision, state } = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, { confidence: 0.8 })));
      const decision = await handle.result();
      return { decision, state: await handle.query(stateQuery) };
    });
    const wallMs = Date.now() - wallStart;
    expect(decision).toMatchObject({
      decision: { action: 'insufficient_data', reasoning: 'insufficient_data' },
      available_agents: ['momentum'],
      missing_agents: ['risk'],
      partial_data: true,
    });
    expect(state.status).toBe('timed_out');
    // Five minutes of workflow time went by, in far less wall time.
    expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(5 * 60_000);
    expect(wallMs).toBeLessThan(5 * 60_000);
    process.stdout.write(`5-minute partial-data timeout took ${wallMs} ms of wall time\n`);
  });

  it('decides on partial data at the timeout when min_agents_threshold is 1', async () => {
    const corrId = uniqueCorrId('partial');
    const decision = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, { confidence: 0.9 })), { version: 'lenient-1', min_agents_threshold: 1 });
      return handle.result();
    });
    expect(['monitor', 'trade']).toContain(decision.decision.action);
    expect(decision).toMatchObject({ partial_data: true, missing_agents: ['risk'], contributing_agents: ['momentum'], policy_version: 'lenient-1' });
  });

  it('counts a redelivered message and a repeated agent once', async () => {
    const corrId = uniqueCorrId('dupes');
    const { decision, state } = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, { trend_direction: 'bullish', confidence: 0.9 }), '10'));
      await handle.signal(agentSignal, envelope(momentum(corrId, { trend_direction: 'bullish', confidence: 0.9 }), '10'));
      await handle.signal(agentSignal, envelope(momentum(corrId, { trend_direction: 'bearish', confidence: 0.1 }), '11'));
      await handle.signal(agentSignal, envelope(risk(corrId, { risk_level: 'low' }), '12'));
      const decision = await handle.result();
      return { decision, state: await handle.query(stateQuery) };
    });
    expect(state.duplicates).toBe(2);
    expect(decision.source_signals.momentum).toBe(0.9);
    expect(decision.provenance.map((p) => p.message_id)).toEqual(['10', '12']);
    expect(await storedDecisions(nats.jsm, corrId)).toHaveLength(1);
  });

  it('reaches the same decision whichever agent reports first', async () => {
    const decide = (first: 'momentum' | 'risk') =>
      withWorker(async (tq) => {
        const corrId = uniqueCorrId(`order-${first}`);
        const m = envelope(momentum(corrId, { trend_direction: 'bullish', confidence: 0.7, momentum_strength: 0.6 }));
        const r = envelope(risk(corrId, { risk_level: 'medium', overall_score: 0.4 }));
        const handle = await startCorrelation(tq, first === 'momentum' ? m : r);
        await handle.signal(agentSignal, first === 'momentum' ? r : m);
        return handle.result();
      });
    const [momentumFirst, riskFirst] = [await decide('momentum'), await decide('risk')];
    expect(riskFirst.decision).toEqual(momentumFirst.decision);
    expect(riskFirst.contributing_agents).toEqual(['momentum', 'risk']);
  });

  it('answers the state query while collecting', async () => {
    const corrId = uniqueCorrId('query');
    await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId), '1'));
      // The policy arrives from a local activity a moment after the first signal is recorded.
      const state = await queryUntil(handle, (s) => s.metadata.policy_version !== undefined);
      expect(state).toMatchObject({
        corr_id: corrId,
        status: 'collecting',
        signals: { momentum: { agent_name: 'momentum' } },
        metadata: { expected_agents: ['momentum', 'risk'], policy_version: 'default-1' },
      });
      expect(Date.parse(state.metadata.timeout_at!) - Date.parse(state.metadata.created_at)).toBe(5 * 60_000);
      expect(state.decision).toBeUndefined();
      await handle.signal(agentSignal, envelope(risk(corrId), '2'));
      await handle.result();
      expect(await handle.query(stateQuery)).toMatchObject({ status: 'completed', decision: { corr_id: corrId } });
    });
  });

  it('waits for all three agents of a three-agent policy', async () => {
    const corrId = uniqueCorrId('three');
    const policy = { version: 'three-1', expected_agents: ['momentum', 'risk', 'sentiment'], weights: { momentum: 1, risk: 1, sentiment: 1 } };
    const decision = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId, { confidence: 0.9 })), policy);
      await handle.signal(agentSignal, envelope(risk(corrId, { overall_score: 0.1 })));
      const state = await queryUntil(handle, (s) => 'risk' in s.signals && s.metadata.expected_agents !== undefined);
      expect(state).toMatchObject({ status: 'collecting', metadata: { expected_agents: ['momentum', 'risk', 'sentiment'] } });
      await handle.signal(agentSignal, envelope(signal('sentiment', corrId, { confidence: 0.6 })));
      return handle.result();
    });
    expect(decision).toMatchObject({ contributing_agents: ['momentum', 'risk', 'sentiment'], partial_data: false, policy_version: 'three-1' });
    expect(decision.decision.confidence).toBeCloseTo((0.9 + 0.9 + 0.6) / 3, 4);
  });

  it('re-drives a correlation from its recorded signals: decides at once, links back, publishes under its own id', async () => {
    const corrId = uniqueCorrId('redrive');
    const workflowId = `${workflowIdFor(corrId)}-redrive-1`;
    const of = { workflow_id: workflowIdFor(corrId), run_id: 'run-of-the-original' };
    const { decision, memo, timers } = await withWorker(async (tq) => {
      const handle = await env.client.workflow.start(correlationWorkflow, {
        workflowId,
        taskQueue: tq,
        args: [{ corr_id: corrId, redrive: { of, signals: [envelope(momentum(corrId, { confidence: 0.9 }), '7')] } }],
      });
      const decision = await handle.result();
      const history = await handle.fetchHistory();
      const timers = history.events?.filter((e) => e.timerStartedEventAttributes).length;
      return { decision, memo: await (await handle.describe()).memo, timers };
    });
    // Only momentum was recorded: it decides on that at once, with no partial-data timer.
    expect(timers).toBe(0);
    expect(decision).toMatchObject({ decision: { action: 'insufficient_data' }, redrive_of: of, provenance: [{ agent: 'momentum', message_id: '7' }] });
    expect(memo).toMatchObject({ redrive_of: of, summary: expect.stringContaining(`re-drive of ${of.workflow_id}`) });
    expect(await storedDecisions(nats.jsm, corrId)).toEqual([{ msgId: `${corrId}:${workflowId}`, decision }]);
  });

  it('fails the correlation with an error naming the field of a bad policy', async () => {
    const corrId = uniqueCorrId('badpolicy');
    const failure = await withWorker(async (tq) => {
      const handle = await startCorrelation(tq, envelope(momentum(corrId)), { version: 'bad', timeout_ms: -1 });
      return handle.result().catch((error: unknown) => error);
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    // A local activity's failure reaches the workflow's caller as the activity's own ApplicationFailure.
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toMatchObject({ type: 'InvalidPolicy', message: expect.stringContaining('timeout_ms') });
  });
});
