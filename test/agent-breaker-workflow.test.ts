/**
 * The agent circuit breaker's entity workflow on Temporal's time-skipping test server, with the
 * production worker: outcome batches move it, its durable timer turns it half-open, a report
 * closes it, and it carries its state across continue-as-new. Its reporter (the worker's side)
 * batches decisions into those outcomes.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { BreakerReporter } from '../src/agent-health/reporter';
import { BreakerView } from '../src/agent-health/view';
import { DEFAULT_POLICY } from '../src/config';
import type { OrchestrationDecision } from '../src/contract/decision';
import { createLogger } from '../src/observability/logger';
import {
  agentOutcomes,
  BREAKER_WORKFLOW_TYPE,
  type BreakerSnapshot,
  breakerStateQuery,
  breakerWorkflowIdFor,
  type OutcomeBatch,
} from '../src/shared/agent-breaker-api';
import { createTimeSkippingEnv, startTestNats, type TestNats } from './support/servers';
import { uniqueCorrId } from './support/signals';
import { createTestWorker } from './support/worker';
import { workflowTasksDone } from './support/workflow-tasks';

let env: TestWorkflowEnvironment;
let nats: TestNats;

beforeAll(async () => {
  [env, nats] = await Promise.all([createTimeSkippingEnv(), startTestNats()]);
});

afterAll(async () => {
  await env?.teardown();
  await nats?.stop();
});

const SETTINGS = { enabled: true, failure_threshold: 3, reset_after_ms: 60_000 };
const logger = createLogger('silent', 'test');

function batch(outcomes: Array<'reported' | 'missed'>): OutcomeBatch {
  return { outcomes: outcomes.map((outcome, i) => ({ outcome, corr_id: `c${i}` })), settings: SETTINGS };
}

/** The breaker's state once it has handled every batch sent so far (its run's, or the named run's). */
type Read = (runId?: string) => Promise<BreakerSnapshot>;

/**
 * Runs `body` with a worker on a task queue of its own, and an agent name of its own. `read` waits
 * until every workflow task the breaker's run was given has completed (read off its history:
 * test/support/workflow-tasks.ts), then queries it: the state after the batches sent so far,
 * whatever it is, for the test to assert.
 */
async function withBreaker<T>(
  body: (send: (b: OutcomeBatch) => Promise<void>, read: Read, agent: string) => Promise<T>,
  batchesPerRun?: number,
): Promise<T> {
  const taskQueue = uniqueCorrId('tq');
  const agent = uniqueCorrId('agent')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');
  const worker = await createTestWorker(env, nats, taskQueue);
  const send = async (b: OutcomeBatch): Promise<void> => {
    await env.client.workflow.signalWithStart(BREAKER_WORKFLOW_TYPE, {
      workflowId: breakerWorkflowIdFor(agent),
      taskQueue,
      args: [{ agent, settings: SETTINGS, ...(batchesPerRun ? { batches_per_run: batchesPerRun } : {}) }],
      signal: agentOutcomes,
      signalArgs: [b],
    });
  };
  const read: Read = async (runId) => {
    await workflowTasksDone(env.client, breakerWorkflowIdFor(agent), { runId });
    return env.client.workflow.getHandle(breakerWorkflowIdFor(agent), runId).query(breakerStateQuery);
  };
  try {
    return await worker.runUntil(body(send, read, agent));
  } finally {
    await env.client.workflow
      .getHandle(breakerWorkflowIdFor(agent))
      .terminate('test over')
      .catch(() => undefined);
  }
}

describe('agentBreakerWorkflow', () => {
  it('opens after failure_threshold misses in a row, turns half-open on its durable timer, and closes on a report', async () => {
    const seen = await withBreaker(async (send, read, agent) => {
      await send(batch(['missed', 'missed']));
      const closedWithTwo = await read();
      await send(batch(['missed']));
      const open = await read();
      // What the Temporal UI shows for the breaker's workflow: its current details.
      const details = (
        await env.client.workflow
          .getHandle(breakerWorkflowIdFor(agent))
          .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
      ).currentDetails;
      // A minute of workflow time, in moments.
      // Its timer, started when it opened, has fired by the end of the sleep.
      await env.sleep(SETTINGS.reset_after_ms);
      const halfOpen = await read();
      await send(batch(['reported']));
      return { closedWithTwo, open, details, halfOpen, closed: await read() };
    });
    expect(seen.details).toContain('**open**: circuit breaker of agent');
    expect(seen.details).toContain('- misses in a row: 3 (opens at 3)');
    expect(seen.details).toMatch(
      /- last change: closed -> open at \S+ \(3 correlations in a row decided without the agent \(failure_threshold 3\)\)/,
    );
    expect(seen.closedWithTwo).toMatchObject({ state: 'closed', consecutive_misses: 2, missed: 2, reported: 0 });
    expect(seen.open).toMatchObject({
      state: 'open',
      consecutive_misses: 3,
      missed: 3,
      last_transition: { from: 'closed', to: 'open' },
    });
    expect(seen.halfOpen).toMatchObject({ state: 'half_open', last_transition: { from: 'open', to: 'half_open' } });
    expect(seen.closed).toMatchObject({
      state: 'closed',
      consecutive_misses: 0,
      reported: 1,
      missed: 3,
      last_transition: { from: 'half_open', to: 'closed', reason: 'the agent reported' },
    });
  });

  it('carries its state across continue-as-new', async () => {
    const { firstRun, before, after, lastRun } = await withBreaker(async (send, read, agent) => {
      const handle = env.client.workflow.getHandle(breakerWorkflowIdFor(agent));
      await send(batch(['missed']));
      const firstRun = (await handle.describe()).runId;
      await send(batch(['missed']));
      // That was the second batch: batches_per_run is 2, so the run continues as new with its state.
      // The next run is awaited before it is read or signalled: the time-skipping server's
      // continue-as-new is not atomic, and a call in between can hang (sdk-java#1538). The first
      // run's history names it, and its own history shows when its first task is done.
      const closing = (await workflowTasksDone(env.client, handle.workflowId, { runId: firstRun })).at(-1);
      const lastRun = closing?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (!lastRun)
        throw new Error(`the first run did not continue as new; its last event: ${JSON.stringify(closing)}`);
      const before = await read(lastRun);
      await send(batch(['missed']));
      const after = await read(lastRun);
      return { firstRun, before, after, lastRun };
    }, 2);
    expect(before).toMatchObject({ state: 'closed', consecutive_misses: 2, missed: 2 });
    expect(after).toMatchObject({ state: 'open', consecutive_misses: 3, missed: 3 });
    expect(lastRun).not.toBe(firstRun);
  });
});

describe('BreakerReporter and BreakerView', () => {
  const decision = (
    corrId: string,
    available: string[],
    missing: string[],
    extra: Partial<OrchestrationDecision> = {},
  ): OrchestrationDecision =>
    ({
      corr_id: corrId,
      orchestrated_at: new Date().toISOString(),
      available_agents: available,
      missing_agents: missing,
      ...extra,
    }) as OrchestrationDecision;

  it('reports misses and reports per agent in one batch, so the view sees the breaker open, then closed', async () => {
    const taskQueue = uniqueCorrId('tq');
    const worker = await createTestWorker(env, nats, taskQueue);
    const policy = {
      ...DEFAULT_POLICY,
      expected_agents: ['momentum', 'risk'],
      breaker: { enabled: true, failure_threshold: 2, reset_after_ms: 60_000 },
    };
    const reporter = new BreakerReporter(env.client, taskQueue, logger);
    const view = new BreakerView(env.client, ['momentum', 'risk'], logger, 60_000);
    try {
      const { opened, closed } = await worker.runUntil(async () => {
        reporter.record(decision('a', ['momentum'], ['risk']), policy);
        reporter.record(decision('b', ['momentum'], ['risk']), policy);
        // Not counted: a decision a decisive signal made early, and one that did not wait for risk.
        reporter.record(decision('c', ['momentum'], ['risk'], { decided_early: { rule: 'decisive_signal' } }), policy);
        reporter.record(decision('d', ['momentum'], ['risk'], { degraded_agents: ['risk'] }), policy);
        await reporter.flush();
        await view.poll();
        const opened = { open: view.degradedAgents(), snapshots: view.snapshots() };
        reporter.record(decision('e', ['momentum', 'risk'], []), policy);
        await reporter.flush();
        await view.poll();
        return { opened, closed: { open: view.degradedAgents(), snapshots: view.snapshots() } };
      });
      expect(opened.open).toEqual(['risk']);
      expect(opened.snapshots.map((s) => [s.agent, s.state, s.reported, s.missed])).toEqual([
        ['momentum', 'closed', 4, 0],
        ['risk', 'open', 0, 2],
      ]);
      expect(closed.open).toEqual([]);
      expect(closed.snapshots.find((s) => s.agent === 'risk')).toMatchObject({
        state: 'closed',
        reported: 1,
        missed: 2,
      });
    } finally {
      view.stop();
      await reporter.stop();
      for (const agent of ['momentum', 'risk'])
        await env.client.workflow
          .getHandle(breakerWorkflowIdFor(agent))
          .terminate('test over')
          .catch(() => undefined);
    }
  });

  it('counts nothing when the policy turns the breaker off, or for a re-drive', async () => {
    const agents = [uniqueCorrId('quiet-a'), uniqueCorrId('quiet-b')].map((a) =>
      a.toLowerCase().replace(/[^a-z0-9_-]/g, '-'),
    );
    const policy = { ...DEFAULT_POLICY, expected_agents: agents };
    const reporter = new BreakerReporter(env.client, uniqueCorrId('tq'), logger);
    const view = new BreakerView(env.client, agents, logger, 60_000);
    reporter.record(decision('a', [agents[0]], [agents[1]]), {
      ...policy,
      breaker: { ...policy.breaker, enabled: false },
    });
    reporter.record(decision('b', [agents[0]], [agents[1]], { redrive_of: { workflow_id: 'w', run_id: 'r' } }), policy);
    await reporter.stop();
    await view.poll();
    // No breaker workflow was started for either agent.
    expect(view.snapshots()).toEqual([]);
  });
});
