/**
 * Turns one raw agent message into a validated signal, or says precisely why it cannot be one.
 * Pure: the bridge decides what to do with the answer.
 */
import { type AgentSignal, agentSignalSchema } from '../contract/agent-signal';
import { describeIssues } from '../contract/errors';
import { SIGNAL_SUBJECT_PREFIX } from '../nats/streams';

/** Why a message went to the DLQ; machine-readable, carried in the `Orch-Dlq-Reason` header. */
export type DlqReason =
  | 'oversize'
  | 'not_json'
  | 'schema_violation'
  | 'unsupported_schema_version'
  | 'subject_mismatch'
  | 'late'
  | 'expired'
  | 'temporal_rejected';

export type ParseResult = { ok: true; signal: AgentSignal } | { ok: false; reason: DlqReason; detail: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest nesting of arrays and objects a message may have (the root object is level 1). JSON.parse
 * reads any depth, but JSON.stringify and structuredClone recurse: a few thousand levels, which fit
 * easily in 64 KiB, overflow the stack when the signal is handed to Temporal, so the message would be
 * retried forever instead of going to the DLQ. No agent needs anywhere near this many.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * The top-level field (or `(root)`) under which `value` nests deeper than `MAX_NESTING_DEPTH`; undefined if it does
 * not.
 */
function tooDeep(value: unknown): string | undefined {
  // Iterative, so that checking a deep document cannot overflow the stack either.
  const pending: Array<{ value: unknown; depth: number; field: string }> = [{ value, depth: 1, field: '(root)' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth > MAX_NESTING_DEPTH) return next.field;
    for (const [key, child] of Object.entries(next.value)) {
      pending.push({
        value: child,
        depth: next.depth + 1,
        field: next.depth === 1 && !Array.isArray(next.value) ? key : next.field,
      });
    }
  }
  return undefined;
}

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
  const deepField = tooDeep(json);
  if (deepField !== undefined) {
    return {
      ok: false,
      reason: 'schema_violation',
      detail: `${deepField}: nested deeper than ${MAX_NESTING_DEPTH} levels`,
    };
  }
  const result = agentSignalSchema.safeParse(json);
  if (!result.success) {
    const versionOnly = result.error.issues.every((issue) => issue.path[0] === 'schema_version');
    return {
      ok: false,
      reason: versionOnly ? 'unsupported_schema_version' : 'schema_violation',
      detail: describeIssues(result.error),
    };
  }
  const agentInSubject = subject.startsWith(SIGNAL_SUBJECT_PREFIX)
    ? subject.slice(SIGNAL_SUBJECT_PREFIX.length)
    : subject;
  if (agentInSubject !== result.data.agent_name) {
    return {
      ok: false,
      reason: 'subject_mismatch',
      detail: `subject ${subject} but agent_name "${result.data.agent_name}"`,
    };
  }
  return { ok: true, signal: result.data };
}
