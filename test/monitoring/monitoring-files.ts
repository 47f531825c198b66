/** deploy/monitoring as the tests read it: the alerting rules, the dashboard and their PromQL. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../../src/devstack/tools';

export const MONITORING_DIR = join(repoRoot(), 'deploy', 'monitoring');
export const PROMETHEUS_RULE_FILE = join(MONITORING_DIR, 'prometheus-rule.yaml');
export const DASHBOARD_FILE = join(MONITORING_DIR, 'grafana-dashboard.json');
/** The `promtool test rules` cases; they name the rules file `orchestrator.rules.yaml`, next to them. */
export const RULES_UNIT_TESTS_FILE = join(__dirname, 'orchestrator.rules.test.yaml');

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Prometheus rules file: what a PrometheusRule's `spec` is. */
export interface RulesFile {
  groups: { name: string; rules: AlertingRule[] }[];
}

export function prometheusRuleSpec(file = PROMETHEUS_RULE_FILE): RulesFile {
  return (parse(readFileSync(file, 'utf8')) as { spec: RulesFile }).spec;
}

export function alertingRules(): AlertingRule[] {
  return prometheusRuleSpec().groups.flatMap((group) => group.rules);
}

/**
 * Writes the PrometheusRule's spec as a plain rules file into `dir`, with the unit tests next to it,
 * and returns both paths: what promtool reads.
 */
export function writePromtoolFiles(dir: string): { rules: string; unitTests: string } {
  mkdirSync(dir, { recursive: true });
  const rules = join(dir, 'orchestrator.rules.yaml');
  const unitTests = join(dir, 'orchestrator.rules.test.yaml');
  writeFileSync(rules, stringify(prometheusRuleSpec()));
  copyFileSync(RULES_UNIT_TESTS_FILE, unitTests);
  return { rules, unitTests };
}

interface DashboardPanel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: DashboardPanel[];
}

interface Dashboard {
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query?: string | { query?: string } }[] };
}

export function dashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/**
 * Every PromQL expression the dashboard runs: its panels' queries (rows' own panels included) and
 * the series its variables read (`label_values(<series>, <label>)`).
 */
export function dashboardExpressions(board = dashboard()): string[] {
  const panels = (list: DashboardPanel[]): DashboardPanel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
  const targets = panels(board.panels).flatMap((p) => (p.targets ?? []).flatMap((t) => t.expr ?? []));
  const variables = board.templating.list.flatMap((v) => {
    const query = typeof v.query === 'string' ? v.query : v.query?.query;
    const series = v.type === 'query' && query ? /^label_values\((.+),\s*\w+\s*\)$/.exec(query)?.[1] : undefined;
    return series ?? [];
  });
  return [...targets, ...variables];
}
