/**
 * A correlation's history: fetched from Temporal, read from or written to the JSON file that
 * `temporal workflow show -o json` writes, and read for what the run was given: its input and the
 * agent signals it recorded.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type Client, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { decodeHistory, encryptedPayloadProblem } from '../codec';
import type { AgentSignalEnvelope, CorrelationInput, CorrelationStart } from '../shared/correlation-api';
import { recordedEnvelopes, recordedPolicy } from './recorded';
import type { Policy } from '../contract/policy';

export type History = temporal.api.history.v1.IHistory;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** gRPC NOT_FOUND. */
const NOT_FOUND = 5;

/** No such workflow (or run): the caller says what it was looking for. */
export class HistoryNotFoundError extends Error {
  override readonly name = 'HistoryNotFoundError';
}

/** The whole history of a run (the latest run of the workflow id when `runId` is not given). */
export async function fetchHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  try {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    if (!history.events?.length)
      throw new HistoryNotFoundError(`workflow ${workflowId}${runId ? ` run ${runId}` : ''} has no history`);
    return history;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError || (isGrpcServiceError(error) && error.code === NOT_FOUND)) {
      throw new HistoryNotFoundError(
        `workflow ${workflowId}${runId ? ` run ${runId}` : ''} does not exist in namespace ${client.options.namespace}`,
      );
    }
    throw error;
  }
}

/**
 * The history with its payloads decoded through the client's payload codecs (encryption, when on):
 * what the workflow saw, for reading its input and signals. `fetchHistory` gives them as stored.
 */
export async function fetchDecodedHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  return decodeHistory(await fetchHistory(client, workflowId, runId), client.options.loadedDataConverter.payloadCodecs);
}

/** A history file is unreadable or is not a history; the message names the file. */
export class HistoryFileError extends Error {
  override readonly name = 'HistoryFileError';
}

/** Reads a history exported by `orch replay --export`, `temporal workflow show -o json` or the UI. */
export function readHistoryFile(path: string): History {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new HistoryFileError(`cannot read history file ${path}: ${(error as Error).message}`);
  }
  const events = (parsed as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new HistoryFileError(
      `${path} is not a workflow history: expected a JSON object {"events": [...]} as \`temporal workflow show -o json\` writes`,
    );
  }
  try {
    return historyFromJSON(parsed);
  } catch (error) {
    throw new HistoryFileError(`${path} is not a valid workflow history: ${(error as Error).message}`);
  }
}

/** Writes a history in the JSON form every Temporal tool reads (and `readHistoryFile`). */
export function writeHistoryFile(path: string, history: History): void {
  writeFileSync(path, `${historyToJSON(history)}\n`);
}

function firstPayload(payloads: Payloads): unknown {
  const payload = payloads?.payloads?.[0];
  const encrypted = encryptedPayloadProblem(payload);
  if (encrypted) throw new Error(`cannot read the history's payloads: ${encrypted}`);
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

function startedAttributes(history: History) {
  const attributes = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!attributes) throw new Error('the history does not begin with WorkflowExecutionStarted');
  return attributes;
}

/** The workflow id the history records (servers ≥ 1.27 write it in the started event), if any. */
export function historyWorkflowId(history: History): string | undefined {
  const attributes = history.events?.[0]?.workflowExecutionStartedEventAttributes as
    { workflowId?: string | null } | undefined | null;
  return attributes?.workflowId || undefined;
}

/** The workflow type the history records. */
export function historyWorkflowType(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

/** What a correlation run was given: its input and the agent signals it recorded. */
export interface RecordedRun {
  corrId: string;
  input: CorrelationInput | CorrelationStart;
  /** The signals a re-drive gives the correlation: the first per agent, in the order they arrived. */
  signals: AgentSignalEnvelope[];
  /** Every agent message the run recorded, duplicates and late ones included. */
  signalEvents: number;
  /** The policy the run decided under, when the history says (see `recordedPolicy`). */
  policy?: Policy;
}

/**
 * Reads a correlation run's input and recorded signals. The signals are those of a re-drive's own
 * input first (a re-driven run records them there, not as signal events), then the `agentSignal`
 * and `agentSignals` events, keeping the first message per agent as the workflow does: a duplicate or a second message
 * from the same agent is dropped, and so is a message for another correlation. A signal that came
 * after the decision is kept (it was late for that run, not for a re-drive).
 */
export function readRecordedRun(history: History): RecordedRun {
  const input = firstPayload(startedAttributes(history).input) as CorrelationInput | CorrelationStart | undefined;
  if (!input || typeof input.corr_id !== 'string')
    throw new Error('the history is not a correlation workflow: its input has no corr_id');
  const received = recordedEnvelopes(input, history.events ?? [], (payload) =>
    firstPayload({ payloads: payload ? [payload] : [] }),
  ) as AgentSignalEnvelope[];
  const signalEvents = received.length - (input.redrive?.signals.length ?? 0);
  const agents = new Set<string>();
  const messageIds = new Set<string>();
  const signals: AgentSignalEnvelope[] = [];
  for (const envelope of received) {
    const agent = envelope?.signal?.agent_name;
    if (
      typeof envelope?.message_id !== 'string' ||
      typeof agent !== 'string' ||
      envelope.signal.corr_id !== input.corr_id
    )
      continue;
    if (agents.has(agent) || messageIds.has(envelope.message_id)) continue;
    agents.add(agent);
    messageIds.add(envelope.message_id);
    signals.push(envelope);
  }
  const policy = recordedPolicy(historyWorkflowType(history) ?? '', input, history.events ?? []);
  return { corrId: input.corr_id, input, signals, signalEvents, ...(policy ? { policy } : {}) };
}
