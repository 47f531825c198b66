/**
 * package.json's `engines.node` says the oldest Node.js the orchestrator runs on: the highest floor
 * among the packages it needs at run time, as the lockfile records them (the dev-only ones do not
 * ship in the image).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

type Version = [number, number, number];

/** The lowest version a range like `>= 20.3.0`, `^16 || ^18 || >=20`, `>=10.18` or `*` admits. */
function floorOf(range: string): Version {
  const floors = range.split('||').map((alternative) => {
    const match = /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(alternative);
    if (!match) return [0, 0, 0] as Version;
    return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)] as Version;
  });
  return floors.sort(compare)[0];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

describe('floorOf', () => {
  it.each([
    ['>= 20.3.0', [20, 3, 0]],
    ['>=20', [20, 0, 0]],
    ['^16 || ^18 || >=20', [16, 0, 0]],
    ['>=10.18', [10, 18, 0]],
    ['>= 18.12.0', [18, 12, 0]],
    ['*', [0, 0, 0]],
  ])('%s starts at %j', (range, floor) => {
    expect(floorOf(range)).toEqual(floor);
  });
});

describe('engines.node', () => {
  it('is the highest floor of the run-time dependencies', () => {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
    };
    const [, floor] = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && !entry.dev && !Array.isArray(entry.engines) && entry.engines?.node)
      .map(([path, entry]) => [path, floorOf((entry.engines as { node: string }).node)] as const)
      .sort((a, b) => compare(b[1], a[1]))[0];
    const declared = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).engines.node;
    expect(declared).toBe(`>=${floor.join('.')}`);
    expect(lock.packages[''].engines).toEqual({ node: declared });
  });
});
