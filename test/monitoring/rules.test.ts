/**
 * The alerting rules of deploy/monitoring/prometheus-rule.yaml through the real promtool: valid
 * (`promtool check rules`), and firing exactly when their unit tests say (`promtool test rules`,
 * orchestrator.rules.test.yaml). Each alert's runbook link lands on a section of docs/OPERATIONS.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot, requireTool } from '../../src/devstack/tools';
import { runCommand } from '../support/run-command';
import { alertingRules, RULES_UNIT_TESTS_FILE, writePromtoolFiles } from './monitoring-files';

const promtool = (...args: string[]) => runCommand(requireTool('promtool'), args, { timeoutMs: 30_000 });
let files: ReturnType<typeof writePromtoolFiles>;
beforeAll(() => {
  files = writePromtoolFiles(join(repoRoot(), '.cache', 'monitoring'));
});

describe('promtool check rules', () => {
  it('accepts the rules, lint warnings included', async () => {
    const run = await promtool('check', 'rules', '--lint-fatal', files.rules);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`SUCCESS: ${alertingRules().length} rules found`);
    expect(run.status).toBe(0);
  });

  it('refuses a rules file with an expression that does not parse', async () => {
    const run = await promtool('check', 'rules', '--lint-fatal', join(__dirname, 'fixtures', 'broken.rules.yaml'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      '"OrchestratorDlqGrowing": could not parse expression: 1:67: parse error: unclosed left parenthesis',
    );
  });
});

describe('promtool test rules', () => {
  it('fires each alert when, and only when, its unit tests expect it', async () => {
    const run = await promtool('test', 'rules', files.unitTests);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('has a case where each alert fires', () => {
    type UnitTests = { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const { tests } = parse(readFileSync(RULES_UNIT_TESTS_FILE, 'utf8')) as UnitTests;
    const firing = new Set(
      tests.flatMap((t) => t.alert_rule_test ?? []).flatMap((c) => (c.exp_alerts.length > 0 ? [c.alertname] : [])),
    );
    expect([...firing].sort()).toEqual(
      alertingRules()
        .map((r) => r.alert)
        .sort(),
    );
  });
});

describe('each alert', () => {
  const operations = readFileSync(join(repoRoot(), 'docs', 'OPERATIONS.md'), 'utf8');
  /** GitHub's anchor of a Markdown heading. */
  const anchor = (heading: string) =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-');
  const anchors = new Set([...operations.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));

  it.each(alertingRules().map((rule) => [rule.alert, rule] as const))(
    '%s waits, has a severity, says what happened and links its runbook',
    (_, rule) => {
      expect(rule.for).toMatch(/^\d+m$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations).toEqual({
        summary: expect.any(String),
        description: expect.any(String),
        runbook_url: `docs/OPERATIONS.md#${rule.alert.toLowerCase()}`,
      });
      expect(anchors).toContain(rule.alert.toLowerCase());
    },
  );
});
