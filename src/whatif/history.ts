/**
 * What a recorded correlation decided, and on which signals, read from its workflow history alone:
 * no worker, no replay, no server. Pure: a history in, a `RecoveredCorrelation` out.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { encryptedPayloadProblem } from '../codec';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import type { AgentSignal } from '../contract/agent-signal';
import type { OrchestrationDecision } from '../contract/decision';
import type { Policy } from '../contract/policy';
import type { Signals } from '../activities/decision-rules';
import { recordedEnvelopes, recordedPolicy } from '../operations/recorded';
import {
  type AgentSignalEnvelope,
  type CorrelationInput,
  type CorrelationStart,
  WORKFLOW_ID_PREFIX,
  WORKFLOW_TYPES,
} from '../shared/correlation-api';

type Payload = temporal.api.common.v1.IPayload;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** How a run ended, from its last event; `running` when the history has no close event yet. */
export type RunOutcome =
  'completed' | 'failed' | 'timed_out' | 'terminated' | 'canceled' | 'continued_as_new' | 'running';

/** A history that is not a correlation the what-if can read; the message says why. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

export interface RecoveredCorrelation {
  workflowId: string;
  /** Run id: the caller's, else the started event's original run id (the run's own unless it was reset). */
  runId?: string;
  corrId: string;
  outcome: RunOutcome;
  /** The signals the decision used: the first one per agent, as the workflow keeps them. */
  signals: Signals;
  /** Agent → the message id of the signal kept for it. */
  messageIds: Record<string, string>;
  /** Signal deliveries the workflow did not decide on. */
  ignored: {
    /** A redelivery (same message id) or a second message from an agent that had reported. */
    duplicates: number;
    /** From an agent the decision did not use: arrived after it. */
    late: number;
    /** Not a valid agent signal for this correlation, or refused by the workflow. */
    rejected: number;
  };
  /** The decision: the workflow's result. Absent when the run did not complete. */
  decision?: OrchestrationDecision;
  /** The policy the run decided under, from its input (or, for the first shape, its resolvePolicy local-activity marker), when readable. */
  recordedPolicy?: Policy;
  /** Set when the run re-drove an earlier one. */
  redriveOf?: { workflow_id: string; run_id: string };
}

function decode<T>(payload: Payload | null | undefined, what: string, where: string): T {
  if (!payload) throw new HistoryError(`${where}: ${what} has no payload`);
  const encrypted = encryptedPayloadProblem(payload);
  if (encrypted) throw new HistoryError(`${where}: cannot decode ${what}: ${encrypted}`);
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch (error) {
    throw new HistoryError(`${where}: cannot decode ${what}: ${(error as Error).message}`);
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

function isEnvelope(value: unknown): value is AgentSignalEnvelope {
  const envelope = value as Partial<AgentSignalEnvelope> | null | undefined;
  return (
    typeof envelope?.message_id === 'string' &&
    typeof envelope.signal?.agent_name === 'string' &&
    typeof envelope.signal.analysis === 'object'
  );
}

/**
 * Recovers a correlation from its workflow history (as `temporal workflow show -o json` exports it,
 * through `historyFromJSON`, or as the client's `fetchHistory` returns it).
 *
 * The signals are the `agentSignal` and `agentSignals` payloads in history order (a re-drive's recorded signals
 * first), kept as the workflow keeps them: the first message per agent; a repeated message id or a
 * second message from the same agent is a duplicate. When the decision names its inputs
 * (`provenance`), only those count: a signal from another agent came after the decision (late).
 *
 * @param where names the history in errors: a file, or a workflow id
 * @param runId the run's id when the caller knows it (a history file does not say it for a reset run)
 */
export function recoverCorrelation(history: History, where: string, runId?: string): RecoveredCorrelation {
  const events = history.events ?? [];
  const started = events[0]?.workflowExecutionStartedEventAttributes;
  if (!started)
    throw new HistoryError(`${where}: not a workflow history (its first event is not WorkflowExecutionStarted)`);
  const type = started.workflowType?.name ?? '';
  if (!WORKFLOW_TYPES.includes(type))
    throw new HistoryError(
      `${where}: not a correlation: workflow type is "${type}", not one of ${WORKFLOW_TYPES.map((t) => `"${t}"`).join(', ')}`,
    );
  const input = decode<CorrelationInput | CorrelationStart>(started.input?.payloads?.[0], 'the workflow input', where);
  const corrId = input?.corr_id;
  if (typeof corrId !== 'string' || corrId === '')
    throw new HistoryError(`${where}: the workflow input has no corr_id`);
  const workflowId = started.workflowId || `${WORKFLOW_ID_PREFIX}${corrId}`;

  const last = events[events.length - 1];
  const outcome = outcomeOf(last);
  const decision =
    outcome === 'completed'
      ? decode<OrchestrationDecision>(
          last?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0],
          'the decision (workflow result)',
          where,
        )
      : undefined;
  if (decision && typeof decision.decision?.action !== 'string')
    throw new HistoryError(`${where}: the workflow result is not a decision`);

  // What the decision says it used: exactly, by message id (provenance), or at least by agent.
  const usedIds = decision?.provenance ? new Map(decision.provenance.map((p) => [p.agent, p.message_id])) : undefined;
  const usedAgents = usedIds
    ? new Set(usedIds.keys())
    : decision?.available_agents
      ? new Set(decision.available_agents)
      : undefined;

  const envelopes = recordedEnvelopes(input, events, (payload, what) => decode<unknown>(payload, what, where));

  const signals: Record<string, AgentSignal> = {};
  const messageIds: Record<string, string> = {};
  const ignored = { duplicates: 0, late: 0, rejected: 0 };
  for (const envelope of envelopes) {
    if (!isEnvelope(envelope) || envelope.signal.corr_id !== corrId) {
      ignored.rejected++;
      continue;
    }
    const agent = envelope.signal.agent_name;
    if (agent in signals || Object.values(messageIds).includes(envelope.message_id)) {
      ignored.duplicates++;
    } else if (usedAgents && !usedAgents.has(agent)) {
      ignored.late++;
    } else if (usedIds && usedIds.get(agent) !== envelope.message_id) {
      // Not the message the decision names for this agent: the workflow refused it.
      ignored.rejected++;
    } else {
      signals[agent] = envelope.signal;
      messageIds[agent] = envelope.message_id;
    }
  }
  for (const agent of usedAgents ?? []) {
    if (!(agent in signals)) {
      const id = usedIds?.get(agent);
      throw new HistoryError(
        `${where}: the decision used ${agent}'s signal${id ? ` (message ${id})` : ''}, which is not in the history`,
      );
    }
  }

  const policy = recordedPolicy(type, input, events);
  return {
    workflowId,
    ...(runId || started.originalExecutionRunId ? { runId: runId || started.originalExecutionRunId || undefined } : {}),
    corrId,
    outcome,
    signals,
    messageIds,
    ignored,
    ...(decision ? { decision } : {}),
    ...(policy ? { recordedPolicy: policy } : {}),
    ...(input.redrive ? { redriveOf: input.redrive.of } : {}),
  };
}
