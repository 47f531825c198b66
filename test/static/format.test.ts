/** The code is formatted by the project's pinned prettier, so a diff shows a change, not a restyle. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const PRETTIER = join(REPO_ROOT, 'node_modules', '.bin', 'prettier');
const PROBE = 'test/fixtures/format-probe/unformatted.json';

function prettierCheck(args: string[]): { status: number | null; output: string } {
  const run = spawnSync(PRETTIER, ['--check', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('format', () => {
  it('finds every formatted file already in prettier style (npm run format fixes it)', () => {
    const run = prettierCheck(['.']);
    expect(run.output).toContain('All matched files use Prettier code style!');
    expect(run.status).toBe(0);
  }, 120_000);

  it('refuses a file that is not in prettier style, by name', () => {
    // The probe is in .prettierignore; an empty ignore file makes prettier look at it.
    const run = prettierCheck(['--ignore-path', '/dev/null', PROBE]);
    expect(run.status).toBe(1);
    expect(run.output).toContain(PROBE);
  });
});
