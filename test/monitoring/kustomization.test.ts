/**
 * `kubectl apply -k deploy/monitoring`, as the real kustomize builds it: the PrometheusRule the
 * promtool tests check, and the dashboard in a ConfigMap that Grafana's sidecar picks up.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { requireTool } from '../../src/devstack/tools';
import { runCommand } from '../support/run-command';
import { DASHBOARD_FILE, MONITORING_DIR, prometheusRuleSpec } from './monitoring-files';

interface Built {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: unknown;
}

it('ships the alerting rules as a PrometheusRule and the dashboard as a ConfigMap for the Grafana sidecar', async () => {
  const run = await runCommand(requireTool('kustomize'), ['build', MONITORING_DIR], { timeoutMs: 30_000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const objects = parseAllDocuments(run.stdout).map((doc) => doc.toJS() as Built);
  expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
    'ConfigMap/orchestrator-grafana-dashboard',
    'PrometheusRule/orchestrator-alerts',
  ]);

  const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
  expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
  expect(rule.spec).toEqual(prometheusRuleSpec());

  const dashboard = objects.find((o) => o.kind === 'ConfigMap')!;
  expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
  expect(dashboard.data).toEqual({ 'agent-orchestrator.json': readFileSync(DASHBOARD_FILE, 'utf8') });
});
