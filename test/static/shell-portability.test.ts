/**
 * The project's shell scripts run on macOS's default bash (3.2) as well as on Linux: none of them
 * uses a construct that bash 4 or 5 added (no bash 3.2 here to run them with; this reads them),
 * and shellcheck (Debian's package, installed by scripts/install-tools.sh) finds nothing in them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const SHELLCHECK = '/usr/bin/shellcheck';

/** What bash 3.2 lacks, each with a pattern that finds it in a line of script. */
const BASH4_ONLY: Array<[string, RegExp]> = [
  ['$EPOCHREALTIME / $EPOCHSECONDS (bash 5)', /\bEPOCH(REALTIME|SECONDS)\b/],
  ['associative arrays (declare -A, bash 4)', /\b(declare|local|typeset)\s+-[a-zA-Z]*A/],
  ['mapfile / readarray (bash 4)', /\b(mapfile|readarray)\b/],
  ['case conversion ${var,,} ${var^^} (bash 4)', /\$\{[^}]*(,,?|\^\^?)\}/],
  ['${var@Q} and other transformations (bash 4.4)', /\$\{[^}]*@[QEPAaKkUuL]\}/],
  ['|& (bash 4)', /\|&/],
  ['&>> (bash 4)', /&>>/],
  ['wait -n (bash 4.3)', /\bwait\s+-n\b/],
  ['coproc (bash 4)', /\bcoproc\b/],
  ['globstar (bash 4)', /shopt\s+-s\s+globstar/],
  ['negative array subscripts (bash 4.3)', /\$\{\w+\[-\d+\]\}/],
];

function bash4Constructs(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*#/.test(line)) return;
    for (const [what, pattern] of BASH4_ONLY) if (pattern.test(line)) found.push(`line ${i + 1}: ${what}`);
  });
  return found;
}

/** Every shell script git tracks, wherever it lives, and CI's entry point. */
const scripts = [
  ...execFileSync('git', ['ls-files', '*.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean),
  join('.ci', 'run'),
];

function shellcheck(files: string[], cwd: string): { status: number | null; output: string } {
  const run = spawnSync(SHELLCHECK, ['--shell=bash', '--format=gcc', ...files], { cwd, encoding: 'utf8' });
  if (run.error)
    throw new Error(
      `${SHELLCHECK} did not run (${run.error.message}): scripts/install-tools.sh installs it (apt-get install shellcheck)`,
    );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('shell scripts on bash 3.2', () => {
  it.each(scripts)('%s uses nothing bash 3.2 lacks', (script) => {
    expect(bash4Constructs(readFileSync(join(REPO_ROOT, script), 'utf8'))).toEqual([]);
  });

  it("covers the scripts in deploy/ and scripts/ and CI's own", () => {
    expect(scripts).toEqual(
      expect.arrayContaining([
        'scripts/bootstrap.sh',
        'scripts/install-tools.sh',
        'deploy/temporal/setup-schema.sh',
        'deploy/temporal/setup-namespace.sh',
        '.ci/run',
      ]),
    );
  });

  it('shellcheck finds nothing in any of them', () => {
    expect(shellcheck(scripts, REPO_ROOT)).toEqual({ status: 0, output: '' });
  });

  it('shellcheck does find a mistake (it can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-shellcheck-'));
    writeFileSync(join(dir, 'bad.sh'), '#!/usr/bin/env bash\ncd "$1"\nrm -rf "$dir/lib"\n');
    const run = shellcheck(['bad.sh'], dir);
    expect(run.status).toBe(1);
    expect(run.output).toContain('SC2164');
    expect(run.output).toContain('SC2115');
  });

  it('the check finds each construct (it can fail)', () => {
    const samples = [
      'now=$EPOCHREALTIME',
      'declare -A seen',
      'mapfile -t lines < f',
      'echo "${name,,}"',
      'echo "${name@Q}"',
      'make |& tee log',
      'echo hi &>> log',
      'wait -n',
      'coproc cat',
      'shopt -s globstar',
      'echo "${parts[-1]}"',
    ];
    expect(samples.map((line) => bash4Constructs(line).length)).toEqual(samples.map(() => 1));
  });
});
