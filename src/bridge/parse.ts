/**
 * Turns one raw agent message into a validated signal, or says precisely why it cannot be one.
 * Pure: the bridge decides what to do with the answer.
 */
import { type AgentSignal, agentSignalSchema } from '../contract/agent-signal';
import { describeIssues } from '../contract/errors';
import { SIGNAL_SUBJECT_PREFIX } from '../nats/streams';

/** Why a message went to the DLQ; machine-readable, carried in the `Orch-Dlq-Reason` header. */
export type DlqReason = 'oversize' | 'not_json' | 'schema_violation' | 'unsupported_schema_version' | 'subject_mismatch' | 'late';

export type ParseResult = { ok: true; signal: AgentSignal } | { ok: false; reason: DlqReason; detail: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseAgentMessage(subject: string, data: Uint8Array, maxBytes: number): ParseResult {
  if (data.byteLength > maxBytes) {
    return { ok: false, reason: 'oversize', detail: `${data.byteLength} bytes; the limit is ${maxBytes}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (error) {
    return { ok: false, reason: 'not_json', detail: (error as Error).message };
  }
  const result = agentSignalSchema.safeParse(json);
  if (!result.success) {
    const versionOnly = result.error.issues.every((issue) => issue.path[0] === 'schema_version');
    return { ok: false, reason: versionOnly ? 'unsupported_schema_version' : 'schema_violation', detail: describeIssues(result.error) };
  }
  const agentInSubject = subject.startsWith(SIGNAL_SUBJECT_PREFIX) ? subject.slice(SIGNAL_SUBJECT_PREFIX.length) : subject;
  if (agentInSubject !== result.data.agent_name) {
    return { ok: false, reason: 'subject_mismatch', detail: `subject ${subject} but agent_name "${result.data.agent_name}"` };
  }
  return { ok: true, signal: result.data };
}
