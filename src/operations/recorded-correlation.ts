/**
 * A correlation as its workflow history recorded it: the one reader of recorded runs, for re-drive,
 * what-if and the bridge's closed-run check. Pure: a history in (fetched and decoded, or read from an
 * exported file), a `RecordedCorrelation` out. Which signals count is not re-implemented here: the
 * envelopes go through the workflow's own `Correlation` state object.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { encryptedPayloadProblem } from '../codec';
import type { AgentSignal } from '../contract/agent-signal';
import type { OrchestrationDecision, ProvenanceEntry } from '../contract/decision';
import { type Policy, policySchema } from '../contract/policy';
import {
  agentSignal,
  agentSignals,
  type AgentSignalEnvelope,
  type CorrelationInput,
  type CorrelationStart,
  WORKFLOW_ID_PREFIX,
  WORKFLOW_TYPE_V1,
  WORKFLOW_TYPES,
} from '../shared/correlation-api';
import { Correlation } from '../workflows/correlation';

type Payload = temporal.api.common.v1.IPayload;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** How a run ended, from its last event; `running` when the history has no close event yet. */
export type RunOutcome =
  'completed' | 'failed' | 'timed_out' | 'terminated' | 'canceled' | 'continued_as_new' | 'running';

/** A history that is not a readable correlation; the message names the history and says why. */
export class RecordedCorrelationError extends Error {
  override readonly name = 'RecordedCorrelationError';
}

export interface RecordedCorrelation {
  /** Where the history came from, for messages: a file, or a workflow id. */
  source: string;
  workflowId: string;
  /** Run id: the caller's, else the started event's original run id (the run's own unless it was reset). */
  runId?: string;
  workflowType: string;
  corrId: string;
  input: CorrelationInput | CorrelationStart;
  /** Every agent message the run was given, in the order it received them (see `recordedEnvelopes`). */
  envelopes: unknown[];
  /** How many of them the run received itself, as signals or in its start (a re-drive's own are not counted). */
  received: number;
  outcome: RunOutcome;
  /** The decision: the workflow's result. Absent when the run did not complete. */
  decision?: OrchestrationDecision;
  /** The policy the run decided under, when the history says (see `recordedPolicy`). */
  policy?: Policy;
  /** Set when the run re-drove an earlier one. */
  redriveOf?: { workflow_id: string; run_id: string };
}

/**
 * Reads a correlation run from its history.
 *
 * @param where names the history in errors: a file, or a workflow id
 * @param runId the run's id when the caller knows it (a history file does not say it for a reset run)
 */
export function readRecordedCorrelation(history: History, where: string, runId?: string): RecordedCorrelation {
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  if (!started)
    throw new RecordedCorrelationError(
      `${where}: not a workflow history (its first event is not WorkflowExecutionStarted)`,
    );
  const workflowType = started.workflowType?.name ?? '';
  if (!WORKFLOW_TYPES.includes(workflowType))
    throw new RecordedCorrelationError(
      `${where}: not a correlation: workflow type is "${workflowType}", not one of ${WORKFLOW_TYPES.map((t) => `"${t}"`).join(', ')}`,
    );
  const input = decode<CorrelationInput | CorrelationStart>(started.input?.payloads?.[0], 'the workflow input', where);
  const corrId = input?.corr_id;
  if (typeof corrId !== 'string' || corrId === '')
    throw new RecordedCorrelationError(`${where}: the workflow input has no corr_id`);

  const outcome = outcomeOf(events.at(-1));
  const decision =
    outcome === 'completed'
      ? decode<OrchestrationDecision>(
          events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0],
          'the decision (workflow result)',
          where,
        )
      : undefined;
  if (decision && typeof decision.decision?.action !== 'string')
    throw new RecordedCorrelationError(`${where}: the workflow result is not a decision`);

  const envelopes = recordedEnvelopes(input, events, (payload, what) => decode<unknown>(payload, what, where));
  const policy = recordedPolicy(workflowType, input, events);
  const run = runId || started.originalExecutionRunId || undefined;
  return {
    source: where,
    workflowId: started.workflowId || `${WORKFLOW_ID_PREFIX}${corrId}`,
    ...(run ? { runId: run } : {}),
    workflowType,
    corrId,
    input,
    envelopes,
    received: envelopes.length - (input.redrive?.signals.length ?? 0),
    outcome,
    ...(decision ? { decision } : {}),
    ...(policy ? { policy } : {}),
    ...(input.redrive ? { redriveOf: input.redrive.of } : {}),
  };
}

/**
 * Every agent message the run was given, in the order the workflow received them: those of its
 * start input first (a re-drive's recorded signals, then the messages a V4 start brought), then
 * one per `agentSignal` event and each of an `agentSignals` batch in its order.
 *
 * @param decode turns a signal event's payload into its value; `what` names the event for errors
 */
function recordedEnvelopes(
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
 * The signals a re-drive gives the correlation: the first message per agent, in the order they
 * arrived, as a fresh run keeps them. A message that came after the decision is kept too: it was
 * late for that run, not for a re-drive.
 */
export function firstSignalPerAgent(recorded: RecordedCorrelation): AgentSignalEnvelope[] {
  const correlation = new Correlation(recorded.corrId, RECEIVED_AT.toISOString());
  return (recorded.envelopes as AgentSignalEnvelope[]).filter(
    (envelope) => correlation.receive(envelope, RECEIVED_AT) === 'accepted',
  );
}

/** The signals a recorded decision was made on, and what the run did with the other messages. */
export interface DecidedSignals {
  signals: Record<string, AgentSignal>;
  /** Agent → the message id of the signal kept for it. */
  messageIds: Record<string, string>;
  ignored: {
    /** A redelivery (same message id) or a second message from an agent that had reported. */
    duplicates: number;
    /** From an agent the decision did not use: arrived after it. */
    late: number;
    /** Not a valid agent signal for this correlation, or refused by the workflow's limits. */
    rejected: number;
  };
}

/**
 * Replays the recorded messages through the workflow's `Correlation` under the recorded policy, and
 * applies the decision once every signal it names (its `provenance`, or for older decisions its
 * `available_agents`) is in: what came after is late, as the run saw it. Without a decision, the
 * signals are those the run had kept.
 *
 * Throws `RecordedCorrelationError` when the decision names a signal the history does not hold.
 */
export function decidedSignals(recorded: RecordedCorrelation): DecidedSignals {
  const correlation = new Correlation(recorded.corrId, RECEIVED_AT.toISOString());
  if (recorded.policy) correlation.start(recorded.policy, RECEIVED_AT);
  const decision = recorded.decision;
  const used = decision && usedSignals(decision);
  if (!used) {
    // No decision, or one that names neither its signals nor its agents: every message it could have used counts.
    for (const envelope of recorded.envelopes as AgentSignalEnvelope[]) correlation.receive(envelope, RECEIVED_AT);
    return summary(correlation, correlation.provenance());
  }
  const isUsed = (entry: Pick<ProvenanceEntry, 'agent' | 'message_id'>): boolean =>
    used.has(entry.agent) && (used.get(entry.agent) ?? entry.message_id) === entry.message_id;
  // The decision is applied right after the last message it names: every later message is late, as it was for the run.
  let decided = false;
  for (const envelope of recorded.envelopes as AgentSignalEnvelope[]) {
    correlation.receive(envelope, RECEIVED_AT);
    const named = correlation.provenance().filter(isUsed);
    if (!decided && named.length === used.size) {
      correlation.decided({ ...decision, provenance: named }, false);
      decided = true;
    }
  }
  const kept = correlation.provenance();
  for (const [agent, messageId] of used) {
    const keptId = kept.find((entry) => entry.agent === agent)?.message_id;
    if (keptId === undefined || !isUsed({ agent, message_id: keptId })) {
      throw new RecordedCorrelationError(
        `${recorded.source}: the decision used ${agent}'s signal${messageId ? ` (message ${messageId})` : ''}, ` +
          (keptId === undefined
            ? 'which is not in the history'
            : `but the workflow keeps ${agent}'s first message, ${keptId}: the history does not match the decision`),
      );
    }
  }
  return summary(correlation, kept);
}

function summary(correlation: Correlation, kept: readonly ProvenanceEntry[]): DecidedSignals {
  const state = correlation.snapshot();
  return {
    signals: correlation.keptSignals(),
    messageIds: Object.fromEntries(kept.map((entry) => [entry.agent, entry.message_id])),
    ignored: { duplicates: state.duplicates ?? 0, late: state.late_count ?? 0, rejected: state.rejected_count ?? 0 },
  };
}

/**
 * Agent → the message id the decision names for it: undefined for an older decision that names only
 * its agents, and no map at all when it names neither.
 */
function usedSignals(decision: OrchestrationDecision): Map<string, string | undefined> | undefined {
  if (decision.provenance) return new Map(decision.provenance.map((entry) => [entry.agent, entry.message_id]));
  if (decision.available_agents) return new Map(decision.available_agents.map((agent) => [agent, undefined]));
  return undefined;
}

/** Arrival times are not what a reader of a history needs from `Correlation`; one fixed time stands in. */
const RECEIVED_AT = new Date(0);

/**
 * The policy a run decided under, when it can be read: a current run's comes in its input; a run of
 * the first shape resolved it in its `resolvePolicy` local activity, whose result is in a marker
 * (the marker's layout is the SDK's, so that is best effort).
 */
function recordedPolicy(
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

function decode<T>(payload: Payload | null | undefined, what: string, where: string): T {
  if (!payload) throw new RecordedCorrelationError(`${where}: ${what} has no payload`);
  const encrypted = encryptedPayloadProblem(payload);
  if (encrypted) throw new RecordedCorrelationError(`${where}: cannot decode ${what}: ${encrypted}`);
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch (error) {
    throw new RecordedCorrelationError(`${where}: cannot decode ${what}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function outcomeOf(last: HistoryEvent | undefined): RunOutcome {
  if (!last) return 'running';
  if (last.workflowExecutionCompletedEventAttributes) return 'completed';
  if (last.workflowExecutionFailedEventAttributes) return 'failed';
  if (last.workflowExecutionTimedOutEventAttributes) return 'timed_out';
  if (last.workflowExecutionTerminatedEventAttributes) return 'terminated';
  if (last.workflowExecutionCanceledEventAttributes) return 'canceled';
  if (last.workflowExecutionContinuedAsNewEventAttributes) return 'continued_as_new';
  return 'running';
}
