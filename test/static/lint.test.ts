/** The lint rules that keep workflow code replay-safe, and the codebase lint-clean. */
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../support/paths';

const ESLINT = join(REPO_ROOT, 'node_modules', '.bin', 'eslint');
/** One deliberate violation per file, linted under the workflow rules. */
const PROBES = 'test/fixtures/lint-probes';

interface LintResult {
  filePath: string;
  messages: Array<{ ruleId: string | null; message: string; line: number }>;
}

/** Runs the project's real eslint (its config cannot load inside Jest's module sandbox). */
function lint(args: string[]): LintResult[] {
  const run = spawnSync(ESLINT, ['--format', 'json', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (!run.stdout) throw new Error(`eslint produced no report: ${run.stderr}`);
  return JSON.parse(run.stdout) as LintResult[];
}

describe('lint', () => {
  it('finds nothing to fix anywhere in the project', () => {
    const results = lint(['--ignore-pattern', `${PROBES}/**`, '.']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(problems).toEqual([]);
  }, 120_000);

  it('refuses replay hazards in workflow code and allows type-only contract imports', () => {
    const rulesByProbe = Object.fromEntries(
      lint([PROBES]).map((r) => [basename(r.filePath, '.ts'), r.messages.map((m) => m.ruleId)]),
    );
    expect(rulesByProbe).toEqual({
      'node-builtin': ['no-restricted-imports'],
      'zod-value': ['no-restricted-imports'],
      pino: ['no-restricted-imports'],
      'contract-value': ['no-restricted-imports'],
      'math-random': ['no-restricted-properties'],
      'set-timeout': ['no-restricted-globals'],
      'floating-promise': ['@typescript-eslint/no-floating-promises'],
      'type-import-allowed': [],
    });
  }, 120_000);
});
