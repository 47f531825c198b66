/**
 * What a closed correlation's run did with the messages it was given, read from its history: the
 * ids of every agent message it received (used, counted as a duplicate or recorded as late) and
 * its decision. The bridge asks when a message comes for a correlation that has closed, and gives
 * it the fate the run would have given it (`fateAfterClose`).
 */
import type { Client } from '@temporalio/client';
import type { OrchestrationDecision } from '../contract/decision';
import { fetchDecodedHistory } from '../operations/history';
import { readRecordedCorrelation } from '../operations/recorded-correlation';
import { workflowIdFor } from '../shared/correlation-api';

export interface ClosedRun {
  /** Message ids of every agent message the run received. */
  received: Set<string>;
  /** The content of every agent message the run received, as `sameContent` keys. */
  receivedContent: Set<string>;
  /** The run's result, when it completed with one. */
  decision?: OrchestrationDecision;
}

/** Reads the latest run of the correlation's workflow; rejects when the history cannot be read. */
export async function readClosedRun(client: Client, corrId: string): Promise<ClosedRun> {
  const workflowId = workflowIdFor(corrId);
  const run = readRecordedCorrelation(await fetchDecodedHistory(client, workflowId), workflowId);
  const envelopes = run.envelopes as Array<{ message_id?: unknown; signal?: unknown } | null | undefined>;
  const received = new Set(envelopes.map((e) => e?.message_id).filter((id): id is string => typeof id === 'string'));
  const receivedContent = new Set(envelopes.map((e) => contentKey(e?.signal)));
  return { received, receivedContent, ...(run.decision ? { decision: run.decision } : {}) };
}

/**
 * After the run closed: a message it received (a redelivery), or one whose content it received
 * under another id (an agent republishing after a restart), is a duplicate; anything else is new
 * information that came too late, and goes to the DLQ where an operator can see and re-drive it.
 */
export function fateAfterClose(run: ClosedRun, messageId: string, signal: unknown): 'duplicate' | 'late' {
  return run.received.has(messageId) || run.receivedContent.has(contentKey(signal)) ? 'duplicate' : 'late';
}

/** The same JSON value gives the same key, whatever the order of its object keys. */
function contentKey(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
