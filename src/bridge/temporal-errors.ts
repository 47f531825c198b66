/**
 * Which errors from Temporal no retry can change. The bridge retries everything else (Temporal
 * unavailable, rate limited, timed out), so a message waits in JetStream instead of being lost.
 */

/** gRPC status codes that say the request itself is at fault. */
const PERMANENT_CODES: ReadonlyMap<number, string> = new Map([
  [3, 'invalid argument'],
  [7, 'permission denied'],
]);

/**
 * Refusals with a permanent code that say nothing about the message: the namespace lacks a search
 * attribute the start sets. That passes once it is registered, and on a cluster it passes by itself
 * within seconds of the registration: each frontend refreshes its copy of the namespace on its own
 * schedule, so right after `deploy/temporal/setup-namespace.sh` one frontend may still refuse what
 * another accepts. The message waits in JetStream meanwhile.
 */
const DEPLOYMENT_CONDITIONS: readonly RegExp[] = [/no mapping defined for search attribute/i];

/**
 * What Temporal said when it refused a request for good (`invalid argument: Blob data size exceeds
 * limit.`), or undefined when the error may pass. The client wraps the gRPC error as the cause.
 */
export function permanentRejection(error: unknown): string | undefined {
  for (
    let e = error as { code?: unknown; details?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    const kind = typeof e.code === 'number' ? PERMANENT_CODES.get(e.code) : undefined;
    if (!kind) continue;
    const said = typeof e.details === 'string' && e.details ? e.details : String(e.message ?? '');
    return DEPLOYMENT_CONDITIONS.some((condition) => condition.test(said)) ? undefined : `${kind}: ${said}`;
  }
  return undefined;
}
