/** JetStream streams and subjects of the orchestrator's contract (SPEC.md). */
import { type JetStreamManager, nanos, type StreamConfig, StorageType } from 'nats';

export const SIGNALS_STREAM = 'SIGNALS';
export const SIGNAL_SUBJECT_PREFIX = 'signals.enriched.';
export const SIGNAL_SUBJECTS = `${SIGNAL_SUBJECT_PREFIX}>`;

export const DECISIONS_STREAM = 'DECISIONS';
export const DECISION_SUBJECT = 'orchestrated.decision';

export const DLQ_STREAM = 'SIGNALS_DLQ';
export const DLQ_SUBJECT = 'signals.dlq';

/** The subject an agent publishes on. */
export function signalSubject(agent: string): string {
  return `${SIGNAL_SUBJECT_PREFIX}${agent}`;
}

function isStreamNotFound(error: unknown): boolean {
  return (error as { api_error?: { err_code?: number } })?.api_error?.err_code === 10059;
}

/** Creates a stream if it does not exist; an existing stream is left as its operator configured it. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!isStreamNotFound(error)) throw error;
    await jsm.streams.add({ storage: StorageType.File, ...config });
  }
}

/**
 * Creates the DECISIONS stream if it does not exist. Its duplicate window is how long a retried
 * publish of the same decision (same Nats-Msg-Id) is recognised and dropped.
 */
export function ensureDecisionsStream(jsm: JetStreamManager, dedupeWindowMs: number): Promise<void> {
  return ensureStream(jsm, { name: DECISIONS_STREAM, subjects: [DECISION_SUBJECT], duplicate_window: nanos(dedupeWindowMs) });
}

/** Creates the SIGNALS stream (what agents publish) and the DLQ stream (what the bridge refused). */
export async function ensureSignalStreams(jsm: JetStreamManager): Promise<void> {
  await ensureStream(jsm, { name: SIGNALS_STREAM, subjects: [SIGNAL_SUBJECTS] });
  await ensureStream(jsm, { name: DLQ_STREAM, subjects: [DLQ_SUBJECT] });
}
