/** The ceilings' moving parts: their worker process and the loads that start their workflows. */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Gatherer } from '../bridge/gather';
import { ReportedAgents } from '../bridge/reported-agents';
import { compiledEntryPoint } from '../devstack/local-stack';
import { ManagedProcess } from '../devstack/processes';
import { CEILING_WORKFLOW_TYPE, ceilingSignal, FAN_IN_WORKFLOW_TYPE, fanInSignal } from './ceiling-workflow';
import { agentArrivals, type ArrivalPlan, isPartialCorrelation, type Send } from './load';
import { type CorrelationBook, wallClockMs } from './observer';

/** The id policies of the bridge, so the server does the same work to create a workflow and deliver its signals. */
const ID_POLICIES = {
  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
};

/** The ceiling worker as a child process, like the orchestrator's worker. */
export function ceilingWorkerProcess(
  env: Record<string, string>,
  taskQueue: string,
  subject: string,
  logFile?: string,
): ManagedProcess {
  return new ManagedProcess({
    label: 'bench ceiling worker',
    command: process.execPath,
    args: [compiledEntryPoint('bench/ceiling-worker')],
    env: { ...env, BENCH_CEILING_TASK_QUEUE: taskQueue, BENCH_CEILING_SUBJECT: subject },
    logFile,
    readyLine: /"msg":"ceiling worker polling"/,
  });
}

/** C1's load: one signal-with-start of the one-signal workflow per correlation. */
export function bareLoad(
  client: Client,
  taskQueue: string,
  prefix: string,
  book: CorrelationBook,
): { plan: ArrivalPlan; send: Send } {
  return {
    plan: () => [0],
    send: async (n) => {
      book.sent(n, wallClockMs(), false);
      await client.workflow.signalWithStart(CEILING_WORKFLOW_TYPE, {
        workflowId: `${prefix}${n}`,
        taskQueue,
        signal: ceilingSignal,
        signalArgs: [n],
        ...ID_POLICIES,
      });
    },
  };
}

export interface FanInLoadOptions {
  client: Client;
  taskQueue: string;
  prefix: string;
  book: CorrelationBook;
  agents: string[];
  partialShare: number;
  spreadMs: number;
  /** The bridge's batch window, so C2 makes the signal-with-starts the bridge would. */
  windowMs: number;
  /** How long a partial correlation waits, as the orchestrator's policy does. */
  timeoutMs: number;
}

/**
 * C2's load: the orchestrator's arrival pattern, gathered by the bridge's own batching into the
 * signal-with-starts the bridge would make, sent to the fan-in workflow.
 */
export function fanInLoad(options: FanInLoadOptions): { plan: ArrivalPlan; send: Send } {
  const { client, taskQueue, prefix, book, agents, partialShare, spreadMs, windowMs, timeoutMs } = options;
  const reported = new ReportedAgents(agents);
  const batches = new Gatherer<number>({
    windowMs,
    isComplete: (workflowId, batch) =>
      reported.completes(
        workflowId,
        batch.map((i) => agents[i]),
      ),
    handOver: async (workflowId, batch) => {
      await client.workflow.signalWithStart(FAN_IN_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [{ expected: agents.length, timeoutMs }],
        signal: fanInSignal,
        signalArgs: [batch],
        ...ID_POLICIES,
      });
      reported.record(
        workflowId,
        batch.map((i) => agents[i]),
      );
    },
  });
  return {
    plan: agentArrivals(agents.length, partialShare, spreadMs),
    send: (n, index) => {
      book.sent(n, wallClockMs(), isPartialCorrelation(n, partialShare));
      return batches.add(`${prefix}${n}`, index);
    },
  };
}
