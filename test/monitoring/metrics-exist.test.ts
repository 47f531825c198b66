/**
 * Every metric the dashboard and the alerting rules query is one the processes really export: a
 * real worker and bridge, one correlation through NATS (an agent missing, so every series has
 * samples), then their /metrics, until each queried name is there.
 */
import { WORKFLOW_BUNDLE_PATH } from '../support/paths';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishDemoCorrelation } from '../../src/devstack/demo';
import { bridgeProcess, workerProcess } from '../../src/devstack/local-stack';
import { getFreePort } from '../../src/devstack/processes';
import { waitFor } from '../support/e2e-stack';
import { useDevServerAndNats } from '../support/servers';
import { uniqueCorrId } from '../support/signals';
import { exportedSampleNames, metricNamesIn } from './metric-names';
import { alertingRules, dashboardExpressions } from './monitoring-files';

const servers = useDevServerAndNats();

it('exports every metric the dashboard and the alerting rules query, from the worker or the bridge', async () => {
  const logDir = mkdtempSync(join(tmpdir(), 'orch-monitoring-'));
  // The demo's momentum and risk report; sentiment never does, and is missing after 1 s.
  const policyFile = join(logDir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({ version: 'monitoring-1', expected_agents: ['momentum', 'risk', 'sentiment'], timeout_ms: 1_000 }),
  );
  const env = {
    TEMPORAL_ADDRESS: servers.temporal.address,
    NATS_URL: servers.nats.server.url,
    ORCH_POLICY_FILE: policyFile,
    ORCH_WORKFLOW_BUNDLE: WORKFLOW_BUNDLE_PATH,
  };
  const [workerPort, bridgePort] = [await getFreePort(), await getFreePort()];
  const worker = workerProcess({ ...env, ORCH_HTTP_PORT: String(workerPort) }, join(logDir, 'worker.log'));
  const bridge = bridgeProcess({ ...env, ORCH_HTTP_PORT: String(bridgePort) }, join(logDir, 'bridge.log'));
  try {
    await Promise.all([worker.start(), bridge.start()]);
    const decision = await publishDemoCorrelation(servers.nats.nc, servers.nats.js, uniqueCorrId('monitoring'), 30_000);
    expect(decision.missing_agents).toEqual(['sentiment']);

    const queried = [
      ...new Set([...dashboardExpressions(), ...alertingRules().map((r) => r.expr)].flatMap(metricNamesIn)),
    ];
    expect(queried.length).toBeGreaterThan(0);
    const scrape = async () => {
      const pages = await Promise.all(
        [workerPort, bridgePort].map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
      );
      const exported = new Set(pages.flatMap((page) => [...exportedSampleNames(page)]));
      return queried.filter((name) => !exported.has(name));
    };
    // The bridge reads the agents' circuit breakers about once a second, after the worker reported on them.
    const missing = await waitFor(
      'every queried metric',
      async () => ((await scrape()).length === 0 ? [] : undefined),
      15_000,
    ).catch(scrape);
    expect(missing).toEqual([]);
  } finally {
    await Promise.all([worker.stop(), bridge.stop()]);
  }
});
