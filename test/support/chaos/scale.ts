/** How big a chaos run is: ORCH_CHAOS_SCALE, and the figures that depend on it. */

export type ChaosScale = 'ci' | 'full';

/** ORCH_CHAOS_SCALE: `ci` (the default: short, for every `jest` run) or `full` (npm run test:chaos). */
function chaosScale(): ChaosScale {
  const value = process.env.ORCH_CHAOS_SCALE ?? 'ci';
  if (value !== 'ci' && value !== 'full') throw new Error(`ORCH_CHAOS_SCALE must be "ci" or "full", not "${value}"`);
  return value;
}

export const SCALE = chaosScale();

/** The CI figure or the full one, by ORCH_CHAOS_SCALE. */
export function scaled<T>(ci: T, full: T): T {
  return SCALE === 'full' ? full : ci;
}
