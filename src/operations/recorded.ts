/** What a correlation's history recorded: its agent messages, whichever way they came, and its policy. Pure. */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { type Policy, policySchema } from '../contract/policy';
import {
  agentSignal,
  agentSignals,
  type CorrelationInput,
  type CorrelationStart,
  WORKFLOW_TYPE_V1,
} from '../shared/correlation-api';

type Payload = temporal.api.common.v1.IPayload;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Every agent message the run was given, in the order the workflow received them: those of its
 * start input first (a re-drive's recorded signals, then the messages a V4 start brought), then
 * one per `agentSignal` event and each of an `agentSignals` batch in its order.
 *
 * @param input the run's decoded input
 * @param decode turns a signal event's payload into its value; `what` names the event for errors
 */
export function recordedEnvelopes(
  input: Pick<CorrelationStart, 'signals' | 'redrive'>,
  events: readonly HistoryEvent[],
  decode: (payload: Payload | null | undefined, what: string) => unknown,
): unknown[] {
  const envelopes: unknown[] = [
    ...(input.redrive?.signals ?? []),
    ...(Array.isArray(input.signals) ? input.signals : []),
  ];
  for (const event of events) {
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName === agentSignal.name) {
      envelopes.push(decode(signaled.input?.payloads?.[0], `the agentSignal of event ${String(event.eventId)}`));
    } else if (signaled?.signalName === agentSignals.name) {
      const batch = decode(signaled.input?.payloads?.[0], `the agentSignals of event ${String(event.eventId)}`);
      envelopes.push(...(Array.isArray(batch) ? batch : [batch]));
    }
  }
  return envelopes;
}

/**
 * The policy a run decided under, when it can be read: a current run's comes in its input; a run of
 * the first shape resolved it in its `resolvePolicy` local activity, whose result is in a marker
 * (the marker's layout is the SDK's, so that is best effort).
 */
export function recordedPolicy(
  workflowType: string,
  input: CorrelationInput | CorrelationStart,
  events: readonly HistoryEvent[],
): Policy | undefined {
  if (workflowType !== WORKFLOW_TYPE_V1) return validPolicy(input.policy);
  for (const event of events) {
    const marker = event.markerRecordedEventAttributes;
    if (!marker?.details) continue;
    try {
      const data = marker.details.data?.payloads?.[0];
      const meta = data ? defaultPayloadConverter.fromPayload<{ activity_type?: unknown }>(data) : undefined;
      if (meta?.activity_type !== 'resolvePolicy') continue;
      const result = marker.details.result?.payloads?.[0];
      return validPolicy(result ? defaultPayloadConverter.fromPayload<unknown>(result) : undefined);
    } catch {
      continue;
    }
  }
  return undefined;
}

function validPolicy(value: unknown): Policy | undefined {
  const parsed = policySchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
