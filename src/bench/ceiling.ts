/** The ceiling's moving parts: its worker process and the client loop's signal-with-start. */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { compiledEntryPoint } from '../devstack/local-stack';
import { ManagedProcess } from '../devstack/processes';
import { CEILING_WORKFLOW_TYPE, ceilingSignal } from './ceiling-workflow';
import { type CorrelationBook, wallClockMs } from './observer';

/** The ceiling worker as a child process, like the orchestrator's worker. */
export function ceilingWorkerProcess(env: Record<string, string>, taskQueue: string, subject: string, logFile?: string): ManagedProcess {
  return new ManagedProcess({
    label: 'bench ceiling worker',
    command: process.execPath,
    args: [compiledEntryPoint('bench/ceiling-worker')],
    env: { ...env, BENCH_CEILING_TASK_QUEUE: taskQueue, BENCH_CEILING_SUBJECT: subject },
    logFile,
    readyLine: /"msg":"ceiling worker polling"/,
  });
}

/**
 * The `send` of the ceiling's load: one signal-with-start per unit, with the bridge's id policies,
 * so the server does the same work to create a workflow and deliver its first signal.
 */
export function ceilingSender(client: Client, taskQueue: string, prefix: string, book: CorrelationBook): (unit: number) => Promise<void> {
  return async (n) => {
    book.sent(n, wallClockMs(), false);
    await client.workflow.signalWithStart(CEILING_WORKFLOW_TYPE, {
      workflowId: `${prefix}${n}`,
      taskQueue,
      signal: ceilingSignal,
      signalArgs: [n],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
  };
}
