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
 * What Temporal said when it refused a request for good (`invalid argument: Blob data size exceeds
 * limit.`), or undefined when the error may pass. The client wraps the gRPC error as the cause.
 */
export function permanentRejection(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; details?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const kind = typeof e.code === 'number' ? PERMANENT_CODES.get(e.code) : undefined;
    if (kind) return `${kind}: ${typeof e.details === 'string' && e.details ? e.details : String(e.message ?? '')}`;
  }
  return undefined;
}
