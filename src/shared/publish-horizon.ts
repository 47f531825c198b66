/**
 * Why a decision reaches consumers once, ever: every publish of a decision id happens within a
 * bounded time of its run's start, and DECISIONS remembers the id (Nats-Msg-Id) for longer than
 * that, so any second publish (a retry whose first ack was lost, a local activity run again by a
 * failed workflow task, a workflow reset) is dropped by JetStream. Pure: the workflow's activity
 * options, the activity and the configuration check share it.
 */

/** How long publishing a decision may keep retrying (a NATS outage) before the correlation fails, re-drivable. */
export const PUBLISH_RETRY_HORIZON_MS = 60 * 60_000;

/** Room for the clocks of Temporal, the worker and nats-server to differ. */
export const CLOCK_MARGIN_MS = 5 * 60_000;

/**
 * The shortest duplicate window of DECISIONS that lets a correlation wait out its partial-data
 * timeout, then retry publishing for the full horizon, and still be deduplicated.
 */
export function minimumDedupeWindowMs(timeoutMs: number): number {
  return timeoutMs + PUBLISH_RETRY_HORIZON_MS + CLOCK_MARGIN_MS;
}

/**
 * The last moment a run may publish its decision: past it, an earlier publish of the same id may
 * already have left the duplicate window, so a publish could reach consumers a second time.
 */
export function publishDeadlineMs(runStartedAtMs: number, dedupeWindowMs: number): number {
  return runStartedAtMs + dedupeWindowMs - CLOCK_MARGIN_MS;
}
