/**
 * What one correlation costs the engine and the worker, in each workflow shape, on the dev server:
 * workflow tasks, history events and activations (how many times the worker ran its code). These
 * are the counts behind docs/BENCHMARKS.md; speed itself is the benchmark's to measure.
 */
import {
  WORKFLOW_TYPE,
  WORKFLOW_TYPE_V1,
  WORKFLOW_TYPE_V2,
  WORKFLOW_TYPE_V3,
  agentSignal,
  agentSignals,
  workflowIdFor,
} from '../src/shared/correlation-api';
import { correlationSignalWithStart, correlationStart } from '../src/shared/correlation-start';
import { DEFAULT_POLICY, DEFAULT_STREAMS } from '../src/config';
import { declareDecisionsStream } from '../src/nats/streams';
import { createActivities } from '../src/activities';
import { WORKFLOWS_PATH } from '../src/temporal/worker';
import { type InjectedSinks, NativeConnection, Worker } from '@temporalio/worker';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { ActivationSinks } from './support/count-activations';
import { historyShape } from './support/history-shape';
import { useDevServerAndNats } from './support/servers';
import { envelope, momentum, risk, uniqueCorrId } from './support/signals';
import { workflowTasksDone } from './support/workflow-tasks';

const servers = useDevServerAndNats();
const activations = new Map<string, number>();
let worker: Worker;
let eagerClient: Client;
let running: Promise<void>;
const taskQueue = uniqueCorrId('cost');

beforeAll(async () => {
  const sinks: InjectedSinks<ActivationSinks> = {
    activations: {
      count: {
        fn: (_info, runId) => void activations.set(runId, (activations.get(runId) ?? 0) + 1),
        callDuringReplay: false,
      },
    },
  };
  const connection = await NativeConnection.connect({ address: servers.temporal.address });
  // A client on the worker's connection, as the bridge in the worker's process has: it can start eagerly.
  eagerClient = new Client({ connection });
  worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities({
      policy: DEFAULT_POLICY,
      js: servers.nats.js,
      jsm: servers.nats.jsm,
      decisions: declareDecisionsStream(DEFAULT_STREAMS),
    }),
    interceptors: { workflowModules: [require.resolve('./support/count-activations')] },
    sinks,
  });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
});

async function costOf(handle: WorkflowHandle) {
  await handle.result();
  const shape = historyShape(await handle.fetchHistory());
  const { runId } = await handle.describe();
  return { workflowTasks: shape.workflowTasks, events: shape.events.length, activations: activations.get(runId) };
}

/**
 * Waits until the first workflow task has completed, so the next signal comes in a task of its own.
 * Reads history (a query would be an activation too), up to a deadline that names what it saw.
 */
async function firstTaskDone(handle: WorkflowHandle): Promise<void> {
  const events = await workflowTasksDone(servers.client, handle.workflowId);
  expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
}

describe('what a complete correlation costs', () => {
  it('its agents together, started eagerly by the bridge in the worker process: 1 workflow task, handed back with the start, 7 events, 2 activations', async () => {
    const corrId = uniqueCorrId('together');
    const handle = await eagerClient.workflow.start(
      WORKFLOW_TYPE,
      correlationStart(corrId, DEFAULT_POLICY, taskQueue, [envelope(momentum(corrId)), envelope(risk(corrId))], true),
    );
    expect(handle.eagerlyStarted).toBe(true);
    expect(await costOf(handle)).toEqual({ workflowTasks: 1, events: 7, activations: 2 });
  });

  it('its agents together, started by a bridge of its own through the task queue: the same 7 events', async () => {
    const corrId = uniqueCorrId('together-queued');
    const handle = await servers.client.workflow.start(
      WORKFLOW_TYPE,
      correlationStart(corrId, DEFAULT_POLICY, taskQueue, [envelope(momentum(corrId)), envelope(risk(corrId))], false),
    );
    expect(handle.eagerlyStarted).toBe(false);
    expect(await costOf(handle)).toEqual({ workflowTasks: 1, events: 7, activations: 2 });
  });

  it('its risk agent not waited for (breaker open) or its risk signal decisive: the same 1 workflow task, 7 events, 2 activations', async () => {
    const degraded = uniqueCorrId('degraded');
    const degradedRun = await eagerClient.workflow.start(
      WORKFLOW_TYPE,
      correlationStart(degraded, DEFAULT_POLICY, taskQueue, [envelope(momentum(degraded))], true, ['risk']),
    );
    expect(await costOf(degradedRun)).toEqual({ workflowTasks: 1, events: 7, activations: 2 });
    const decisive = uniqueCorrId('decisive');
    const decisiveRun = await eagerClient.workflow.start(
      WORKFLOW_TYPE,
      correlationStart(
        decisive,
        DEFAULT_POLICY,
        taskQueue,
        [envelope(risk(decisive, { risk_level: 'blocked' }))],
        true,
      ),
    );
    expect(await costOf(decisiveRun)).toEqual({ workflowTasks: 1, events: 7, activations: 2 });
  });

  it('in the third shape, started by signal-with-start: 1 workflow task, 8 events, 2 activations', async () => {
    const corrId = uniqueCorrId('third-shape');
    const handle = await servers.client.workflow.signalWithStart(
      WORKFLOW_TYPE_V3,
      correlationSignalWithStart(corrId, DEFAULT_POLICY, taskQueue, [
        envelope(momentum(corrId)),
        envelope(risk(corrId)),
      ]),
    );
    expect(await costOf(handle)).toEqual({ workflowTasks: 1, events: 8, activations: 2 });
  });

  it('in the second shape, which decides in two steps: 1 workflow task, 9 events, 3 activations', async () => {
    const corrId = uniqueCorrId('second-shape');
    const handle = await servers.client.workflow.signalWithStart(
      WORKFLOW_TYPE_V2,
      correlationSignalWithStart(corrId, DEFAULT_POLICY, taskQueue, [
        envelope(momentum(corrId)),
        envelope(risk(corrId)),
      ]),
    );
    expect(await costOf(handle)).toEqual({ workflowTasks: 1, events: 9, activations: 3 });
  });

  it('its agents apart: 2 workflow tasks, 13 events, 3 activations', async () => {
    const corrId = uniqueCorrId('apart');
    const handle = await eagerClient.workflow.start(
      WORKFLOW_TYPE,
      correlationStart(corrId, DEFAULT_POLICY, taskQueue, [envelope(momentum(corrId))], true),
    );
    await firstTaskDone(handle);
    await handle.signal(agentSignals, [envelope(risk(corrId))]);
    expect(await costOf(handle)).toEqual({ workflowTasks: 2, events: 13, activations: 3 });
  });

  it('in the first shape, its two signals apart as the old bridge sent them: 2 workflow tasks, 23 events, 6 activations', async () => {
    const corrId = uniqueCorrId('first-shape');
    const handle = await servers.client.workflow.signalWithStart(WORKFLOW_TYPE_V1, {
      workflowId: workflowIdFor(corrId),
      taskQueue,
      args: [{ corr_id: corrId }],
      signal: agentSignal,
      signalArgs: [envelope(momentum(corrId))],
    });
    await firstTaskDone(handle);
    await handle.signal(agentSignal, envelope(risk(corrId)));
    expect(await costOf(handle)).toEqual({ workflowTasks: 2, events: 23, activations: 6 });
  });
});
