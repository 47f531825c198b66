/**
 * The project's shell scripts run on macOS's default bash (3.2) as well as on Linux: none of them
 * uses a construct that bash 4 or 5 added. (No bash 3.2 here to run them with; this reads them.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

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

const scripts = [...readdirSync(join(REPO_ROOT, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => join('scripts', f)), join('.ci', 'run')];

describe('shell scripts on bash 3.2', () => {
  it.each(scripts)('%s uses nothing bash 3.2 lacks', (script) => {
    expect(bash4Constructs(readFileSync(join(REPO_ROOT, script), 'utf8'))).toEqual([]);
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
