/**
 * A repeatable random source for the chaos suite: every choice a scenario makes (agent order,
 * signal contents, which correlations get a fault, how long to wait before one) is drawn from it,
 * so a failing run can be replayed with the seed it logged. Timing still differs between runs;
 * the choices do not.
 */

/** mulberry32: a small, fast 32-bit generator; plenty for picking test inputs. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** ORCH_CHAOS_SEED when set (a whole number), otherwise a fresh one. */
export function chaosSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.ORCH_CHAOS_SEED;
  if (given === undefined || given === '') return Math.floor(Math.random() * 2 ** 31);
  if (!/^\d+$/.test(given)) throw new Error(`ORCH_CHAOS_SEED must be a whole number, not "${given}"`);
  return Number(given);
}
