/**
 * The agent circuit breaker's entity workflow on Temporal's time-skipping test server, with the
 * production worker: outcome batches move it, its durable timer turns it half-open, a report
 * closes it, and it carries its state across continue-as-new. Its reporter (the worker's side)
 * batches decisions into those outcomes.
 */
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
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

type Read = (ready: (s: BreakerSnapshot) => boolean) => Promise<BreakerSnapshot>;

/** Runs `body` with a worker on a task queue of its own, and an agent name of its own; `read` polls the query until `ready`. */
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
  const read: Read = async (ready) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const state = await env.client.workflow.getHandle(breakerWorkflowIdFor(agent)).query(breakerStateQuery);
      if (ready(state)) return state;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the breaker never reached the state the test waits for');
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

/** Polls the workflow's latest run until `ready`; its run id. */
async function waitForRun(
  handle: WorkflowHandle,
  ready: (d: WorkflowExecutionDescription) => boolean,
): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const description = await handle.describe();
    if (ready(description)) return description.runId;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the breaker never reached the run the test waits for');
}

describe('agentBreakerWorkflow', () => {
  it('opens after failure_threshold misses in a row, turns half-open on its durable timer, and closes on a report', async () => {
    const seen = await withBreaker(async (send, read, agent) => {
      await send(batch(['missed', 'missed']));
      const closedWithTwo = await read((s) => s.missed === 2);
      await send(batch(['missed']));
      const open = await read((s) => s.missed === 3);
      // What the Temporal UI shows for the breaker's workflow: its current details.
      const details = (
        await env.client.workflow
          .getHandle(breakerWorkflowIdFor(agent))
          .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
      ).currentDetails;
      // A minute of workflow time, in moments.
      await env.sleep(SETTINGS.reset_after_ms);
      const halfOpen = await read((s) => s.state !== 'open');
      await send(batch(['reported']));
      return { closedWithTwo, open, details, halfOpen, closed: await read((s) => s.reported === 1) };
    });
    expect(seen.details).toContain('**open**: circuit breaker of agent');
    expect(seen.details).toContain('- misses in a row: 3 (opens at 3)');
    expect(seen.details).toMatch(
      /- last change: closed -> open at \S+ \(3 correlations in a row decided without the agent \(failure_threshold 3\)\)/,
    );
    expect(seen.closedWithTwo).toMatchObject({ state: 'closed', consecutive_misses: 2 });
    expect(seen.open).toMatchObject({
      state: 'open',
      consecutive_misses: 3,
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
      // continue-as-new is not atomic, and a call in between can hang (sdk-java#1538).
      const lastRun = await waitForRun(handle, (d) => d.runId !== firstRun && d.status.name === 'RUNNING');
      const before = await read((s) => s.missed === 2);
      await send(batch(['missed']));
      const after = await read((s) => s.missed === 3);
      return { firstRun, before, after, lastRun };
    }, 2);
    expect(before).toMatchObject({ state: 'closed', consecutive_misses: 2 });
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
