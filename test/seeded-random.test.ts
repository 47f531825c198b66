/** The chaos suite's seeded random source: the same seed replays the same choices. */
import { chaosSeed, seededRandom } from './support/seeded-random';

describe('seededRandom', () => {
  it('gives the same sequence for the same seed, another for another seed, all in [0, 1)', () => {
    const draw = (seed: number): number[] => Array.from({ length: 1_000 }, seededRandom(seed));
    const a = draw(20261204);
    expect(draw(20261204)).toEqual(a);
    expect(draw(20261205)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    // Spread over the interval, not stuck in one corner.
    expect(a.filter((x) => x < 0.5).length).toBeGreaterThan(400);
    expect(a.filter((x) => x < 0.5).length).toBeLessThan(600);
  });
});

describe('chaosSeed', () => {
  it('takes ORCH_CHAOS_SEED when set', () => {
    expect(chaosSeed({ ORCH_CHAOS_SEED: '42' })).toBe(42);
  });

  it('draws a whole number when unset', () => {
    const seed = chaosSeed({});
    expect(Number.isInteger(seed)).toBe(true);
    expect(seed).toBeGreaterThanOrEqual(0);
  });

  it('refuses a seed that is not a whole number, naming the variable', () => {
    expect(() => chaosSeed({ ORCH_CHAOS_SEED: '4.2' })).toThrow('ORCH_CHAOS_SEED must be a whole number, not "4.2"');
  });
});
