/**
 * How the correlation workflows call their activities. Every step is a local activity: its result
 * is one marker event written with the workflow task that asked for it, with no task-queue round
 * trip and no second workflow task (see docs/BENCHMARKS.md).
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { PUBLISH_RETRY_HORIZON_MS } from '../shared/publish-horizon';

/** Pure and fast: scoring, routing, resolving a policy. */
export const LOCAL_RULES = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', maximumAttempts: 5 },
} as const;

/**
 * Publishing waits out a NATS outage with backoff; after an hour the correlation fails visibly and
 * can be re-driven. A retry cannot publish twice: JetStream dedupes on Nats-Msg-Id, for longer than
 * any retry can come (src/shared/publish-horizon.ts).
 */
export const PUBLISHING = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: PUBLISH_RETRY_HORIZON_MS,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
} as const;

/**
 * Publishing is a few milliseconds of idempotent I/O, so it runs as a local activity too. Retries
 * past the local retry threshold wait on a durable timer, so an outage still backs off for an hour.
 */
export const LOCAL_PUBLISHING = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: PUBLISHING.scheduleToCloseTimeout,
  retry: PUBLISHING.retry,
} as const;

export const rules = proxyLocalActivities<Activities>(LOCAL_RULES);
export const localIo = proxyLocalActivities<Activities>(LOCAL_PUBLISHING);
/** Publishing as a normal activity: only histories recorded before `publish-local-v1` do this. */
export const io = proxyActivities<Activities>(PUBLISHING);
