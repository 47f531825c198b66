/**
 * Waiting for a workflow to have handled what it was sent, read off its history: a query answers
 * from the last completed workflow task, so once every task the run was given has completed, a
 * query sees everything sent to it before the wait began. The wait does not depend on what the
 * state is, so a wrong state fails the test's assertion on it (with a diff), not a timeout.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const CLOSE_EVENTS = [
  'workflowExecutionCompletedEventAttributes',
  'workflowExecutionFailedEventAttributes',
  'workflowExecutionTimedOutEventAttributes',
  'workflowExecutionTerminatedEventAttributes',
  'workflowExecutionCanceledEventAttributes',
  'workflowExecutionContinuedAsNewEventAttributes',
] as const;

/** True once the run has closed, or the last workflow task it was given has completed. */
function settled(events: HistoryEvent[]): boolean {
  const last = events.at(-1);
  if (last && CLOSE_EVENTS.some((key) => last[key])) return true;
  let lastScheduled = -1;
  events.forEach((e, i) => {
    if (e.workflowTaskScheduledEventAttributes) lastScheduled = i;
  });
  return lastScheduled >= 0 && events.slice(lastScheduled).some((e) => e.workflowTaskCompletedEventAttributes);
}

const eventName = (event: HistoryEvent): string => {
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes') && event[k as keyof HistoryEvent] != null);
  return key ? key.charAt(0).toUpperCase() + key.slice(1, -'EventAttributes'.length) : '?';
};

/**
 * Reads the history of the workflow's run (its latest, unless `runId` names one) until every
 * workflow task scheduled so far has completed, or the run has closed; returns its events. A run
 * started, or a signal sent, before the call has its task scheduled already (a signal that comes
 * during a task is recorded, with a task of its own, when that task completes), so the state
 * afterwards includes it. A run not found yet (the next run of a continue-as-new, which the
 * time-skipping server creates after closing the last) is read again. The history is read every
 * 20 ms: the time-skipping test server does not wake a long poll of the history when a workflow
 * task completes. Fails after `timeoutMs`, listing the events it saw.
 */
export async function workflowTasksDone(
  client: Client,
  workflowId: string,
  { runId, timeoutMs = 30_000 }: { runId?: string; timeoutMs?: number } = {},
): Promise<HistoryEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory()
      .then(
        (history) => history.events ?? [],
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return [];
          throw error;
        },
      );
    if (settled(events)) return events;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for the workflow tasks of ${workflowId}${runId ? ` (run ${runId})` : ''} to complete; its history: ${events.map(eventName).join(', ') || 'not found'}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
