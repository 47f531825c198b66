/**
 * JetStream streams and subjects of the orchestrator's contract (SPEC.md), and how each stream is
 * declared and kept to its declaration: created when missing, brought to the configured limits
 * when an operator or an older version left it otherwise, refused when it cannot be changed in place.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  millis,
  nanos,
  RetentionPolicy,
  type StreamConfig,
  StorageType,
} from 'nats';
import { JsApiError, jsApiErrorCode } from './api-errors';

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

/** How long a stream keeps messages and how much, on how many servers: what configuration sets. */
export interface StreamLimits {
  replicas: number;
  /** 0 keeps messages for ever. */
  maxAgeMs: number;
  /** -1 for no limit. */
  maxBytes: number;
  /** What a full stream does: refuse the new message (`new`) or drop the oldest (`old`). */
  discard: 'old' | 'new';
}

export interface StreamsSettings {
  signals: StreamLimits;
  dlq: StreamLimits;
  /**
   * `dedupeWindowMs`: how long DECISIONS remembers a decision id (Nats-Msg-Id), so a second publish of it is dropped.
   */
  decisions: StreamLimits & { dedupeWindowMs: number };
}

/** The part of a stream's configuration the orchestrator owns; anything else an operator set is left alone. */
export type DeclaredStream = Required<
  Pick<StreamConfig, 'name' | 'subjects' | 'storage' | 'num_replicas' | 'max_age' | 'max_bytes' | 'discard'>
> &
  Partial<Pick<StreamConfig, 'duplicate_window'>>;

function declared(name: string, subjects: string[], limits: StreamLimits): DeclaredStream {
  return {
    name,
    subjects,
    storage: StorageType.File,
    num_replicas: limits.replicas,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    discard: limits.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
}

export const declareSignalsStream = (settings: StreamsSettings): DeclaredStream =>
  declared(SIGNALS_STREAM, [SIGNAL_SUBJECTS], settings.signals);
export const declareDlqStream = (settings: StreamsSettings): DeclaredStream =>
  declared(DLQ_STREAM, [DLQ_SUBJECT], settings.dlq);
export function declareDecisionsStream(settings: StreamsSettings): DeclaredStream {
  return {
    ...declared(DECISIONS_STREAM, [DECISION_SUBJECT], settings.decisions),
    duplicate_window: nanos(settings.decisions.dedupeWindowMs),
  };
}

/** A stream whose configuration the orchestrator cannot bring to its declaration; the message says what to do. */
class StreamConfigError extends Error {
  override readonly name = 'StreamConfigError';
}

/** One setting reconcile changed on an existing stream, in words. */
export interface StreamChange {
  stream: string;
  setting: string;
  was: string;
  now: string;
}

/** `stream DECISIONS: duplicate_window was 120000 ms, set to 7200000 ms`, for the log. */
export function describeStreamChange({ stream, setting, was, now }: StreamChange): string {
  return `stream ${stream}: ${setting} was ${was}, set to ${now}`;
}

type Owned = 'subjects' | 'num_replicas' | 'max_age' | 'max_bytes' | 'discard' | 'duplicate_window';

function shown(setting: Owned, value: unknown): string {
  if (value === undefined) return 'unset';
  if (setting === 'max_age' || setting === 'duplicate_window')
    return Number(value) === 0 ? '0 (no limit)' : `${millis(Number(value))} ms`;
  if (setting === 'max_bytes') return Number(value) < 0 ? '-1 (no limit)' : `${String(value)} bytes`;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * Creates the stream as declared, or brings an existing one to the declaration and returns each
 * setting it changed (JetStream changes replicas, limits, discard, subjects and the duplicate
 * window in place). Storage and retention cannot be changed in place: a stream that differs there
 * is refused with what to do. Subjects an operator added are kept.
 */
export async function reconcileStream(
  jsm: JetStreamManager,
  stream: DeclaredStream,
  settleMs = STREAM_SETTLE_MS,
): Promise<StreamChange[]> {
  // A JetStream cluster that has just (re)started answers a stream's requests only once the stream
  // has a leader: until then they time out. Waiting for it is what a process starting then must do.
  const deadline = Date.now() + settleMs;
  for (;;) {
    try {
      return await reconcileStreamOnce(jsm, stream);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'TIMEOUT' || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, STREAM_SETTLE_PAUSE_MS));
    }
  }
}

/** How long a stream's declaration waits out JetStream request timeouts (a cluster electing its leaders). */
const STREAM_SETTLE_MS = 60_000;
const STREAM_SETTLE_PAUSE_MS = 500;

async function reconcileStreamOnce(jsm: JetStreamManager, stream: DeclaredStream): Promise<StreamChange[]> {
  const existing = await jsm.streams.info(stream.name).catch((error: unknown) => {
    if (jsApiErrorCode(error) === JsApiError.StreamNotFound) return undefined;
    throw error;
  });
  if (!existing) {
    await jsm.streams.add(stream);
    return [];
  }
  const config = existing.config;
  if (config.storage !== stream.storage) {
    throw new StreamConfigError(
      `stream ${stream.name} is on ${config.storage} storage, but the orchestrator keeps it on ${stream.storage} storage so that nothing is lost when nats-server restarts; ` +
        `JetStream cannot change storage in place: back it up and re-create it (nats stream backup ${stream.name}, nats stream rm ${stream.name}), then start again`,
    );
  }
  if (config.retention !== RetentionPolicy.Limits) {
    throw new StreamConfigError(
      `stream ${stream.name} has ${config.retention} retention, but the orchestrator needs limits retention (a message stays until its age or size limit, whoever read it); ` +
        `JetStream cannot change retention in place: re-create the stream (nats stream rm ${stream.name}) and start again`,
    );
  }
  const wanted: Pick<StreamConfig, Exclude<Owned, 'duplicate_window'>> &
    Partial<Pick<StreamConfig, 'duplicate_window'>> = {
    subjects: [...config.subjects, ...stream.subjects.filter((s) => !config.subjects.includes(s))],
    num_replicas: stream.num_replicas,
    max_age: stream.max_age,
    max_bytes: stream.max_bytes,
    discard: stream.discard,
    ...(stream.duplicate_window !== undefined ? { duplicate_window: stream.duplicate_window } : {}),
  };
  const changes = (Object.keys(wanted) as Owned[])
    .filter((setting) => JSON.stringify(config[setting]) !== JSON.stringify(wanted[setting]))
    .map((setting) => ({
      stream: stream.name,
      setting,
      was: shown(setting, config[setting]),
      now: shown(setting, wanted[setting]),
    }));
  if (changes.length > 0) await jsm.streams.update(stream.name, { ...config, ...wanted });
  return changes;
}
