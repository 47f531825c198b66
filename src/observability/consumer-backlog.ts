/**
 * The backlog of the bridges' durable consumer on SIGNALS, for /metrics: read from JetStream when
 * Prometheus scrapes, at most once per few seconds, so that a scrape costs one small request and
 * several scrapers (an HA pair of Prometheus) or both backlog gauges share it.
 */
import type { JetStreamManager } from 'nats';
import { SIGNALS_STREAM } from '../nats/streams';
import type { ConsumerBacklog } from './metrics';

const BACKLOG_MAX_AGE_MS = 5_000;

/** Reads `nats consumer info SIGNALS <durableName>`'s pending counts, cached for `maxAgeMs`. */
export function signalsConsumerBacklog(
  jsm: JetStreamManager,
  durableName: string,
  maxAgeMs = BACKLOG_MAX_AGE_MS,
): () => Promise<ConsumerBacklog> {
  return cachedFor(maxAgeMs, async () => {
    const info = await jsm.consumers.info(SIGNALS_STREAM, durableName);
    return { consumer: durableName, pending: info.num_pending, ackPending: info.num_ack_pending };
  });
}

/**
 * `read`, answered from its last call for `maxAgeMs` (a read in flight is shared, a failure is kept
 * too: an unreachable server is not asked again on every scrape).
 */
export function cachedFor<T>(maxAgeMs: number, read: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || now() - last.at >= maxAgeMs) last = { at: now(), value: read() };
    return last.value;
  };
}
