/**
 * Nothing old starts a new actor. A correlation's closed run is how the bridge knows that a message
 * for it comes too late (signal-with-start refuses to start it again), and Temporal forgets the run
 * once the namespace's retention has passed. A message older than that could therefore start a new
 * run and a second decision. The horizon keeps an hour's margin below the retention; SIGNALS must
 * drop messages before it, and a message past it goes to the DLQ as `expired`.
 */

/** Room between the signal horizon and the namespace's retention: clocks, and the run's own lifetime. */
const RETENTION_MARGIN_MS = 60 * 60_000;

/** The age past which a message may outlive every trace of its correlation's run. */
export function signalHorizonMs(retentionMs: number): number {
  return retentionMs - RETENTION_MARGIN_MS;
}

/** Why a SIGNALS stream keeping messages for `maxAgeMs` is unsafe under `retentionMs`; undefined when it is safe. */
export function unsafeSignalsAge(maxAgeMs: number, retentionMs: number): string | undefined {
  const horizon = signalHorizonMs(retentionMs);
  if (maxAgeMs > 0 && maxAgeMs <= horizon) return undefined;
  const kept = maxAgeMs > 0 ? `${formatHours(maxAgeMs)}` : 'for ever';
  return (
    `SIGNALS keeps messages ${kept} (ORCH_SIGNALS_MAX_AGE_MS), but Temporal forgets a closed correlation after the namespace's retention of ${formatHours(retentionMs)}: ` +
    `a message re-read after that would start its correlation again and publish a second decision. ` +
    `Set ORCH_SIGNALS_MAX_AGE_MS to at most ${horizon} (the retention minus ${RETENTION_MARGIN_MS / 60_000} minutes), or raise the namespace's retention`
  );
}

/**
 * Why a message is too old to start a correlation, or undefined. Its age is taken from when
 * JetStream stored it and, when the agent stamped it, from `enriched_at`: a message republished
 * long after it was made is as old as its content.
 */
export function expiredBecause(
  message: { storedAtMs: number; enrichedAt?: string },
  nowMs: number,
  horizonMs: number,
): string | undefined {
  const stamps: Array<[string, number]> = [['stored in SIGNALS', message.storedAtMs]];
  const enriched = message.enrichedAt === undefined ? Number.NaN : Date.parse(message.enrichedAt);
  if (Number.isFinite(enriched)) stamps.push(['enriched_at', enriched]);
  for (const [what, at] of stamps) {
    if (nowMs - at > horizonMs) {
      return `${what} ${new Date(at).toISOString()}, more than ${formatHours(horizonMs)} ago: its correlation's run may be forgotten by Temporal, and a new one would decide it twice`;
    }
  }
  return undefined;
}

function formatHours(ms: number): string {
  const hours = ms / 3_600_000;
  return Number.isInteger(hours) ? `${hours} h` : `${hours.toFixed(2)} h`;
}
