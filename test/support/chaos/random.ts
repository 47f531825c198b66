/** A chaos run's random choices, all from one seed (ORCH_CHAOS_SEED replays them). */
import { chaosSeed, seededRandom } from '../seeded-random';

/** The scenario's seed (ORCH_CHAOS_SEED replays a run): logged at its start and kept in its report. */
export const SEED = chaosSeed();

/** Every random choice of a scenario comes from here, so the seed replays them. */
export const random = seededRandom(SEED);

export function randomBetween(low: number, high: number): number {
  return low + random() * (high - low);
}
