/** Human durations for command-line options: `500ms`, `30s`, `2m`, `1h`, `1.5s`. */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
/** setTimeout's limit: a longer delay would fire at once. */
const MAX_DURATION_MS = 2_147_483_647;

/** Parses a duration into whole milliseconds; throws an Error that quotes the bad input. */
export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match)
    throw new Error(
      `invalid duration "${text}": expected a number and a unit (ms, s, m or h), such as 500ms, 30s or 2m`,
    );
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  if (ms > MAX_DURATION_MS) throw new Error(`invalid duration "${text}": at most 596h (about 24 days)`);
  return ms;
}

/** The shortest readable form of a duration in milliseconds: `500ms`, `30s`, `2m`, `1.5s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1_000).toFixed(3))}s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${ms / 60_000}m`;
  return `${ms / 3_600_000}h`;
}
