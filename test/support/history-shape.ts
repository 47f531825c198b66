/**
 * What a run's history costs the engine, read off the history itself: its events, signals, workflow tasks and local
 * activities.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

export interface HistoryShape {
  /** Event types in order, e.g. `WorkflowExecutionStarted`. */
  events: string[];
  /** Agent messages the start input carried (the first batch of a correlationWorkflowV4). */
  startMessages: number;
  /** Each signal event: its name and how many agent messages it carried. */
  signals: Array<{ name: string; messages: number }>;
  workflowTasks: number;
  /** The local activities recorded (one marker each), in order. */
  localActivities: string[];
}

function eventType(event: temporal.api.history.v1.IHistoryEvent): string {
  const key = Object.keys(event).find(
    (k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k] != null,
  );
  if (!key) throw new Error(`event ${String(event.eventId)} has no attributes`);
  return key.charAt(0).toUpperCase() + key.slice(1, -'EventAttributes'.length);
}

export function historyShape(history: History): HistoryShape {
  const events = history.events ?? [];
  const signals = events.flatMap((e) => {
    const s = e.workflowExecutionSignaledEventAttributes;
    if (!s) return [];
    const payload = s.input?.payloads?.[0];
    const value = payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : undefined;
    return [{ name: s.signalName ?? '', messages: Array.isArray(value) ? value.length : 1 }];
  });
  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const started = input ? defaultPayloadConverter.fromPayload<{ signals?: unknown }>(input) : undefined;
  const localActivities = events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0];
    return data ? [String(defaultPayloadConverter.fromPayload<{ activity_type?: unknown }>(data).activity_type)] : [];
  });
  return {
    events: events.map(eventType),
    startMessages: Array.isArray(started?.signals) ? started.signals.length : 0,
    signals,
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
    localActivities,
  };
}
