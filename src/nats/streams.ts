/** JetStream streams and subjects of the orchestrator's contract (SPEC.md). */
import { type JetStreamManager, nanos, StorageType } from 'nats';

export const DECISIONS_STREAM = 'DECISIONS';
export const DECISION_SUBJECT = 'orchestrated.decision';

function isStreamNotFound(error: unknown): boolean {
  return (error as { api_error?: { err_code?: number } })?.api_error?.err_code === 10059;
}

/**
 * Creates the DECISIONS stream if it does not exist. Its duplicate window is how long a retried
 * publish of the same decision (same Nats-Msg-Id) is recognised and dropped.
 */
export async function ensureDecisionsStream(jsm: JetStreamManager, dedupeWindowMs: number): Promise<void> {
  try {
    await jsm.streams.info(DECISIONS_STREAM);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    await jsm.streams.add({
      name: DECISIONS_STREAM,
      subjects: [DECISION_SUBJECT],
      storage: StorageType.File,
      duplicate_window: nanos(dedupeWindowMs),
    });
  }
}
